//! The settings of an adaptive repair, with the defaults of Li Calsi et al. (GECCO '23;
//! jst-qaml/adaptiveRepair `repair/adaptive/adaptive.py`).

use repair_core::defaults::{MAX_PHASES, STAGNATION_THRESHOLD, STAGNATION_WINDOW};
use serde::{Deserialize, Serialize};

use crate::error::AdaptiveError;

/// How an adaptive repair switches and how much it searches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveConfig {
    /// w: a phase has stagnated when its best score improved by less than `threshold`
    /// (relative) over the last `window` iterations.
    pub window: usize,
    /// τ of the stagnation check; halved after every switch, as theirs is.
    pub threshold: f64,
    /// Most phases (localisations); the last one runs to the end of the budget.
    pub max_phases: usize,
    /// Iterations over all phases together (their global iteration counter).
    pub iterations: usize,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        AdaptiveConfig {
            window: STAGNATION_WINDOW,
            threshold: STAGNATION_THRESHOLD,
            max_phases: MAX_PHASES,
            iterations: repair_core::defaults::ARACHNE_ITERATIONS,
        }
    }
}

impl AdaptiveConfig {
    /// Refuses a setting the search cannot run with, naming it.
    pub fn validate(&self) -> Result<(), AdaptiveError> {
        let fail = |field, value: String, reason| {
            Err(AdaptiveError::Config {
                field,
                value,
                reason,
            })
        };
        if self.window == 0 {
            return fail("window", "0".into(), "must be at least 1");
        }
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return fail(
                "threshold",
                self.threshold.to_string(),
                "must be a finite number ≥ 0",
            );
        }
        if self.max_phases == 0 {
            return fail("max_phases", "0".into(), "must be at least 1");
        }
        if self.iterations == 0 {
            return fail("iterations", "0".into(), "must be at least 1");
        }
        Ok(())
    }
}
