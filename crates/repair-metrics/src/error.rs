//! Errors of the metrics, naming the value at fault.

/// Why a metric could not be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricsError {
    /// Labels and predictions differ in number.
    #[error("{labels} labels but {predictions} predictions")]
    Length {
        /// Labels.
        labels: usize,
        /// Predictions.
        predictions: usize,
    },
    /// A class outside 0..classes.
    #[error("row {row}: class {class} is unknown (there are {classes} classes)")]
    UnknownClass {
        /// Row.
        row: usize,
        /// The class.
        class: u32,
        /// Number of classes.
        classes: usize,
    },
    /// α outside [0, 1].
    #[error("alpha {0} is outside [0, 1]")]
    Alpha(f64),
    /// A results file is unreadable or malformed.
    #[error("{path}: {problem}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong (with the line).
        problem: String,
    },
    /// CSV writing failed.
    #[error("csv: {0}")]
    Csv(String),
    /// Inputs a metric cannot be computed from.
    #[error("{0}")]
    Invalid(String),
}
