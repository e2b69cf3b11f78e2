//! Atomic file writes with this crate's error: [`repair_core::write_atomic`] (temp
//! file, fsync, rename, fsync of the folder), the file named in the error.

use std::path::Path;

use crate::error::{DataError, Result};

/// Writes `bytes` to `path` atomically ([`repair_core::write_atomic`]). Creates
/// missing parent folders.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    repair_core::write_atomic(path, bytes).map_err(|e| DataError::io(path, e))
}
