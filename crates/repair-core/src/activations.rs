//! Cached penultimate activations with their labels: extracted once per checkpoint,
//! then read by fault localisation, the fitness and the metrics.

use serde::{Deserialize, Serialize};

use crate::error::{finite, length, ProblemError};

/// Penultimate activations of some inputs, row-major, with their true labels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelledActivations {
    /// `labels.len() × width` values.
    pub activations: Vec<f32>,
    /// True class of each row.
    pub labels: Vec<u32>,
}

impl LabelledActivations {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Checks that the rows fit a layer of `width` inputs and `classes` outputs: one
    /// activation row per label, finite values, labels below `classes`. `what` names
    /// the rows in the error.
    pub fn check(
        &self,
        what: &'static str,
        width: usize,
        classes: usize,
    ) -> Result<(), ProblemError> {
        length(what, self.activations.len(), self.len() * width)?;
        finite(what, &self.activations)?;
        match self.labels.iter().position(|&l| l as usize >= classes) {
            None => Ok(()),
            Some(row) => Err(ProblemError::Label {
                what,
                row,
                label: self.labels[row],
                classes,
            }),
        }
    }
}
