//! Learning-rate schedules, as pure functions of the epoch so that a resumed training
//! needs no schedule state.

use serde::{Deserialize, Serialize};

/// How the learning rate changes with the (0-based) epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LrSchedule {
    /// The paper: `lr0 · gamma^⌊epoch / every⌋` (lr0 = 1e-2, gamma = 0.1, every = 10).
    Step {
        /// Factor per step.
        gamma: f64,
        /// Epochs per step (> 0).
        every: usize,
    },
    /// The study code (`dataset/train.py`): Keras' `LearningRateScheduler` with
    /// `f(epoch, lr) = lr · gamma^⌊epoch / every⌋` receives the *current* rate, so the
    /// factor compounds: epochs 0–9 at lr0, 10 at lr0/10, 11 at lr0/100, … and from
    /// epoch 20 the rate falls 100× per epoch.
    StudyCompounding {
        /// Factor per application.
        gamma: f64,
        /// Epochs per exponent step (> 0).
        every: usize,
    },
    /// A constant rate.
    Constant,
}

impl LrSchedule {
    /// The paper's schedule: ×0.1 every 10 epochs.
    pub const PAPER: LrSchedule = LrSchedule::Step {
        gamma: 0.1,
        every: 10,
    };

    /// The learning rate of `epoch` (0-based) for initial rate `lr0`.
    pub fn lr(&self, lr0: f64, epoch: usize) -> f64 {
        match *self {
            LrSchedule::Step { gamma, every } => lr0 * gamma.powi((epoch / every.max(1)) as i32),
            LrSchedule::StudyCompounding { gamma, every } => {
                (0..=epoch).fold(lr0, |lr, e| lr * gamma.powi((e / every.max(1)) as i32))
            }
            LrSchedule::Constant => lr0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paper_schedule_divides_by_ten_every_ten_epochs() {
        let s = LrSchedule::PAPER;
        let lrs: Vec<f64> = [0, 9, 10, 19, 20, 29]
            .iter()
            .map(|&e| s.lr(1e-2, e))
            .collect();
        let expected = [1e-2, 1e-2, 1e-3, 1e-3, 1e-4, 1e-4];
        assert!(
            lrs.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-12),
            "{lrs:?}"
        );
    }

    #[test]
    fn the_study_codes_schedule_compounds() {
        let s = LrSchedule::StudyCompounding {
            gamma: 0.1,
            every: 10,
        };
        let rel = |e: usize, want: f64| (s.lr(1e-4, e) / want - 1.0).abs() < 1e-9;
        assert!(rel(9, 1e-4));
        assert!(rel(10, 1e-5));
        assert!(rel(11, 1e-6));
        assert!(rel(19, 1e-14));
        assert!(rel(20, 1e-16)); // ×0.01 from here on
        assert!(rel(21, 1e-18));
    }
}
