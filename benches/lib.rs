//! Shared helpers for the criterion benchmarks in this folder.
#![deny(missing_docs)]

use std::path::PathBuf;

/// The dataset root (`gtsrb/`, `pneumonia/` below it) named by `EARLY_REPAIR_DATA`.
///
/// Benchmarks on real data need it; there is no built-in default path.
pub fn data_root() -> PathBuf {
    std::env::var_os("EARLY_REPAIR_DATA")
        .map(PathBuf::from)
        .expect("set EARLY_REPAIR_DATA to the folder holding gtsrb/ and pneumonia/")
}
