//! What a repair did: the weights changed, fitness, RR/BR, the search's history and the
//! phase times (serialised into `repair.json`).

use repair_adaptive::{AdaptiveStop, PhaseRecord};
use repair_core::{DenseLayer, Site};
use repair_fitness::{FitnessDetail, RepairProblem};
use repair_fl::Candidate;
use repair_pso::{IterationRecord, Termination};
use serde::{Deserialize, Serialize};

use crate::solve::Solved;

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

/// What a repair did.
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
    /// The weights searched and their values.
    pub changes: Vec<WeightChange>,
    /// FL candidates (for the Pareto-front figure).
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
    /// One record per iteration.
    pub history: Vec<IterationRecord>,
    /// Phase times.
    pub timings: Timings,
    /// The phases of an adaptive repair (empty otherwise); `history` runs over all of
    /// them.
    pub phases: Vec<PhaseRecord>,
    /// Why an adaptive repair ended.
    pub adaptive_stop: Option<AdaptiveStop>,
    /// The search problem (for `--export-problem`); not serialised.
    #[serde(skip)]
    pub problem: Option<RepairProblem>,
}

impl RepairOutcome {
    /// The outcome of a problem given as is (no repair set around it: every negative
    /// and positive given is used; RR and BR on them).
    pub fn of_problem(solved: Solved) -> (DenseLayer, RepairOutcome) {
        let negatives = solved.problem.negatives.len();
        let positives = solved.problem.positives.len();
        let mut outcome = RepairOutcome {
            negatives,
            correct: positives,
            positives_sampled: positives,
            nothing_to_repair: false,
            changes: Vec::new(),
            candidates: Vec::new(),
            fitness_before: None,
            fitness_after: None,
            rr: solved.rr,
            br: solved.br,
            evaluations: 0,
            termination: None,
            history: Vec::new(),
            timings: Timings::default(),
            phases: Vec::new(),
            adaptive_stop: None,
            problem: None,
        };
        let repaired = outcome.take(solved);
        (repaired, outcome)
    }

    /// Takes FL's and the search's part of `solved` (all but RR and BR, which a repair
    /// set scores) and returns the repaired layer.
    pub(crate) fn take(&mut self, solved: Solved) -> DenseLayer {
        self.timings.fl_ms = solved.fl_ms;
        self.timings.search_ms = solved.search_ms;
        self.candidates = solved.candidates;
        self.changes = solved.changes;
        self.fitness_before = Some(solved.fitness_before);
        self.fitness_after = Some(solved.fitness_after);
        self.evaluations = solved.evaluations;
        self.termination = Some(solved.termination);
        self.history = solved.history;
        self.phases = solved.phases;
        self.adaptive_stop = solved.adaptive_stop;
        self.problem = Some(solved.problem);
        solved.repaired
    }
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
