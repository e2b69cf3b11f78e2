//! Shared helpers for the criterion benchmarks in this folder.
#![deny(missing_docs)]

use std::path::PathBuf;

/// The dataset root (`gtsrb/`, `pneumonia/` below it) named by `EARLY_REPAIR_DATA`.
///
/// Benchmarks on real data need it; there is no built-in default path. Without it they
/// are skipped with a notice, so the other benchmarks still run.
pub fn data_root() -> Option<PathBuf> {
    let root = std::env::var_os("EARLY_REPAIR_DATA").map(PathBuf::from);
    if root.is_none() {
        eprintln!(
            "skipping the data benchmarks: set EARLY_REPAIR_DATA to the folder holding gtsrb/"
        );
    }
    root
}
