//! FL and the search of one repair problem (a last layer, its negatives and positives):
//! the part of a repair that needs no repair set, shared by the pipeline's units,
//! `xtask repair --problem` and the Python package. Which localiser and search run is
//! the method's ([`RepairSettings`]); every random draw is seeded from it.

use std::time::Instant;

use repair_adaptive::{
    adaptive_repair, AdaptiveConfig, AdaptiveProblem, AdaptiveStop, PhaseRecord,
};
use repair_core::{DenseLayer, LabelledActivations, Progress, Site};
use repair_fitness::{ArachneFitness, FitnessDetail, RegressionControlled, RepairProblem};
use repair_fl::{Candidate, FaultLocaliser, HistoryLocaliser};
use repair_pso::{
    run_with, IterationRecord, LayerScale, Objective, PsoConfig, SearchResult, Swarm, Termination,
};

use serde::{Deserialize, Serialize};

use crate::error::{MethodError, Result};
use crate::outcome::{changes, RepairOutcome, Timings, WeightChange};
use repair_core::Search;

use crate::settings::{RepairSettings, Strategy};

/// The inputs a repair works on: the misclassified ones it should fix (I_neg) and the
/// correct ones it should keep (I_pos).
#[derive(Debug, Clone, PartialEq)]
pub struct Sets {
    /// I_neg.
    pub negatives: LabelledActivations,
    /// I_pos.
    pub positives: LabelledActivations,
}

/// How a search's repaired layer scores against the layer it was given, on the
/// problem's own negatives and positives: what every report of a repair states (a
/// problem file's `repair.json` holds it as is).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RepairScore {
    /// Fitness of the layer as given.
    pub fitness_before: FitnessDetail,
    /// Fitness of the repaired layer.
    pub fitness_after: FitnessDetail,
    /// Share of the negatives the repaired layer classifies right.
    pub rr: f64,
    /// Share of the positives it breaks.
    pub br: f64,
    /// Objective evaluations.
    pub evaluations: u64,
    /// Why the search ended.
    pub termination: Termination,
    /// The search did not beat the given layer on its own objective, so the given layer
    /// is what the repair returns (see [`solve`]); `rr` and `br` are then the given
    /// layer's, `fitness_after` still the search's best.
    #[serde(default)]
    pub kept_original: bool,
}

/// What FL and the search of one problem found.
#[derive(Debug, Clone, PartialEq)]
pub struct Solved {
    /// The layer with the best position written into its sites.
    pub repaired: DenseLayer,
    /// The weights searched (an adaptive repair's: its first phase's; every changed
    /// weight is in `changes`).
    pub sites: Vec<Site>,
    /// Every weight changed, before and after.
    pub changes: Vec<WeightChange>,
    /// FL's candidates (empty when the sites were given).
    pub candidates: Vec<Candidate>,
    /// How the repaired layer scores against the given one.
    pub score: RepairScore,
    /// One record per iteration (generation).
    pub history: Vec<IterationRecord>,
    /// The phases of an adaptive repair (empty otherwise).
    pub phases: Vec<PhaseRecord>,
    /// Why an adaptive repair ended.
    pub adaptive_stop: Option<AdaptiveStop>,
    /// FL wall time, ms (0 with given sites).
    pub fl_ms: f64,
    /// Search wall time, ms.
    pub search_ms: f64,
    /// The problem searched (for `--export-problem`).
    pub problem: RepairProblem,
}

/// Localises (unless `sites` are given) and searches `layer` on `sets` with the method of
/// `settings` (its class and positives' rule are the repair set's business and unused
/// here). `earlier`: the last layer of an earlier checkpoint for the `history` strategy.
/// An adaptive repair localises again as it goes, so it takes no given sites.
pub fn solve(
    layer: &DenseLayer,
    sets: Sets,
    sites: Option<Vec<Site>>,
    settings: &RepairSettings,
    earlier: Option<&DenseLayer>,
    progress: &dyn Progress,
) -> Result<Solved> {
    let Sets {
        negatives,
        positives,
    } = sets;
    let view = layer.view();
    view.check("negatives", &negatives)?;
    positives.check("positives", layer.width, layer.classes)?;
    if negatives.is_empty() {
        return Err(MethodError::Invalid(
            "no negative inputs: nothing to repair".into(),
        ));
    }
    let solved = if let Strategy::Adaptive {
        window,
        threshold,
        max_phases,
    } = settings.strategy
    {
        if sites.is_some() {
            return Err(MethodError::Invalid(
                "the adaptive method localises its own sites (again at each phase); \
                 give no sites"
                    .into(),
            ));
        }
        let config = AdaptiveConfig {
            window,
            threshold,
            max_phases,
            iterations: settings.iterations,
        };
        adaptive(layer, negatives, positives, settings, &config, progress)?
    } else {
        single(
            layer, negatives, positives, sites, settings, earlier, progress,
        )?
    };
    let (solved, original, result) = solved;
    keep_the_better(layer, solved, original, result, settings.keep_worse)
}

