//! Why a search could not run, naming the field or the individual.

/// What went wrong.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DeError {
    /// A configuration field holds an unusable value.
    #[error("DE config: {field} = {value}: {reason}")]
    Config {
        /// The field.
        field: &'static str,
        /// Its value, as text.
        value: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The objective expects another number of coordinates.
    #[error("DE config has {config} dimensions, the objective {objective}")]
    Dimension {
        /// The config's.
        config: usize,
        /// The objective's.
        objective: usize,
    },
    /// The objective returned NaN or an infinity.
    #[error("the objective scored individual {individual} {score} in generation {generation:?} (None: the first population)")]
    NonFiniteScore {
        /// 0-based generation; `None` for the first population.
        generation: Option<usize>,
        /// Individual index.
        individual: usize,
        /// The score.
        score: f64,
    },
}
