//! Errors of the optimiser, each naming the value at fault.

/// Why a search could not start or continue.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PsoError {
    /// A configuration field holds an unusable value.
    #[error("PSO config: {field} = {value}: {reason}")]
    Config {
        /// The field, dotted (`speed.min`).
        field: &'static str,
        /// The offending value, as text.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The objective returned NaN or ±∞.
    #[error(
        "PSO: the objective scored particle {particle} {score} {}",
        at(iteration)
    )]
    NonFiniteScore {
        /// 0-based iteration; `None` for the initial evaluation.
        iteration: Option<usize>,
        /// Particle index.
        particle: usize,
        /// The score.
        score: f64,
    },
    /// A saved state does not fit the config it is resumed with.
    #[error("PSO: cannot resume: {0}")]
    State(String),
}

fn at(iteration: &Option<usize>) -> String {
    match iteration {
        Some(t) => format!("at iteration {t}"),
        None => "at its initial position".into(),
    }
}
