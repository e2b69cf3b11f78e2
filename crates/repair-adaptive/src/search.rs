//! The adaptive search: phases of PSO, each on the sites a fresh localisation finds on
//! the layer as the previous phases left it (Li Calsi et al., "Adaptive Search-Based
//! Repair of Deep Neural Networks", GECCO '23; jst-qaml/adaptiveRepair
//! `repair/adaptive/adaptive.py`, `optimize` and `old_optimize`).
//!
//! What it follows from adaptive.py:
//! * one iteration budget over all phases (its global `iterations_counter`), and at most
//!   `max_phases` localisations (`num_macroiterations`);
//! * the stagnation switch (`switch_criterion_stagnation`): after an iteration with at
//!   least `window + 1` records, switch when (best now − best `window` iterations ago) /
//!   (best then) < τ, and halve τ after each switch;
//! * a phase keeps the weights the previous phases changed, and localises on the
//!   rebuilt repair sets ([`crate::next_sets`]); no negative left ends the repair;
//! * the answer is the phase whose layer scores best on the *original* problem (its
//!   `eval_fitness` on the original sets).
//!
//! Where it departs: a phase's swarm also ends by the PSO's own stall rule, which then
//! counts as a switch (adaptive.py's swarm has none); each phase has its own seed,
//! phase 0 the repair's, so a search that never switches is the plain search exactly;
//! the fitness is the study's, not adaptive.py's per-set normalised one.

use std::ops::ControlFlow;

use repair_core::{CrossEntropy, DenseLayer, LabelledActivations, Site};
use repair_fitness::{ArachneFitness, FitnessDetail, RepairProblem};
use repair_fl::{FaultLocaliser, Localisation};
use repair_pso::{run_with, IterationRecord, LayerScale, Observer, PsoConfig, Swarm, Termination};
use serde::{Deserialize, Serialize};

use crate::config::AdaptiveConfig;
use crate::error::AdaptiveError;
use crate::sets::next_sets;

/// Why a phase ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PhaseEnd {
    /// The stagnation switch: relative improvement `improvement` < τ = `threshold`.
    Stagnated {
        /// (best now − best `window` iterations ago) / |best then|.
        improvement: f64,
        /// τ at the time.
        threshold: f64,
    },
    /// The swarm's own stall rule ended it (also a switch).
    Stalled,
    /// The iteration budget is spent.
    Budget,
}

/// Why the whole search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdaptiveStop {
    /// The iteration budget is spent.
    Budget,
    /// The patched layer classifies every negative right.
    NoNegativesLeft,
    /// Every positive is broken: there is nothing left to keep.
    NoPositivesLeft,
    /// `max_phases` localisations ran.
    MaxPhases,
}

/// One phase: a localisation and the search on its sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// 0-based.
    pub phase: usize,
    /// The sites searched.
    pub sites: Vec<Site>,
    /// Negatives of the phase's repair sets.
    pub negatives: usize,
    /// Positives of the phase's repair sets.
    pub positives: usize,
    /// Its first iteration, counted over all phases.
    pub first_iteration: usize,
    /// Iterations it ran.
    pub iterations: usize,
    /// Its best score, on its own sets.
    pub best: f64,
    /// The layer after it, on the original problem.
    pub on_original: FitnessDetail,
    /// Why it ended.
    pub end: PhaseEnd,
}

/// What an adaptive repair found.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveResult {
    /// The best layer, by its fitness on the original problem.
    pub layer: DenseLayer,
    /// The phase it comes from.
    pub best_phase: usize,
    /// Every site the phases up to the best searched, first-seen order.
    pub sites: Vec<Site>,
    /// The first localisation (its candidates are the repair's FL figure).
    pub first: Localisation,
    /// The phases.
    pub phases: Vec<PhaseRecord>,
    /// Every iteration of every phase: (phase, record) with the iteration and the
    /// evaluations counted over all phases; `best` is the phase's, on its own sets.
    pub history: Vec<(usize, IterationRecord)>,
    /// Objective evaluations over all phases.
    pub evaluations: u64,
    /// Fitness of the original layer on the original problem.
    pub fitness_before: FitnessDetail,
    /// Fitness of the answer on the original problem.
    pub fitness_after: FitnessDetail,
    /// Why the search ended.
    pub stop: AdaptiveStop,
}

/// The layer, its repair sets and the cross-entropy of FL and fitness.
#[derive(Debug, Clone, Copy)]
pub struct AdaptiveProblem<'a> {
    /// The last layer before the repair.
    pub layer: &'a DenseLayer,
    /// Misclassified inputs of the class(es) repaired.
    pub negatives: &'a LabelledActivations,
    /// Correctly classified inputs to keep.
    pub positives: &'a LabelledActivations,
    /// The cross-entropy of the localiser's gradient loss and of the fitness.
    pub loss: CrossEntropy,
}

/// A phase's swarm from its start (the sites' current values), the layer's scale and
/// the phase's seed; its `iterations` are replaced by what is left of the budget.
pub type SwarmFor<'a> = dyn Fn(Vec<f64>, LayerScale, u64) -> PsoConfig + 'a;

