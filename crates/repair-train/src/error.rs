//! Errors of the trainer; each names the epoch, batch or file at fault.

use std::path::PathBuf;

/// What can stop a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss became NaN or infinite; the last good checkpoint and state are kept.
    #[error("loss is {loss} at epoch {epoch}, batch {batch}; training stopped, the last good checkpoint is kept")]
    NonFiniteLoss {
        /// 1-based epoch.
        epoch: usize,
        /// 0-based batch within the epoch.
        batch: usize,
        /// The value.
        loss: f32,
    },
    /// Saved training state that belongs to another configuration.
    #[error("{}: saved state is for config {found}, this run's config is {expected}; use another --out or delete the folder", path.display())]
    ConfigMismatch {
        /// The state file.
        path: PathBuf,
        /// This run's config hash.
        expected: String,
        /// The saved one.
        found: String,
    },
    /// A file could not be read or written, or is malformed.
    #[error("{}: {problem}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        problem: String,
    },
    /// A bad setting.
    #[error("invalid training config: {0}")]
    Config(String),
    /// The model.
    #[error(transparent)]
    Zoo(#[from] repair_zoo::ZooError),
    /// The data.
    #[error(transparent)]
    Data(#[from] repair_data::DataError),
    /// A tensor operation.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Shorthand for this crate's results.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
