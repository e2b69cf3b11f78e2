//! Why an ONNX model could not be read, run, repaired or written.

use std::path::PathBuf;

/// Why an ONNX model could not be used; every error names the file.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The file, or its graph, is not one this crate can repair.
    #[error("{path}: {problem}")]
    File {
        /// The ONNX file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}
