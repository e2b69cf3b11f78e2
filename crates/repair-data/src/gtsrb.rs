//! GTSRB in the packed layout of the shared data folder: `train_32x32_rgb.u8`,
//! `train_labels.u8`, `train_meta.csv` (official GT rows, one per training image, giving
//! each image's track), `test_32x32_rgb.u8`, `test_labels.u8`.

use std::collections::HashMap;
use std::path::Path;

use crate::corpus::Corpus;
use crate::dataset::{Dataset, ImageShape};
use crate::error::{DataError, Result};
use crate::gt_csv::{read_gt_csv, GtRow};
use crate::packed::{read_packed, PackedPart};

/// Number of GTSRB classes.
pub const GTSRB_CLASSES: usize = 43;

/// Shape of the packed GTSRB images.
pub const GTSRB_SHAPE: ImageShape = ImageShape::new(3, 32, 32);

/// Loads packed GTSRB from `dir` as a corpus with parts `train` (39,209) and `test`
/// (12,630), and the track of every training image as its group (test images each get
/// a group of their own: the official test set has no track ids).
///
/// `train_meta.csv` must have one row per training image whose `ClassId` equals the
/// label; otherwise the meta file and the label file disagree and we refuse both.
pub fn load_gtsrb(dir: &Path) -> Result<Corpus> {
    let parts = ["train", "test"].map(|name| PackedPart {
        name: name.to_string(),
        images: dir.join(format!("{name}_32x32_rgb.u8")),
        labels: dir.join(format!("{name}_labels.u8")),
    });
    let (images, parts) = read_packed(&parts, GTSRB_SHAPE, GTSRB_CLASSES)?;
    let meta_path = dir.join("train_meta.csv");
    let meta = read_gt_csv(&meta_path)?;
    let n_train = parts[0].range.len();
    let mut groups = track_groups(&meta_path, &meta, &images.raw_labels()[..n_train])?;
    add_singleton_groups(&mut groups, images.len() - n_train);
    Ok(Corpus::new("gtsrb", images, parts, Some(groups)))
}

/// Group id per training image: images of one physical sign (class folder + track
/// number `TTTTT` of `TTTTT_IIIII.ppm`) share an id; ids count up in file order.
pub(crate) fn track_groups(path: &Path, rows: &[GtRow], labels: &[u8]) -> Result<Vec<u32>> {
    if rows.len() != labels.len() {
        return Err(DataError::invalid(
            path,
            format!(
                "{} rows, but there are {} training images",
                rows.len(),
                labels.len()
            ),
        ));
    }
    let mut ids: HashMap<(u32, u32), u32> = HashMap::new();
    let mut groups = Vec::with_capacity(rows.len());
    for (i, (row, &label)) in rows.iter().zip(labels).enumerate() {
        let line = i as u64 + 2;
        if row.class_id != label as u32 {
            return Err(DataError::Csv {
                path: path.to_path_buf(),
                line,
                problem: format!("ClassId {} but the label file says {label}", row.class_id),
            });
        }
        let track = track_of(&row.filename).ok_or_else(|| DataError::Csv {
            path: path.to_path_buf(),
            line,
            problem: format!("`{}` is not a TTTTT_IIIII.ppm file name", row.filename),
        })?;
        let next = ids.len() as u32;
        groups.push(*ids.entry((row.class_id, track)).or_insert(next));
    }
    Ok(groups)
}

/// Appends `count` groups of one image each (test images have no track ids).
pub(crate) fn add_singleton_groups(groups: &mut Vec<u32>, count: usize) {
    let first = groups.iter().max().map_or(0, |g| g + 1);
    groups.extend((0..count).map(|i| first + i as u32));
}

/// The track number of `[000CC/]TTTTT_IIIII.ppm`.
fn track_of(filename: &str) -> Option<u32> {
    let stem = filename.rsplit('/').next()?.strip_suffix(".ppm")?;
    let (track, frame) = stem.split_once('_')?;
    frame.parse::<u32>().ok()?;
    track.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_numbers_come_from_the_file_name() {
        assert_eq!(track_of("00000/00012_00029.ppm"), Some(12));
        assert_eq!(track_of("00003_00001.ppm"), Some(3));
        assert_eq!(track_of("00003.ppm"), None);
        assert_eq!(track_of("x_y.ppm"), None);
    }
}
