//! The pattern of one (run, class, α): at which checkpoint does repairing give the best
//! Qual_α? The paper's two patterns, plus what its notebook folded in silently.

use repair_core::{IncompletePolicy, TiePolicy};
use serde::{Deserialize, Serialize};

use crate::convergence::{phase, Phase};

/// The outcome for one (run, class, α).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    /// The best repaired Qual is at a checkpoint before the converged one.
    PreConvergence,
    /// The best is the converged checkpoint's.
    PostConvergence,
    /// The best is at a checkpoint after convergence (only when those are repaired);
    /// never folded into the other two.
    AfterConvergence,
    /// A checkpoint's repair is missing (under [`IncompletePolicy::Mark`]).
    Incomplete,
}

impl Pattern {
    /// The name in `patterns.csv` (`pre-convergence`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::PreConvergence => "pre-convergence",
            Pattern::PostConvergence => "post-convergence",
            Pattern::AfterConvergence => "after-convergence",
            Pattern::Incomplete => "incomplete",
        }
    }
}

/// Repaired Qual of one checkpoint; `None` when its repair is missing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CheckpointQual {
    /// Checkpoint epoch.
    pub epoch: usize,
    /// Qual_α of the repaired model on the test set.
    pub qual: Option<f64>,
}

/// The classification and the numbers behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PatternResult {
    /// The pattern.
    pub pattern: Pattern,
    /// Epoch of the chosen best checkpoint.
    pub best_epoch: Option<usize>,
    /// Its Qual.
    pub best_qual: Option<f64>,
    /// Repaired Qual of the converged checkpoint.
    pub converged_qual: Option<f64>,
    /// Best repaired Qual before convergence minus the converged one's (the gain of
    /// repairing early; negative when early is worse).
    pub early_gain: Option<f64>,
}

/// Classifies one (run, class, α) from the repaired Qual of its checkpoints.
pub fn classify_pattern(
    checkpoints: &[CheckpointQual],
    converged: usize,
    ties: TiePolicy,
    incomplete: IncompletePolicy,
) -> PatternResult {
    let mut sorted = checkpoints.to_vec();
    sorted.sort_by_key(|c| c.epoch);
    let converged_qual = sorted
        .iter()
        .find(|c| c.epoch == converged)
        .and_then(|c| c.qual);
    let best_before = sorted
        .iter()
        .filter(|c| c.epoch < converged)
        .filter_map(|c| c.qual)
        .fold(None, |m: Option<f64>, q| Some(m.map_or(q, |m| m.max(q))));
    let early_gain = best_before.zip(converged_qual).map(|(b, c)| b - c);
    let missing = sorted.iter().any(|c| c.qual.is_none());
    let present: Vec<(usize, f64)> = sorted
        .iter()
        .filter_map(|c| c.qual.map(|q| (c.epoch, q)))
        .collect();
    let incomplete_result = PatternResult {
        pattern: Pattern::Incomplete,
        best_epoch: None,
        best_qual: None,
        converged_qual,
        early_gain,
    };
    if present.is_empty() || (missing && incomplete == IncompletePolicy::Mark) {
        return incomplete_result;
    }
    let best = present
        .iter()
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let winners: Vec<usize> = present
        .iter()
        .filter(|p| p.1 == best)
        .map(|p| p.0)
        .collect();
    let epoch = match ties {
        TiePolicy::Post if winners.contains(&converged) => converged,
        _ => winners[0],
    };
    let pattern = match phase(epoch, converged) {
        Phase::Before => Pattern::PreConvergence,
        Phase::At => Pattern::PostConvergence,
        Phase::After => Pattern::AfterConvergence,
    };
    PatternResult {
        pattern,
        best_epoch: Some(epoch),
        best_qual: Some(best),
        converged_qual,
        early_gain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_is_the_one_the_csv_files_write() {
        for p in [
            Pattern::PreConvergence,
            Pattern::PostConvergence,
            Pattern::AfterConvergence,
            Pattern::Incomplete,
        ] {
            let bytes = crate::to_csv(&[p]).unwrap();
            assert_eq!(String::from_utf8(bytes).unwrap().trim(), p.as_str());
        }
    }
}
