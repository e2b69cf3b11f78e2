//! Errors of the pipeline stages, wrapping the crates' own.

use std::path::{Path, PathBuf};

/// Why a pipeline stage failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Data loading or splitting.
    #[error(transparent)]
    Data(#[from] repair_data::DataError),
    /// Model building, loading or inference.
    #[error(transparent)]
    Zoo(#[from] repair_zoo::ZooError),
    /// Tensor operation.
    #[error("tensor operation: {0}")]
    Tensor(#[from] candle_core::Error),
    /// Training, or a training run's files (checkpoint sidecars).
    #[error(transparent)]
    Train(#[from] repair_train::TrainError),
    /// A repair: its repair sets, fault localisation or search (repair-method wraps the
    /// FL, PSO, DE and adaptive crates' errors).
    #[error(transparent)]
    Method(#[from] repair_method::MethodError),
    /// The repair problem.
    #[error(transparent)]
    Problem(#[from] repair_core::ProblemError),
    /// A file could not be read or written.
    #[error("{path}: {problem}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        problem: String,
    },
    /// A request that cannot be served (class out of range, ...).
    #[error("{0}")]
    Invalid(String),
}

/// Pipeline result.
pub type Result<T> = std::result::Result<T, PipelineError>;

/// The one constructor of [`PipelineError::File`]: the file, and what went wrong with it.
/// A problem that already starts with the file's name (a lower crate's error naming the
/// same file) does not name it twice.
pub fn file_error(path: &Path, problem: impl std::fmt::Display) -> PipelineError {
    let problem = problem.to_string();
    let named = format!("{}: ", path.display());
    PipelineError::File {
        path: path.to_path_buf(),
        problem: problem
            .strip_prefix(&named)
            .map_or(problem.clone(), str::to_string),
    }
}
