//! Where the real shared data lives for tests: `EARLY_REPAIR_DATA`, or else the
//! workplace's `shared/datasets` beside the repository. Missing data fails the test
//! with instructions; it never silently skips.

use std::path::PathBuf;

pub fn data_root() -> PathBuf {
    let root = std::env::var_os("EARLY_REPAIR_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
        });
    assert!(
        root.join("gtsrb").is_dir(),
        "real data not found at {}: set EARLY_REPAIR_DATA to the folder holding gtsrb/ and pneumonia/",
        root.display()
    );
    root
}