/// The safeguard every repair goes through. Arachne's swarm never holds the original
/// weights and, as the study's code and the eAI toolkit do, returns the swarm's best
/// unconditionally, so a search can end below where it began. Unless `keep_worse` (the
/// study profiles, which reproduce the study), a result whose score on the search's own
/// objective (`result`; `original` is the same objective's score of the given layer,
/// computed by the same kernel) is not above the original's is replaced by the given
/// layer: `kept_original`, every searched weight back at its value, RR and BR those of
/// the given layer. For the `history` method the objective is the penalised fitness.
fn keep_the_better(
    layer: &DenseLayer,
    mut solved: Solved,
    original: f64,
    result: f64,
    keep_worse: bool,
) -> Result<Solved> {
    if keep_worse || result > original {
        return Ok(solved);
    }
    let (rr, br) = rates(layer, &solved.problem)?;
    for change in &mut solved.changes {
        change.repaired = change.original;
    }
    solved.repaired = layer.clone();
    solved.score.rr = rr;
    solved.score.br = br;
    solved.score.kept_original = true;
    Ok(solved)
}

/// What a search returns before the safeguard: what it found, and its objective's
/// score of the given layer and of the result.
type Searched = (Solved, f64, f64);

/// One localisation (or the given sites) and one search: the study's, DE's and the
/// history method's.
fn single(
    layer: &DenseLayer,
    negatives: LabelledActivations,
    positives: LabelledActivations,
    sites: Option<Vec<Site>>,
    settings: &RepairSettings,
    earlier: Option<&DenseLayer>,
    progress: &dyn Progress,
) -> Result<Searched> {
    let fl_start = Instant::now();
    let view = layer.view();
    let loss = settings.localiser.cross_entropy();
    let (sites, candidates) = match (sites, settings.strategy, earlier) {
        (Some(sites), ..) => (sites, Vec::new()),
        (None, Strategy::History { sites, .. }, Some(earlier)) => {
            let found = HistoryLocaliser {
                earlier_kernel: &earlier.kernel,
                k: sites,
                loss,
            }
            .localise(&view, &negatives, &positives)?;
            (found.sites, found.candidates)
        }
        (None, ..) => {
            let found = settings
                .localiser
                .localiser(settings.seed)
                .localise(&view, &negatives, &positives)?;
            (found.sites, found.candidates)
        }
    };
    let fl_ms = ms(fl_start);

    let search_start = Instant::now();
    let problem = RepairProblem {
        layer: layer.clone(),
        negatives,
        positives,
        sites,
    };
    problem.validate()?;
    let fitness = ArachneFitness::with_loss(&problem, loss)?;
    let start = problem.current();
    progress.begin("search", settings.iterations as u64);
    // The objective's own score of the original and of the result, by the one kernel
    // (`score`), for the safeguard.
    let (result, original_score, result_score) = match settings.strategy {
        Strategy::History { penalty, .. } => {
            let objective = RegressionControlled::new(&fitness, penalty)?;
            let result = search(&objective, &problem, settings, progress)?;
            let scores = (
                objective.score(&start),
                objective.score(&result.best_position),
            );
            (result, scores.0, scores.1)
        }
        _ => {
            let result = search(&fitness, &problem, settings, progress)?;
            let scores = (fitness.score(&start), fitness.score(&result.best_position));
            (result, scores.0, scores.1)
        }
    };
    progress.end();
    let search_ms = ms(search_start);

    let repaired = layer.patched(&problem.sites, &result.best_position);
    let (rr, br) = rates(&repaired, &problem)?;
    let solved = Solved {
        changes: changes(layer, &repaired, &problem.sites),
        sites: problem.sites.clone(),
        candidates,
        score: RepairScore {
            fitness_before: fitness.evaluate(&start)?,
            fitness_after: fitness.evaluate(&result.best_position)?,
            rr,
            br,
            evaluations: result.evaluations,
            termination: result.termination,
            kept_original: false,
        },
        history: result.history,
        phases: Vec::new(),
        adaptive_stop: None,
        fl_ms,
        search_ms,
        repaired,
        problem,
    };
    Ok((solved, original_score, result_score))
}

/// The configured search on `objective`: the study's PSO, textbook PSO or Arachne v2's
/// DE, seeded with the search seed.
fn search<O: Objective>(
    objective: &O,
    problem: &RepairProblem,
    settings: &RepairSettings,
    progress: &dyn Progress,
) -> Result<SearchResult> {
    let start = problem.current();
    if settings.search == Search::De {
        // Arachne v2 draws its first population from the layer's kernel weights.
        let kernel: Vec<f64> = problem.layer.kernel.iter().map(|&w| f64::from(w)).collect();
        let config = repair_de::DeConfig {
            population: settings.particles,
            generations: settings.iterations,
            ..repair_de::DeConfig::arachne(start.len(), &kernel, settings.search_seed())
        };
        return Ok(repair_de::evolve(&config, objective)?);
    }
    let config = PsoConfig {
        iterations: settings.iterations,
        ..swarm_config(
            settings,
            start,
            problem.layer_scale(),
            settings.search_seed(),
        )
    };
    let mut observe = |r: &IterationRecord| {
        progress.advance(1, Some(&format!("best {:.4}", r.best)));
    };
    Ok(run_with(
        Swarm::new(config, objective)?,
        objective,
        &mut observe,
    )?)
}

