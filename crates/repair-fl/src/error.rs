//! Why a localisation could not run.

/// A fault-localisation error naming the value at fault.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FlError {
    /// The layer or the inputs are inconsistent (shapes, NaN, labels).
    #[error("fault localisation: {0}")]
    Problem(#[from] repair_core::ProblemError),
    /// There are no negative inputs: nothing to localise.
    #[error("fault localisation: no negative inputs, nothing to repair")]
    NoNegatives,
    /// A setting is unusable.
    #[error("fault localisation: {0}")]
    Config(String),
}
