//! GTSRB in its official folder layout, as unpacked from the official archives:
//!
//! ```text
//! GTSRB/Final_Training/Images/000CC/GT-000CC.csv + TTTTT_IIIII.ppm   (CC = 00..42)
//! GTSRB/Final_Test/Images/NNNNN.ppm
//! GT-final_test.csv   (in Final_Test/, Final_Test/Images/ or the GTSRB folder)
//! ```
//!
//! Images are decoded in parallel and passed through a [`Preprocess`]; the corpus has
//! the same parts, order and groups as the packed loader ([`crate::load_gtsrb`]).

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::corpus::{Corpus, Part};
use crate::dataset::{ImageSet, ImageShape};
use crate::error::{DataError, Result};
use crate::gt_csv::{read_gt_csv, GtRow};
use crate::gtsrb::{add_singleton_groups, track_groups, GTSRB_CLASSES};
use crate::ppm::{read_ppm, RgbImage};
use crate::preprocess::Preprocess;

/// Loads the official layout under `root` (the `GTSRB` folder, or a folder holding
/// it). Training images come class by class in CSV row order, test images in the row
/// order of `GT-final_test.csv`, exactly as in the packed files.
pub fn load_gtsrb_official(root: &Path, preprocess: &Preprocess) -> Result<Corpus> {
    Ok(read_gtsrb_official(root, preprocess)?.corpus)
}

/// The official layout read whole: the corpus and the ground-truth rows behind it.
#[derive(Debug, Clone)]
pub struct OfficialGtsrb {
    /// The images, as [`load_gtsrb_official`] returns them.
    pub corpus: Corpus,
    /// One row per training image, in corpus order, its `Filename` with the class
    /// folder (`00000/00000_00000.ppm`): the packed layout's `train_meta.csv`.
    pub train_meta: Vec<GtRow>,
    /// The rows of `GT-final_test.csv`, in corpus order.
    pub test_meta: Vec<GtRow>,
}

/// [`load_gtsrb_official`], keeping the ground-truth rows (what `data import gtsrb`
/// writes beside the packed images).
pub fn read_gtsrb_official(root: &Path, preprocess: &Preprocess) -> Result<OfficialGtsrb> {
    let root = if root.join("GTSRB").join("Final_Training").is_dir() {
        root.join("GTSRB")
    } else {
        root.to_path_buf()
    };
    let train_dir = root.join("Final_Training").join("Images");
    if !train_dir.is_dir() {
        return Err(DataError::io(
            &train_dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "folder not found"),
        ));
    }
    let mut train_files = Vec::new();
    let mut train_rows = Vec::new();
    let mut train_labels = Vec::new();
    for class in 0..GTSRB_CLASSES {
        let folder = train_dir.join(format!("{class:05}"));
        if !folder.is_dir() {
            continue;
        }
        let csv = folder.join(format!("GT-{class:05}.csv"));
        for (i, row) in read_gt_csv(&csv)?.into_iter().enumerate() {
            if row.class_id as usize != class {
                return Err(DataError::Csv {
                    path: csv,
                    line: i as u64 + 2,
                    problem: format!("ClassId {} in the folder of class {class}", row.class_id),
                });
            }
            train_files.push(folder.join(&row.filename));
            train_labels.push(class as u8);
            train_rows.push(GtRow {
                filename: format!("{class:05}/{}", row.filename),
                ..row
            });
        }
    }
    let test_csv = find_test_csv(&root)?;
    let test_dir = root.join("Final_Test").join("Images");
    let test_rows = read_gt_csv(&test_csv)?;
    let mut test_files = Vec::with_capacity(test_rows.len());
    let mut test_labels = Vec::with_capacity(test_rows.len());
    for (i, row) in test_rows.iter().enumerate() {
        test_labels.push(checked_label(&test_csv, i, row)?);
        test_files.push(test_dir.join(&row.filename));
    }

    let n_train = train_files.len();
    let files: Vec<PathBuf> = train_files.into_iter().chain(test_files).collect();
    if files.is_empty() {
        return Err(DataError::Empty { path: root });
    }
    let images: Vec<RgbImage> = files
        .par_iter()
        .map(|path| read_ppm(path).map(|img| preprocess.apply(img)))
        .collect::<Result<_>>()?;
    let (height, width) = (images[0].height, images[0].width);
    let mut pixels = Vec::with_capacity(images.len() * height * width * 3);
    for (img, path) in images.iter().zip(&files) {
        if (img.height, img.width) != (height, width) {
            return Err(DataError::Ppm {
                path: path.clone(),
                problem: format!(
                    "is {}×{} after preprocessing but {} is {width}×{height}; \
                     choose a resize so that all images share one size",
                    img.width,
                    img.height,
                    files[0].display()
                ),
            });
        }
        pixels.extend_from_slice(&img.pixels);
    }

    let mut groups = track_groups(&train_dir, &train_rows, &train_labels)?;
    add_singleton_groups(&mut groups, test_labels.len());
    let n_total = files.len();
    let labels: Vec<u8> = train_labels.into_iter().chain(test_labels).collect();
    let shape = ImageShape::new(3, height, width);
    let images = ImageSet::new(pixels, labels, shape, GTSRB_CLASSES)
        .expect("sizes and labels were checked while reading");
    let parts = vec![
        Part {
            name: "train".into(),
            range: 0..n_train,
        },
        Part {
            name: "test".into(),
            range: n_train..n_total,
        },
    ];
    Ok(OfficialGtsrb {
        corpus: Corpus::new("gtsrb", images, parts, Some(groups)),
        train_meta: train_rows,
        test_meta: test_rows,
    })
}

fn checked_label(csv: &Path, row_index: usize, row: &GtRow) -> Result<u8> {
    if (row.class_id as usize) < GTSRB_CLASSES {
        Ok(row.class_id as u8)
    } else {
        Err(DataError::LabelOutOfRange {
            path: csv.to_path_buf(),
            index: row_index,
            label: row.class_id as u64,
            num_classes: GTSRB_CLASSES,
        })
    }
}

/// The test ground truth ships in a separate archive; users unpack it in one of
/// three places.
fn find_test_csv(root: &Path) -> Result<PathBuf> {
    let candidates = [
        root.join("Final_Test").join("GT-final_test.csv"),
        root.join("Final_Test")
            .join("Images")
            .join("GT-final_test.csv"),
        root.join("GT-final_test.csv"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            DataError::io(
            &candidates[0],
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "GT-final_test.csv not found here, in Final_Test/Images/ or in the GTSRB folder \
                 (it comes in GTSRB_Final_Test_GT.zip)",
            ),
        )
        })
}
