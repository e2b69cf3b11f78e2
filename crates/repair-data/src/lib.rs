//! Data for early repair: real GTSRB and PneumoniaMNIST, seeded train / val / repair /
//! test splits, and mini-batches as candle tensors.
//!
//! * [`Dataset`] is the narrow trait every later stage reads: length, class count, image
//!   shape, image and label of item i. [`ImageSet`] holds pixels in memory;
//!   [`Subset`] is an index-list view that shares them.
//! * A [`Corpus`] is all official images of a dataset with the official parts as
//!   ranges. Loaders: [`load_gtsrb`] and [`load_pneumonia`] (packed `u8` files),
//!   [`load_gtsrb_official`] (official PPM folders, with the study's optional
//!   [`Preprocess`]), with feature `rsna` `load_rsna_official` (RSNA Pneumonia's
//!   official DICOM layout), and with feature `candle-datasets`, `load_mnist_dir` and
//!   `load_cifar10_dir`. [`Corpus::resized`] brings images to a model's input size.
//! * [`Split`] cuts a corpus by a [`SplitConfig`] (the study's rule, by track, or the
//!   official parts), and saves / reloads it with the corpus checksum.
//! * [`Manifest`] describes a dataset (`datasets/*.toml`) and checks a data folder.
//! * [`Batcher`] yields seeded, per-epoch-shuffled `f32` N × C × H × W batches.
//!
//! ```no_run
//! use repair_data::{load_gtsrb, Batcher, Dataset, Split, SplitConfig, SplitPart};
//! # fn main() -> Result<(), repair_data::DataError> {
//! let corpus = load_gtsrb("path/to/gtsrb".as_ref())?;
//! let split = Split::make(&corpus, &SplitConfig::study("gtsrb", 42))?;
//! let train = split.view(&corpus, SplitPart::Train);
//! assert_eq!(train.len(), 21_958);
//! for batch in Batcher::new(&train, 128, 42).epoch(0) {
//!     let batch = batch?; // batch.images: (128, 3, 32, 32) f32
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod atomic;
mod batch;
#[cfg(feature = "candle-datasets")]
mod candle_vision;
mod corpus;
mod dataset;
mod error;
mod fetch;
mod gt_csv;
mod gtsrb;
mod import;
mod manifest;
mod official;
mod packed;
mod pneumonia;
mod ppm;
mod preprocess;
#[cfg(feature = "rsna")]
mod rsna;
mod split;
mod subsample;

pub use atomic::write_atomic;
pub use batch::{Batch, Batcher, Normalisation};
#[cfg(feature = "candle-datasets")]
pub use candle_vision::{load_cifar10_dir, load_mnist_dir};
pub use corpus::{Corpus, Part};
pub use dataset::{Dataset, ImageSet, ImageSetProblem, ImageShape, Subset};
pub use error::{DataError, Result};
pub use fetch::{fetch_official, DownloadError, Downloader, FileUrls};
pub use gt_csv::{read_gt_csv, GtRow};
pub use gtsrb::load_gtsrb;
pub use import::{gtsrb_study_preprocess, import_gtsrb_official};
pub use manifest::{
    sha256_file, Archive, CheckReport, ClassInfo, ClassRow, FileCheck, Manifest, ManifestFile,
    ManifestPart,
};
pub use official::{load_gtsrb_official, OfficialGtsrb};
pub use packed::PackedPart;
pub use pneumonia::load_pneumonia;
pub use ppm::{read_ppm, RgbImage};
pub use preprocess::{resize, Preprocess};
#[cfg(feature = "rsna")]
pub use rsna::{
    load_rsna_official, load_rsna_official_with, read_dicom_grey, read_rsna_labels, RsnaPatient,
    RSNA_IMAGES, RSNA_LABELS,
};
pub use split::{Split, SplitConfig, SplitPart, SplitRule};
pub use subsample::{check_classes_kept, stratified_subset};
