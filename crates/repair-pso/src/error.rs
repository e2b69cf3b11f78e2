//! Errors of the optimiser and of the Arachne repair problem, each naming the value
//! at fault.

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

/// Why a repair problem is unusable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProblemError {
    /// Two lengths that must agree do not.
    #[error("repair problem: {what} has {found} values, expected {expected}")]
    Length {
        /// Which buffer.
        what: &'static str,
        /// Its length.
        found: usize,
        /// The length the shapes imply.
        expected: usize,
    },
    /// A NaN or infinite value.
    #[error("repair problem: {what}[{index}] is {value}")]
    NonFinite {
        /// Which buffer.
        what: &'static str,
        /// Flat index of the value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A label is not a class of the layer.
    #[error(
        "repair problem: {what} row {row} has label {label}, but the layer has {classes} classes"
    )]
    Label {
        /// `negatives` or `positives`.
        what: &'static str,
        /// Row index.
        row: usize,
        /// The label.
        label: u32,
        /// Number of classes.
        classes: usize,
    },
    /// A weight site outside the layer, or listed twice.
    #[error("repair problem: site ({i}, {j}) {reason} (layer is {width} × {classes})")]
    Site {
        /// Input (penultimate) index.
        i: usize,
        /// Output (class) index.
        j: usize,
        /// `is outside the layer` or `is listed twice`.
        reason: &'static str,
        /// Penultimate width.
        width: usize,
        /// Number of classes.
        classes: usize,
    },
    /// Nothing to optimise or nothing to score.
    #[error("repair problem: {0}")]
    Empty(&'static str),
    /// A position of the wrong length was scored.
    #[error("repair problem: a position has {found} values for {sites} sites")]
    Position {
        /// Its length.
        found: usize,
        /// Number of sites.
        sites: usize,
    },
}

fn at(iteration: &Option<usize>) -> String {
    match iteration {
        Some(t) => format!("at iteration {t}"),
        None => "at its initial position".into(),
    }
}
