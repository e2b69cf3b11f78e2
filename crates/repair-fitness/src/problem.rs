//! A last-layer repair problem as plain data: what FL hands to the search, and what
//! `--export-problem` writes so other tools can run the same search.

use serde::{Deserialize, Serialize};

use repair_core::{DenseLayer, LabelledActivations, ProblemError, Site};
use repair_pso::LayerScale;

/// The search problem of one Arachne repair.
///
/// The layer uses Keras' layout ([`DenseLayer`]): `kernel[i·classes + j]` = W_ij, the
/// same (i, j) as the study's `weights.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairProblem {
    /// The last dense layer before the repair.
    pub layer: DenseLayer,
    /// Misclassified inputs of the target class (I_neg).
    pub negatives: LabelledActivations,
    /// Correctly classified inputs (I_pos).
    pub positives: LabelledActivations,
    /// The localised weights, one coordinate of a position each, in this order.
    pub sites: Vec<Site>,
}

/// The fitness of a position and its parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitnessDetail {
    /// (N_patched + 1)/(L_neg + 1) + (N_intact + 1)/(L_pos + 1).
    pub fitness: f64,
    /// Negatives classified correctly.
    pub n_patched: usize,
    /// Positives classified correctly.
    pub n_intact: usize,
    /// Mean cross-entropy over the negatives.
    pub loss_neg: f64,
    /// Mean cross-entropy over the positives.
    pub loss_pos: f64,
}

impl FitnessDetail {
    /// Combines the parts as the study does (ER arachne.py 764-765).
    pub fn from_parts(n_patched: usize, loss_neg: f64, n_intact: usize, loss_pos: f64) -> Self {
        FitnessDetail {
            fitness: (n_patched as f64 + 1.0) / (loss_neg + 1.0)
                + (n_intact as f64 + 1.0) / (loss_pos + 1.0),
            n_patched,
            n_intact,
            loss_neg,
            loss_pos,
        }
    }
}

/// The mean cross-entropy of `rows` rows whose losses sum to `sum`; 0 for no rows. A
/// repair with no positives to keep intact (every repair input of the model wrong, or a
/// problem given without any) is legal: its intact term is then the constant
/// (0 + 1) / (0 + 1) = 1 and the search weighs the negatives alone. The study's code
/// would take numpy's mean of an empty array (NaN) there; a NaN fitness would make
/// every position tie, so this follows the formula's own limit instead.
pub(crate) fn mean_loss(sum: f64, rows: usize) -> f64 {
    if rows == 0 {
        0.0
    } else {
        sum / rows as f64
    }
}

impl RepairProblem {
    /// Checks shapes, finiteness, labels and sites.
    pub fn validate(&self) -> Result<(), ProblemError> {
        let (d, c) = (self.layer.width, self.layer.classes);
        if d == 0 || c == 0 {
            return Err(ProblemError::Empty("the layer has no weights"));
        }
        self.layer.view().check("negatives", &self.negatives)?;
        self.positives.check("positives", d, c)?;
        if self.negatives.is_empty() {
            return Err(ProblemError::Empty("no negative inputs: nothing to repair"));
        }
        if self.sites.is_empty() {
            return Err(ProblemError::Empty("no weight sites to search"));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.sites {
            let reason = if s.i >= d || s.j >= c {
                "is outside the layer"
            } else if !seen.insert(*s) {
                "is listed twice"
            } else {
                continue;
            };
            return Err(ProblemError::Site {
                i: s.i,
                j: s.j,
                reason,
                width: d,
                classes: c,
            });
        }
        Ok(())
    }

    /// The current values of the sites: the centre of the study's initial swarm.
    pub fn current(&self) -> Vec<f64> {
        self.sites
            .iter()
            .map(|s| f64::from(self.layer.kernel[s.i * self.layer.classes + s.j]))
            .collect()
    }

    /// Std (population, as numpy's default) and range of all kernel weights.
    pub fn layer_scale(&self) -> LayerScale {
        let n = self.layer.kernel.len() as f64;
        let mean = self.layer.kernel.iter().map(|&w| f64::from(w)).sum::<f64>() / n;
        let var = self
            .layer
            .kernel
            .iter()
            .map(|&w| (f64::from(w) - mean).powi(2))
            .sum::<f64>()
            / n;
        let (lo, hi) = self
            .layer
            .kernel
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &w| {
                (lo.min(w), hi.max(w))
            });
        LayerScale {
            std: var.sqrt(),
            range: f64::from(hi) - f64::from(lo),
        }
    }

    /// The kernel with `position` written into the sites (rounded to `f32`, as when
    /// the values are written into a model).
    pub fn patched_kernel(&self, position: &[f64]) -> Result<Vec<f32>, ProblemError> {
        self.check_position(position)?;
        let mut kernel = self.layer.kernel.clone();
        for (s, &x) in self.sites.iter().zip(position) {
            kernel[s.i * self.layer.classes + s.j] = x as f32;
        }
        Ok(kernel)
    }

    pub(crate) fn check_position(&self, position: &[f64]) -> Result<(), ProblemError> {
        if position.len() == self.sites.len() {
            Ok(())
        } else {
            Err(ProblemError::Position {
                found: position.len(),
                sites: self.sites.len(),
            })
        }
    }
}
