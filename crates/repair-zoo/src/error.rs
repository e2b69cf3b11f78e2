//! Errors of the model zoo; each names the model, file or tensor at fault.

use std::path::PathBuf;

/// What can go wrong building, running, saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ZooError {
    /// No model of that name.
    #[error("unknown model `{name}` (known: {known})")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The names we have.
        known: String,
    },
    /// A model that cannot take this input shape or class count.
    #[error("model `{model}`: {problem}")]
    Unsupported {
        /// The model.
        model: String,
        /// Why.
        problem: String,
    },
    /// A weights file that does not fit the model.
    #[error("{}: {problem}", path.display())]
    Weights {
        /// The safetensors file.
        path: PathBuf,
        /// What is missing or mis-shaped.
        problem: String,
    },
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Shorthand for this crate's results.
pub type Result<T, E = ZooError> = std::result::Result<T, E>;
