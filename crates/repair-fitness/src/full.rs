//! The fitness by full recompute: patch the kernel, recompute every logit of every
//! row. O(rows × width × classes) per position — the plain reading of `_criterion`
//! (737-861 of the study's `arachne.py`) and the oracle the incremental form is tested
//! against.

use repair_core::{logits, CrossEntropy, LabelledActivations, ProblemError};
use repair_pso::Objective;

use crate::problem::{mean_loss, FitnessDetail, RepairProblem};
use crate::softmax::row_outcome;

/// The Arachne fitness, computed from scratch for each position.
#[derive(Debug, Clone)]
pub struct FullFitness {
    problem: RepairProblem,
    loss: CrossEntropy,
}

impl FullFitness {
    /// Validates and keeps a copy of `problem`; the study's cross-entropy
    /// ([`CrossEntropy::Logits`]).
    pub fn new(problem: &RepairProblem) -> Result<Self, ProblemError> {
        Self::with_loss(problem, CrossEntropy::default())
    }

    /// [`FullFitness::new`] with the cross-entropy `loss`.
    pub fn with_loss(problem: &RepairProblem, loss: CrossEntropy) -> Result<Self, ProblemError> {
        problem.validate()?;
        Ok(FullFitness {
            problem: problem.clone(),
            loss,
        })
    }

    /// The fitness of `position` (one value per site) and its parts.
    pub fn evaluate(&self, position: &[f64]) -> Result<FitnessDetail, ProblemError> {
        let p = &self.problem;
        let kernel = p.patched_kernel(position)?;
        let outcome = |rows: &LabelledActivations| {
            let mut z = vec![0.0; p.layer.classes];
            let (mut loss, mut correct) = (0.0, 0);
            for (a, &y) in rows.activations.chunks(p.layer.width).zip(&rows.labels) {
                logits(a, &kernel, &p.layer.bias, &mut z);
                let (ce, ok) = row_outcome(&z, y as usize, self.loss);
                loss += ce;
                correct += usize::from(ok);
            }
            (correct, mean_loss(loss, rows.len()))
        };
        let (n_patched, loss_neg) = outcome(&p.negatives);
        let (n_intact, loss_pos) = outcome(&p.positives);
        Ok(FitnessDetail::from_parts(
            n_patched, loss_neg, n_intact, loss_pos,
        ))
    }
}

impl Objective for FullFitness {
    fn score(&self, position: &[f64]) -> f64 {
        self.evaluate(position)
            .expect("the swarm checks the dimension")
            .fitness
    }

    fn dimension(&self) -> Option<usize> {
        Some(self.problem.sites.len())
    }
}
