//! Regression control: Arachne's fitness minus a price for every positive input the
//! patch breaks, the search objective of the `history` method.
//!
//! NeuRecover (Tokui et al., "NeuRecover: Regression-Controlled Repair of Deep Neural
//! Networks with Training History", SANER '22) searches with a fitness that counts
//! regressions — inputs the original model handled and the patch breaks — against the
//! patch. Here every positive was classified correctly before the repair (that is how
//! they are sampled), so the regressions of a position are the positives it no longer
//! classifies correctly, |I_pos| − N_intact, and the score is
//!
//! ```text
//! score = (N_patched + 1)/(L_neg + 1) + (N_intact + 1)/(L_pos + 1) − λ · (|I_pos| − N_intact)
//! ```
//!
//! Arachne's second term already pays about 1 per broken positive, so λ = 1 doubles that
//! price. With λ = 0 the score is Arachne's fitness.

use repair_core::ProblemError;
use repair_pso::Objective;

use crate::incremental::ArachneFitness;
use crate::problem::FitnessDetail;

/// [`ArachneFitness`] with a penalty of `penalty` per broken positive.
#[derive(Debug, Clone, Copy)]
pub struct RegressionControlled<'a> {
    fitness: &'a ArachneFitness,
    penalty: f64,
}

impl<'a> RegressionControlled<'a> {
    /// The objective; `penalty` (λ) must be finite and ≥ 0.
    pub fn new(fitness: &'a ArachneFitness, penalty: f64) -> Result<Self, ProblemError> {
        if !(penalty.is_finite() && penalty >= 0.0) {
            return Err(ProblemError::Setting {
                what: "the regression penalty",
                value: penalty,
                must: "a finite number ≥ 0",
            });
        }
        Ok(RegressionControlled { fitness, penalty })
    }

    /// Regressions of `detail`: positives no longer classified correctly.
    pub fn regressions(&self, detail: &FitnessDetail) -> usize {
        self.fitness.positives() - detail.n_intact
    }

    /// The score of `detail` (see the module docs).
    pub fn score_of(&self, detail: &FitnessDetail) -> f64 {
        detail.fitness - self.penalty * self.regressions(detail) as f64
    }
}

impl Objective for RegressionControlled<'_> {
    fn score(&self, position: &[f64]) -> f64 {
        let detail = self
            .fitness
            .evaluate(position)
            .expect("the swarm checks the dimension");
        self.score_of(&detail)
    }

    fn dimension(&self) -> Option<usize> {
        Some(self.fitness.sites())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RepairProblem, SyntheticSpec};

    #[test]
    fn each_broken_positive_costs_the_penalty_and_none_costs_nothing() {
        let problem = RepairProblem::synthetic(SyntheticSpec {
            width: 16,
            classes: 4,
            negatives: 20,
            positives: 40,
            sites: 6,
            columns: 2,
            seed: 3,
        });
        let fitness = ArachneFitness::new(&problem).unwrap();
        let plain = RegressionControlled::new(&fitness, 0.0).unwrap();
        let priced = RegressionControlled::new(&fitness, 2.5).unwrap();
        // Positions from the layer's own values outwards change which positive rows are
        // classified correctly (the synthetic labels are random, so some are wrong at the
        // start already: the count is of rows not intact, as the formula says).
        let start = problem.current();
        let mut counts = std::collections::BTreeSet::new();
        for scale in [0.0, 1.0, 5.0, 50.0] {
            let x: Vec<f64> = start.iter().map(|w| w + scale * 0.1).collect();
            let detail = fitness.evaluate(&x).unwrap();
            let broken = fitness.positives() - detail.n_intact;
            counts.insert(broken);
            assert_eq!(plain.score(&x), detail.fitness);
            assert_eq!(priced.score(&x), detail.fitness - 2.5 * broken as f64);
            assert_eq!(priced.regressions(&detail), broken);
        }
        assert!(
            counts.len() > 1,
            "the positions should move some positive: {counts:?}"
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let e = RegressionControlled::new(&fitness, bad).unwrap_err();
            assert!(e.to_string().contains("regression penalty"), "{e}");
        }
    }
}
