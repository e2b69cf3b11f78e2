//! The seam between the swarm and a problem: one required method, a provided bulk
//! method the swarm calls once per iteration (after all random draws are made, so
//! results do not depend on the thread count).

use rayon::prelude::*;

/// A function to **maximise** over `f64` positions.
///
/// `Sync` because [`Objective::score_batch`] scores particles on rayon's threads.
pub trait Objective: Sync {
    /// The score of one position (higher is better). Must be finite; the swarm stops
    /// with [`crate::PsoError::NonFiniteScore`] otherwise.
    fn score(&self, position: &[f64]) -> f64;

    /// The number of coordinates this objective expects, if it knows; the swarm
    /// refuses a config of another dimension.
    fn dimension(&self) -> Option<usize> {
        None
    }

    /// Scores many positions stored row-major, `dimension` values each, into
    /// `scores`. The default scores rows in parallel; override it to share work
    /// between particles.
    fn score_batch(&self, positions: &[f64], dimension: usize, scores: &mut [f64]) {
        positions
            .par_chunks(dimension)
            .zip(scores.par_iter_mut())
            .for_each(|(x, s)| *s = self.score(x));
    }
}

/// Any `Fn(&[f64]) -> f64` closure is an objective.
impl<F: Fn(&[f64]) -> f64 + Sync> Objective for F {
    fn score(&self, position: &[f64]) -> f64 {
        self(position)
    }
}