/// The configured swarm (study or textbook PSO) around `start`, with the configured
/// particles.
fn swarm_config(
    settings: &RepairSettings,
    start: Vec<f64>,
    scale: LayerScale,
    seed: u64,
) -> PsoConfig {
    PsoConfig {
        particles: settings.particles,
        ..match settings.search {
            Search::Canonical => PsoConfig::canonical(start, scale.std, seed),
            _ => PsoConfig::arachne(start, scale, seed),
        }
    }
}

/// The adaptive strategy: PSO phases re-localised on stagnation (`repair_adaptive`).
fn adaptive(
    layer: &DenseLayer,
    negatives: LabelledActivations,
    positives: LabelledActivations,
    settings: &RepairSettings,
    config: &AdaptiveConfig,
    progress: &dyn Progress,
) -> Result<Searched> {
    if settings.search == Search::De {
        return Err(MethodError::Invalid(
            "the adaptive strategy searches with PSO phases, not DE".into(),
        ));
    }
    let started = Instant::now();
    let localiser = settings.localiser.localiser(settings.seed);
    let problem = AdaptiveProblem {
        layer,
        negatives: &negatives,
        positives: &positives,
        loss: settings.localiser.cross_entropy(),
    };
    progress.begin("search", settings.iterations as u64);
    let result = adaptive_repair(
        &problem,
        localiser.as_ref(),
        config,
        &|start, scale, seed| swarm_config(settings, start, scale, seed),
        settings.search_seed(),
        &mut |phase, r| {
            progress.advance(1, Some(&format!("phase {phase} best {:.4}", r.best)));
        },
    )?;
    progress.end();
    let problem = RepairProblem {
        layer: layer.clone(),
        negatives,
        positives,
        sites: result.first.sites.clone(),
    };
    let (rr, br) = rates(&result.layer, &problem)?;
    // The adaptive search's objective is the layer's fitness over every phase's sites.
    let scores = (result.fitness_before.fitness, result.fitness_after.fitness);
    let solved = Solved {
        changes: changes(layer, &result.layer, &result.sites),
        sites: result.first.sites,
        candidates: result.first.candidates,
        score: RepairScore {
            fitness_before: result.fitness_before,
            fitness_after: result.fitness_after,
            rr,
            br,
            evaluations: result.evaluations,
            termination: match result.stop {
                AdaptiveStop::Budget => Termination::MaxIterations,
                _ => Termination::Observer,
            },
            kept_original: false,
        },
        history: result.history.into_iter().map(|(_, r)| r).collect(),
        phases: result.phases,
        adaptive_stop: Some(result.stop),
        fl_ms: 0.0,
        search_ms: ms(started),
        repaired: result.layer,
        problem,
    };
    Ok((solved, scores.0, scores.1))
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
            rr: solved.score.rr,
            br: solved.score.br,
            evaluations: 0,
            termination: None,
            kept_original: false,
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
        self.fitness_before = Some(solved.score.fitness_before);
        self.fitness_after = Some(solved.score.fitness_after);
        self.evaluations = solved.score.evaluations;
        self.termination = Some(solved.score.termination);
        self.kept_original = solved.score.kept_original;
        self.history = solved.history;
        self.phases = solved.phases;
        self.adaptive_stop = solved.adaptive_stop;
        self.problem = Some(solved.problem);
        solved.repaired
    }
}

/// RR on the problem's negatives and BR on its positives.
fn rates(repaired: &DenseLayer, problem: &RepairProblem) -> Result<(f64, f64)> {
    let share = |set: &LabelledActivations, right: bool| -> Result<f64> {
        let predicted = predict(repaired, set)?;
        let n = predicted
            .iter()
            .zip(&set.labels)
            .filter(|(p, l)| (p == l) == right)
            .count();
        Ok(n as f64 / set.len().max(1) as f64)
    };
    Ok((
        share(&problem.negatives, true)?,
        share(&problem.positives, false)?,
    ))
}

/// Predicted class of each row ([`repair_core::DenseLayerView::predict`]: the first
/// arg-max of b + a·W in `f64`, the rule of the repair fitness), with an error that
/// says what a width mismatch means here.
pub fn predict(layer: &DenseLayer, rows: &LabelledActivations) -> Result<Vec<u32>> {
    layer.view().predict(rows).map_err(|_| {
        MethodError::Invalid(format!(
            "{} activations for {} rows of width {}: the activations come from another model",
            rows.activations.len(),
            rows.len(),
            layer.width
        ))
    })
}

/// Milliseconds since `since`.
pub(crate) fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}
