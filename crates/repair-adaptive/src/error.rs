//! Why an adaptive repair could not run.

/// What went wrong, from the config or from one of the parts it drives.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AdaptiveError {
    /// A setting is unusable.
    #[error("adaptive repair: {field} = {value}: {reason}")]
    Config {
        /// The setting.
        field: &'static str,
        /// Its value, as text.
        value: String,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// Fault localisation failed (in the phase named).
    #[error("adaptive repair, phase {phase}: {source}")]
    Localisation {
        /// 0-based phase.
        phase: usize,
        /// The localiser's error.
        source: repair_fl::FlError,
    },
    /// The problem is unusable (shapes, values, sites).
    #[error("adaptive repair: {0}")]
    Problem(#[from] repair_core::ProblemError),
    /// The search failed.
    #[error("adaptive repair: {0}")]
    Search(#[from] repair_pso::PsoError),
}
