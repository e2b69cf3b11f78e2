//! Why a repair failed, wrapping the lower crates' errors.

/// Why a repair failed.
#[derive(Debug, thiserror::Error)]
pub enum MethodError {
    /// Fault localisation.
    #[error(transparent)]
    Fl(#[from] repair_fl::FlError),
    /// The PSO.
    #[error(transparent)]
    Pso(#[from] repair_pso::PsoError),
    /// The DE search.
    #[error(transparent)]
    De(#[from] repair_de::DeError),
    /// The adaptive search.
    #[error(transparent)]
    Adaptive(#[from] repair_adaptive::AdaptiveError),
    /// The repair problem (shapes, labels, non-finite values, sites).
    #[error(transparent)]
    Problem(#[from] repair_core::ProblemError),
    /// A problem file could not be read, or is not a problem.
    #[error("{path}: {problem}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A method asked for with a search it cannot use.
    #[error("method `{method}` cannot use the search `{search}`: {}", why_not(*method))]
    SearchNotForMethod {
        /// The method.
        method: repair_core::MethodName,
        /// The search asked for.
        search: repair_core::Search,
    },
    /// A request that cannot be served (class out of range, no positives, ...).
    #[error("{0}")]
    Invalid(String),
}

/// Why `method` takes only some searches.
fn why_not(method: repair_core::MethodName) -> &'static str {
    match method {
        repair_core::MethodName::De => "it searches with DE (leave the search out)",
        _ => "it searches in PSO phases (the search `arachne` or `canonical`)",
    }
}

/// Result of a repair.
pub type Result<T> = std::result::Result<T, MethodError>;
