//! The error of the layer and row checks (and of a repair problem built on them),
//! naming the buffer, index or value at fault.

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
    /// A layer's matrix or bias that does not fit the shape it came with.
    #[error("repair problem: {what} of {found} values for a {shape:?} {tensor} ({layout} layout: {classes} classes)")]
    LayerShape {
        /// `matrix` or `bias`.
        what: &'static str,
        /// Its number of values.
        found: usize,
        /// The matrix's shape as given.
        shape: [usize; 2],
        /// The matrix's tensor name in its layout (`kernel`, `weight`).
        tensor: &'static str,
        /// The layout's name.
        layout: &'static str,
        /// The classes the shape implies.
        classes: usize,
    },
    /// Nothing to optimise or nothing to score.
    #[error("repair problem: {0}")]
    Empty(&'static str),
    /// A setting of the repair outside its range.
    #[error("repair problem: {what} is {value}, but must be {must}")]
    Setting {
        /// Which setting.
        what: &'static str,
        /// Its value.
        value: f64,
        /// What it must be.
        must: &'static str,
    },
    /// A position of the wrong length was scored.
    #[error("repair problem: a position has {found} values for {sites} sites")]
    Position {
        /// Its length.
        found: usize,
        /// Number of sites.
        sites: usize,
    },
}

/// `found == expected`, or a [`ProblemError::Length`] naming `what`.
pub(crate) fn length(
    what: &'static str,
    found: usize,
    expected: usize,
) -> Result<(), ProblemError> {
    if found == expected {
        Ok(())
    } else {
        Err(ProblemError::Length {
            what,
            found,
            expected,
        })
    }
}

/// Every value finite, or a [`ProblemError::NonFinite`] naming the first that is not.
pub(crate) fn finite(what: &'static str, values: &[f32]) -> Result<(), ProblemError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(ProblemError::NonFinite {
            what,
            index,
            value: values[index],
        }),
    }
}
