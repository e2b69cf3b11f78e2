//! `data import gtsrb`: the official GTSRB layout (what `data fetch gtsrb` unpacks:
//! full-resolution PPMs and ground-truth CSVs) packed into the layout every tool loads
//! (`datasets/gtsrb.toml`: 32×32 RGB `u8` images, labels, `train_meta.csv` with each
//! training image's track, `GT-final_test.csv`).
//!
//! The images go through the study's preprocessing ([`Preprocess::study`]: histogram
//! equalisation of the HSV value channel, centre crop, resize to 32×32; the study's
//! `gtsrb` loader does the same with OpenCV before training).

use std::path::Path;

use crate::atomic::write_atomic;
use crate::corpus::Corpus;
use crate::error::Result;
use crate::gt_csv::gt_csv_bytes;
use crate::gtsrb::GTSRB_SHAPE;
use crate::manifest::Manifest;
use crate::official::read_gtsrb_official;
use crate::preprocess::Preprocess;

/// Reads the official layout under `from`, preprocesses every image with `preprocess`
/// (the study's: [`Preprocess::study`] at 32), and writes the packed layout of
/// `manifest` (GTSRB's) into `out`, each file atomically. Returns the corpus written.
pub fn import_gtsrb_official(
    manifest: &Manifest,
    from: &Path,
    out: &Path,
    preprocess: &Preprocess,
) -> Result<Corpus> {
    let official = read_gtsrb_official(from, preprocess)?;
    manifest.write_packed(&official.corpus, out)?;
    write_atomic(
        &out.join("train_meta.csv"),
        &gt_csv_bytes(&official.train_meta),
    )?;
    write_atomic(
        &out.join("GT-final_test.csv"),
        &gt_csv_bytes(&official.test_meta),
    )?;
    Ok(official.corpus)
}

/// The study's preprocessing at the packed GTSRB size.
pub fn gtsrb_study_preprocess() -> Preprocess {
    Preprocess::study(GTSRB_SHAPE.height)
}