/// The seed of phase `phase`: the repair's for phase 0, so that a search that never
/// switches is the plain search.
pub fn phase_seed(seed: u64, phase: usize) -> u64 {
    seed.wrapping_add((phase as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The fitness of a whole layer on a problem's sets.
fn fitness_of(
    layer: &DenseLayer,
    negatives: &LabelledActivations,
    positives: &LabelledActivations,
    loss: CrossEntropy,
) -> Result<FitnessDetail, AdaptiveError> {
    let problem = RepairProblem {
        layer: layer.clone(),
        negatives: negatives.clone(),
        positives: positives.clone(),
        sites: vec![Site { i: 0, j: 0 }],
    };
    Ok(ArachneFitness::with_loss(&problem, loss)?.evaluate(&problem.current())?)
}

/// The stagnation switch as an observer of one phase's swarm.
struct Stagnation<'a> {
    window: usize,
    threshold: f64,
    enabled: bool,
    bests: Vec<f64>,
    fired: Option<f64>,
    phase: usize,
    observe: &'a mut dyn FnMut(usize, &IterationRecord),
}

impl Observer for Stagnation<'_> {
    fn observe(&mut self, record: &IterationRecord, _: &Swarm) -> ControlFlow<()> {
        (self.observe)(self.phase, record);
        self.bests.push(record.best);
        let n = self.bests.len();
        if !self.enabled || n < self.window + 1 {
            return ControlFlow::Continue(());
        }
        let (now, then) = (self.bests[n - 1], self.bests[n - 1 - self.window]);
        let improvement = match then.abs() {
            0.0 if now > then => f64::INFINITY,
            0.0 => 0.0,
            scale => (now - then) / scale,
        };
        if improvement < self.threshold {
            self.fired = Some(improvement);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

/// Repairs `problem.layer` in phases (see the module docs): `localiser` finds each
/// phase's sites, `swarm` makes its search, `seed` seeds phase 0 ([`phase_seed`]), and
/// `observe` sees every iteration with its phase.
pub fn adaptive_repair(
    problem: &AdaptiveProblem<'_>,
    localiser: &dyn FaultLocaliser,
    config: &AdaptiveConfig,
    swarm: &SwarmFor<'_>,
    seed: u64,
    observe: &mut dyn FnMut(usize, &IterationRecord),
) -> Result<AdaptiveResult, AdaptiveError> {
    config.validate()?;
    let &AdaptiveProblem {
        layer,
        negatives,
        positives,
        loss,
    } = problem;
    let localise =
        |phase: usize, layer: &DenseLayer, neg: &LabelledActivations, pos: &LabelledActivations| {
            localiser
                .localise(&layer.view(), neg, pos)
                .map_err(|source| AdaptiveError::Localisation { phase, source })
        };
    let first = localise(0, layer, negatives, positives)?;
    let fitness_before = fitness_of(layer, negatives, positives, loss)?;
    let (mut current, mut neg, mut pos) = (layer.clone(), negatives.clone(), positives.clone());
    let (mut threshold, mut used, mut evaluations) = (config.threshold, 0, 0);
    let (mut phases, mut history, mut seen) = (Vec::new(), Vec::new(), Vec::<Site>::new());
    let mut best: Option<(DenseLayer, usize, FitnessDetail, usize)> = None;
    let mut stop = AdaptiveStop::MaxPhases;
    for phase in 0..config.max_phases {
        let found = if phase == 0 {
            first.clone()
        } else {
            localise(phase, &current, &neg, &pos)?
        };
        let search_problem = RepairProblem {
            layer: current.clone(),
            negatives: neg.clone(),
            positives: pos.clone(),
            sites: found.sites.clone(),
        };
        let fitness = ArachneFitness::with_loss(&search_problem, loss)?;
        let pso = PsoConfig {
            iterations: config.iterations - used,
            ..swarm(
                search_problem.current(),
                search_problem.layer_scale(),
                phase_seed(seed, phase),
            )
        };
        let mut stagnation = Stagnation {
            window: config.window,
            threshold,
            enabled: phase + 1 < config.max_phases,
            bests: Vec::new(),
            fired: None,
            phase,
            observe: &mut *observe,
        };
        let result = run_with(Swarm::new(pso, &fitness)?, &fitness, &mut stagnation)?;
        let fired = stagnation.fired;
        history.extend(result.history.iter().map(|r| {
            let global = IterationRecord {
                iteration: used + r.iteration,
                evaluations: evaluations + r.evaluations,
                ..r.clone()
            };
            (phase, global)
        }));
        let first_iteration = used;
        used += result.iterations;
        evaluations += result.evaluations;
        current = current.patched(&found.sites, &result.best_position);
        for &s in &found.sites {
            if !seen.contains(&s) {
                seen.push(s);
            }
        }
        let on_original = fitness_of(&current, negatives, positives, loss)?;
        if best
            .as_ref()
            .is_none_or(|b| on_original.fitness > b.2.fitness)
        {
            best = Some((current.clone(), phase, on_original, seen.len()));
        }
        let end = match (fired, result.termination) {
            (Some(improvement), _) => PhaseEnd::Stagnated {
                improvement,
                threshold,
            },
            (None, Termination::Stalled { .. }) => PhaseEnd::Stalled,
            (None, _) => PhaseEnd::Budget,
        };
        phases.push(PhaseRecord {
            phase,
            sites: found.sites,
            negatives: neg.len(),
            positives: pos.len(),
            first_iteration,
            iterations: result.iterations,
            best: result.best_score,
            on_original,
            end,
        });
        if fired.is_some() {
            threshold *= 0.5;
        }
        if end == PhaseEnd::Budget || used >= config.iterations {
            stop = AdaptiveStop::Budget;
            break;
        }
        let (next_neg, next_pos) = next_sets(&current, &neg, &pos)?;
        if next_neg.is_empty() {
            stop = AdaptiveStop::NoNegativesLeft;
            break;
        }
        if next_pos.is_empty() {
            stop = AdaptiveStop::NoPositivesLeft;
            break;
        }
        (neg, pos) = (next_neg, next_pos);
    }
    let (layer, best_phase, fitness_after, n_sites) = best.expect("at least one phase runs");
    seen.truncate(n_sites);
    Ok(AdaptiveResult {
        layer,
        best_phase,
        sites: seen,
        first,
        phases,
        history,
        evaluations,
        fitness_before,
        fitness_after,
        stop,
    })
}
