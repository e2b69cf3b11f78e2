//! Reader of the packed layout: header-less `u8` image files (`[N][H][W][C]`) with one
//! `u8` label per image in a separate file (see `datasets/*.toml` and the data READMEs).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

#[cfg(doc)]
use crate::corpus::Corpus;
use crate::corpus::Part;
use crate::dataset::{ImageSet, ImageShape};
use crate::error::{DataError, Result};

/// One official part in packed form: its name and its two files.
#[derive(Debug, Clone)]
pub struct PackedPart {
    /// Official part name (`train`, `val`, `test`).
    pub name: String,
    /// The image file.
    pub images: PathBuf,
    /// The label file.
    pub labels: PathBuf,
}

/// Reads packed parts, in order, straight into one buffer (no copy); returns the images
/// and each part's range, ready for [`Corpus::new`].
///
/// Checks, each with an error naming the file: the file exists and is readable; its
/// length is a whole number of images; label and image counts agree; every label is
/// below `num_classes`; the corpus is not empty.
pub fn read_packed(
    parts: &[PackedPart],
    shape: ImageShape,
    num_classes: usize,
) -> Result<(ImageSet, Vec<Part>)> {
    let image_bytes = shape.len();
    let mut counts = Vec::with_capacity(parts.len());
    for part in parts {
        let size = std::fs::metadata(&part.images)
            .map_err(|e| DataError::io(&part.images, e))?
            .len();
        if size % image_bytes as u64 != 0 {
            return Err(DataError::SizeNotMultiple {
                path: part.images.clone(),
                size,
                image_bytes,
            });
        }
        counts.push((size / image_bytes as u64) as usize);
    }
    let total: usize = counts.iter().sum();
    let mut pixels = Vec::with_capacity(total * image_bytes);
    let mut labels = Vec::with_capacity(total);
    let mut ranges = Vec::with_capacity(parts.len());
    for (part, &count) in parts.iter().zip(&counts) {
        let start = labels.len();
        read_into(&part.images, &mut pixels, count * image_bytes)?;
        read_into(&part.labels, &mut labels, usize::MAX)?;
        let found = labels.len() - start;
        if found != count {
            return Err(DataError::LabelCountMismatch {
                labels_path: part.labels.clone(),
                labels: found,
                images_path: part.images.clone(),
                images: count,
            });
        }
        if let Some(i) = labels[start..]
            .iter()
            .position(|&l| l as usize >= num_classes)
        {
            return Err(DataError::LabelOutOfRange {
                path: part.labels.clone(),
                index: i,
                label: labels[start + i] as u64,
                num_classes,
            });
        }
        ranges.push(Part {
            name: part.name.clone(),
            range: start..start + count,
        });
    }
    if total == 0 {
        let path = parts.first().map(|p| p.images.clone()).unwrap_or_default();
        return Err(DataError::Empty { path });
    }
    let images = ImageSet::new(pixels, labels, shape, num_classes)
        .expect("the packed reader checked sizes and labels above");
    Ok((images, ranges))
}

/// Appends the bytes of `path` to `buf`; more than `expected` bytes (a file that grew
/// while we read it) is an error too.
fn read_into(path: &Path, buf: &mut Vec<u8>, expected: usize) -> Result<()> {
    let before = buf.len();
    File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .map_err(|e| DataError::io(path, e))?;
    let read = buf.len() - before;
    if expected != usize::MAX && read != expected {
        return Err(DataError::invalid(
            path,
            format!("expected {expected} bytes, read {read} (file changed while reading?)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Dataset;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn part(dir: &Path, images: &[u8], labels: &[u8]) -> PackedPart {
        PackedPart {
            name: "train".into(),
            images: write(dir, "img.u8", images),
            labels: write(dir, "lab.u8", labels),
        }
    }

    const SHAPE: ImageShape = ImageShape::new(1, 2, 2);

    #[test]
    fn reads_generated_packed_files() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (0..12).collect();
        let p = part(dir.path(), &pixels, &[1, 0, 1]);
        let (images, parts) = read_packed(&[p], SHAPE, 2).unwrap();
        assert_eq!(images.len(), 3);
        assert_eq!(images.image(2), &[8, 9, 10, 11]);
        assert_eq!(parts[0].range, 0..3);
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = PackedPart {
            name: "train".into(),
            images: dir.path().join("nope.u8"),
            labels: dir.path().join("nope_labels.u8"),
        };
        let err = read_packed(&[p], SHAPE, 2).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        assert!(err.to_string().contains("nope.u8"), "{err}");
    }

    #[test]
    fn a_truncated_image_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = part(dir.path(), &[0; 11], &[0, 0, 0]);
        let err = read_packed(&[p], SHAPE, 2).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("img.u8") && msg.contains("not a multiple"),
            "{msg}"
        );
    }

    #[test]
    fn label_and_image_counts_must_agree() {
        let dir = tempfile::tempdir().unwrap();
        let p = part(dir.path(), &[0; 12], &[0, 0]);
        let err = read_packed(&[p], SHAPE, 2).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::LabelCountMismatch {
                    labels: 2,
                    images: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("lab.u8 holds 2 labels"), "{err}");
    }

    #[test]
    fn a_label_beyond_the_classes_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = part(dir.path(), &[0; 12], &[0, 1, 2]);
        let err = read_packed(&[p], SHAPE, 2).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::LabelOutOfRange {
                    index: 2,
                    label: 2,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn an_empty_dataset_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = part(dir.path(), &[], &[]);
        let err = read_packed(&[p], SHAPE, 2).unwrap_err();
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
    }
}
