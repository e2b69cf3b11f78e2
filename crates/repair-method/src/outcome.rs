//! What a repair did: the weights changed, fitness, RR/BR, the search's history and the
//! phase times (serialised into `repair.json`).

use repair_adaptive::{AdaptiveStop, PhaseRecord};
use repair_core::{DenseLayer, Site};
use repair_fitness::{FitnessDetail, RepairProblem};
use repair_fl::Candidate;
use repair_pso::{IterationRecord, Termination};
use serde::{Deserialize, Serialize};

/// A repaired weight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightChange {
    /// Where.
    pub site: Site,
    /// Before the repair.
    pub original: f32,
    /// After.
    pub repaired: f32,
}

/// Wall time of each phase, milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Predictions, repair sets and positive sampling.
    pub sets_ms: f64,
    /// Fault localisation.
    pub fl_ms: f64,
    /// The search.
    pub search_ms: f64,
}

/// What a repair did. Its serialised form is the part of a checkpoint's `repair.json`
/// that a repair of any kind has; the per-weight, per-candidate and per-iteration
/// records go to their own CSV files instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairOutcome {
    /// Repair-set inputs of the class that the model misclassifies.
    pub negatives: usize,
    /// Repair-set inputs classified correctly (all classes).
    pub correct: usize,
    /// Distinct positives sampled for the search.
    pub positives_sampled: usize,
    /// True when there were no negatives: nothing was searched or changed.
    pub nothing_to_repair: bool,
    /// The weights searched and their values (`weights.csv`, not `repair.json`).
    #[serde(skip)]
    pub changes: Vec<WeightChange>,
    /// FL candidates (for the Pareto-front figure; `localisation.csv`).
    #[serde(skip)]
    pub candidates: Vec<Candidate>,
    /// Fitness of the original weights.
    pub fitness_before: Option<FitnessDetail>,
    /// Fitness of the repaired weights.
    pub fitness_after: Option<FitnessDetail>,
    /// Repair rate: share of the negatives now classified correctly.
    pub rr: f64,
    /// Break rate: share of all initially correct repair-set inputs now wrong.
    pub br: f64,
    /// Objective evaluations.
    pub evaluations: u64,
    /// Why the search ended.
    pub termination: Option<Termination>,
    /// The search did not beat the original layer on its own objective, and the repair
    /// returned the original ([`crate::RepairScore::kept_original`]); `rr` and `br` are
    /// then the original's, `fitness_after` the search's best.
    #[serde(default)]
    pub kept_original: bool,
    /// One record per iteration (`history.csv`).
    #[serde(skip)]
    pub history: Vec<IterationRecord>,
    /// Phase times.
    pub timings: Timings,
    /// The phases of an adaptive repair (empty, and absent from `repair.json`,
    /// otherwise); `history` runs over all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<PhaseRecord>,
    /// Why an adaptive repair ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive_stop: Option<AdaptiveStop>,
    /// The search problem (for `--export-problem`); not serialised.
    #[serde(skip)]
    pub problem: Option<RepairProblem>,
}

/// The weights at `sites` before and after.
pub(crate) fn changes(
    layer: &DenseLayer,
    repaired: &DenseLayer,
    sites: &[Site],
) -> Vec<WeightChange> {
    sites
        .iter()
        .map(|&site| WeightChange {
            site,
            original: layer.view().weight(site),
            repaired: repaired.view().weight(site),
        })
        .collect()
}
