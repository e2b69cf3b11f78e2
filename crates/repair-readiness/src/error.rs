//! Errors of the readiness analysis, naming the value or series at fault.

/// Why a series could not be evaluated.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReadinessError {
    /// α outside [0, 1].
    #[error("alpha {0} is outside [0, 1]")]
    Alpha(f64),
    /// A series that cannot be simulated epoch by epoch.
    #[error("{series}: {problem}")]
    Series {
        /// Which run and class.
        series: String,
        /// What is wrong.
        problem: String,
    },
    /// A figure could not be drawn.
    #[error("figure: {0}")]
    Figure(String),
}
