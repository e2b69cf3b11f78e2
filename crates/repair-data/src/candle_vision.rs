//! MNIST, Fashion-MNIST and CIFAR-10 folders a user already has, read through
//! candle-datasets' `load_dir` functions (feature `candle-datasets`) and turned into a
//! [`Corpus`] like our own datasets (parts `train` and `test`).
//!
//! candle-datasets returns `f32` tensors scaled to [0, 1]; we scale back to `u8`
//! (exact: every value was `k / 255`) and store H × W × C like every other corpus.

use std::path::Path;

use candle_core::{DType, Tensor};

use crate::corpus::{Corpus, Part};
use crate::dataset::{ImageSet, ImageShape};
use crate::error::{DataError, Result};

/// An MNIST-format folder (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`): MNIST or Fashion-MNIST.
pub fn load_mnist_dir(dir: &Path, name: &str) -> Result<Corpus> {
    let d = candle_datasets::vision::mnist::load_dir(dir).map_err(|e| {
        DataError::invalid(
            dir,
            format!("candle-datasets could not read MNIST files: {e}"),
        )
    })?;
    let shape = ImageShape::new(1, 28, 28);
    let hwc = |t: &Tensor| t.reshape(((), 28, 28, 1));
    corpus(
        dir,
        name,
        shape,
        d.labels,
        [hwc(&d.train_images)?, hwc(&d.test_images)?],
        [d.train_labels, d.test_labels],
    )
}

/// A CIFAR-10 binary folder (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`).
pub fn load_cifar10_dir(dir: &Path) -> Result<Corpus> {
    let d = candle_datasets::vision::cifar::load_dir(dir).map_err(|e| {
        DataError::invalid(
            dir,
            format!("candle-datasets could not read CIFAR-10 files: {e}"),
        )
    })?;
    let shape = ImageShape::new(3, 32, 32);
    let hwc = |t: &Tensor| t.permute((0, 2, 3, 1));
    corpus(
        dir,
        "cifar10",
        shape,
        d.labels,
        [hwc(&d.train_images)?, hwc(&d.test_images)?],
        [d.train_labels, d.test_labels],
    )
}

fn corpus(
    dir: &Path,
    name: &str,
    shape: ImageShape,
    num_classes: usize,
    images: [Tensor; 2],
    labels: [Tensor; 2],
) -> Result<Corpus> {
    let mut pixels = Vec::new();
    let mut all_labels = Vec::new();
    let mut parts = Vec::new();
    for ((part, images), labels) in ["train", "test"].into_iter().zip(images).zip(labels) {
        let start = all_labels.len();
        let bytes = (images * 255.0)?
            .round()?
            .to_dtype(DType::U8)?
            .flatten_all()?
            .to_vec1::<u8>()?;
        pixels.extend(bytes);
        all_labels.extend(labels.to_dtype(DType::U8)?.to_vec1::<u8>()?);
        parts.push(Part {
            name: part.into(),
            range: start..all_labels.len(),
        });
    }
    if all_labels.is_empty() {
        return Err(DataError::Empty {
            path: dir.to_path_buf(),
        });
    }
    let set = ImageSet::new(pixels, all_labels, shape, num_classes)
        .map_err(|p| DataError::invalid(dir, format!("inconsistent images and labels: {p:?}")))?;
    Ok(Corpus::new(name, set, parts, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Dataset;

    fn idx(magic: u32, dims: &[u32], payload: &[u8]) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        for d in dims {
            v.extend(d.to_be_bytes());
        }
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn an_mnist_folder_written_here_reads_back_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let train: Vec<u8> = (0..3 * 784).map(|k| (k * 7 % 256) as u8).collect();
        let test: Vec<u8> = (0..2 * 784).map(|k| (k * 13 % 256) as u8).collect();
        let files = [
            ("train-images-idx3-ubyte", idx(2051, &[3, 28, 28], &train)),
            ("train-labels-idx1-ubyte", idx(2049, &[3], &[4, 9, 0])),
            ("t10k-images-idx3-ubyte", idx(2051, &[2, 28, 28], &test)),
            ("t10k-labels-idx1-ubyte", idx(2049, &[2], &[1, 1])),
        ];
        for (name, bytes) in &files {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let c = load_mnist_dir(dir.path(), "mnist").unwrap();
        assert_eq!(c.images().len(), 5);
        assert_eq!(c.images().image(2), &train[2 * 784..]);
        assert_eq!(c.images().image(3), &test[..784]);
        assert_eq!(c.images().labels(), vec![4, 9, 0, 1, 1]);
        assert_eq!(c.part("test").unwrap().range, 3..5);
    }

    #[test]
    fn a_cifar_folder_written_here_reads_back_as_hwc() {
        let dir = tempfile::tempdir().unwrap();
        // candle-datasets reads exactly 10,000 records per file.
        let record = |i: usize| -> Vec<u8> {
            let mut r = vec![(i % 10) as u8];
            // Plane p (R, G, B) holds 80·p + (position mod 61) + image index.
            r.extend((0..3072).map(|k| ((k / 1024 * 80 + k % 1024 % 61 + i) % 256) as u8));
            r
        };
        let file: Vec<u8> = (0..10_000).flat_map(record).collect();
        for name in [
            "data_batch_1.bin",
            "data_batch_2.bin",
            "data_batch_3.bin",
            "data_batch_4.bin",
            "data_batch_5.bin",
            "test_batch.bin",
        ] {
            std::fs::write(dir.path().join(name), &file).unwrap();
        }
        let c = load_cifar10_dir(dir.path()).unwrap();
        assert_eq!(c.images().len(), 60_000);
        assert_eq!(c.images().label(13), 3);
        // CIFAR stores planes (R plane, G plane, B plane); we interleave them per pixel.
        let img = c.images().image(1);
        assert_eq!(&img[..6], &[1, 81, 161, 2, 82, 162]);
    }

    #[test]
    fn a_missing_mnist_folder_is_a_clear_error() {
        let err = load_mnist_dir(Path::new("/nonexistent/mnist"), "mnist")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/nonexistent/mnist") && err.contains("MNIST"),
            "{err}"
        );
    }
}
