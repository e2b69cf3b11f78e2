//! Property tests of repair-data's parsers of outside files: a
//! damaged PPM, GT/meta CSV, packed image or label file, or split JSON — truncated,
//! bit-flipped, with bytes inserted or replaced — gives a value or an error naming the
//! file, never a panic.

#[path = "../../../fixtures/mutations.rs"]
mod mutations;

use std::path::{Path, PathBuf};

use mutations::{apply, config, mutations, names_file};
use proptest::prelude::*;
use repair_data::{
    load_pneumonia, read_gt_csv, read_ppm, Corpus, ImageSet, ImageShape, Part, Split, SplitConfig,
};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn ppm() -> Vec<u8> {
    let mut bytes = b"P6\n# a comment\n3 2\n255\n".to_vec();
    bytes.extend((0..18).map(|i| (i * 13) as u8));
    bytes
}

const GT_CSV: &str = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\r\n\
00000_00000.ppm;29;30;5;6;24;25;0\r\n00000_00001.ppm;30;30;5;5;25;25;0\r\n\
00001/00000_00002.ppm;31;33;6;5;26;28;1\r\n";

/// 40 grey 2 × 2 images of 2 classes, as one "train" part.
fn corpus() -> Corpus {
    let labels: Vec<u8> = (0..40).map(|i| (i % 2) as u8).collect();
    let pixels: Vec<u8> = (0..160).map(|i| i as u8).collect();
    let images = ImageSet::new(pixels, labels, ImageShape::new(1, 2, 2), 2).unwrap();
    let parts = vec![Part {
        name: "train".into(),
        range: 0..40,
    }];
    Corpus::new("pneumonia", images, parts, None)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_damaged_ppm(m in mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "sign.ppm", &apply(&ppm(), &m));
        if let Err(e) = read_ppm(&path) {
            names_file(&e.to_string(), &path)?;
        }
    }

    #[test]
    fn a_damaged_gt_csv(m in mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "GT-00000.csv", &apply(GT_CSV.as_bytes(), &m));
        if let Err(e) = read_gt_csv(&path) {
            names_file(&e.to_string(), &path)?;
        }
    }

    #[test]
    fn damaged_packed_files(m in mutations(), which in 0..6usize) {
        // PneumoniaMNIST's packed layout, 2 images of 28 × 28 per part; one file damaged.
        let dir = tempfile::tempdir().unwrap();
        let mut names = Vec::new();
        for part in ["train", "val", "test"] {
            names.push((format!("{part}_28x28_gray.u8"), vec![7u8; 2 * 784]));
            names.push((format!("{part}_labels.u8"), vec![0u8, 1]));
        }
        for (k, (name, bytes)) in names.iter().enumerate() {
            let bytes = if k == which { apply(bytes, &m) } else { bytes.clone() };
            write(dir.path(), name, &bytes);
        }
        if let Err(e) = load_pneumonia(dir.path()) {
            names_file(&e.to_string(), &dir.path().join(&names[which].0))?;
        }
    }

    #[test]
    fn a_damaged_split_file(m in mutations()) {
        let corpus = corpus();
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.json");
        Split::make(&corpus, &SplitConfig::study("pneumonia", 3)).unwrap().save(&good).unwrap();
        let path = write(dir.path(), "split.json", &apply(&std::fs::read(&good).unwrap(), &m));
        if let Err(e) = Split::load(&path, &corpus) {
            names_file(&e.to_string(), &path)?;
        }
        if let Err(e) = Split::dataset_of(&path) {
            names_file(&e.to_string(), &path)?;
        }
    }
}
