//! One repair of one checkpoint for one class, on cached activations, as
//! the study's `repair/arachne/arachne.py` runs it (FL, `optimize`, `evaluate`) with the
//! positives of `dataset/eAIDataset.py` `sample_from_file`: repair sets, fault
//! localisation, PSO, RR and BR.

use std::time::Instant;

use repair_adaptive::{
    adaptive_repair, AdaptiveConfig, AdaptiveProblem, AdaptiveStop, PhaseRecord,
};
use repair_core::{CrossEntropy, DenseLayer, LabelledActivations, Progress, Site};
use repair_fitness::{ArachneFitness, FitnessDetail, RegressionControlled, RepairProblem};
use repair_fl::{Arachne, Candidate, FaultLocaliser, GradientTopK, HistoryLocaliser, RandomSites};
use repair_pso::{
    run_with, IterationRecord, LayerScale, Objective, PsoConfig, SearchResult, Swarm, Termination,
    ARACHNE_ITERATIONS, ARACHNE_PARTICLES,
};
use serde::{Deserialize, Serialize};

use crate::activations::predict;
use crate::error::{PipelineError, Result};
use crate::sampling::{sample_positives, PositiveSampler};

/// Positive inputs the study's repair samples from the correctly classified ones.
pub(crate) const STUDY_POSITIVES: usize = 200;

/// Sites of the `gradient` and `random` localisers unless told otherwise.
pub const BASELINE_SITES: usize = 10;

/// A fault localiser by name, as experiment files and the command line give it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocaliserName {
    /// Arachne v1 with the study's settings.
    #[default]
    Arachne,
    /// Top-k gradient loss.
    Gradient,
    /// k random sites.
    Random,
}

impl LocaliserName {
    /// The localiser, `sites` being k of the two baselines and `loss` the cross-entropy
    /// of the gradient loss (the same as the fitness's, so FL and search agree).
    pub fn choice(self, sites: usize, loss: CrossEntropy) -> LocaliserChoice {
        match self {
            LocaliserName::Arachne => LocaliserChoice::Arachne(Arachne {
                loss,
                ..Arachne::default()
            }),
            LocaliserName::Gradient => LocaliserChoice::Gradient(GradientTopK { k: sites, loss }),
            LocaliserName::Random => LocaliserChoice::Random { k: sites, loss },
        }
    }
}

/// Which fault localiser.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LocaliserChoice {
    /// Arachne v1 (the study).
    Arachne(Arachne),
    /// Top-k gradient loss.
    Gradient(GradientTopK),
    /// k random sites (seeded with the repair seed).
    Random {
        /// Number of sites.
        k: usize,
        /// The cross-entropy of the reported gradient loss and of the fitness.
        #[serde(default)]
        loss: CrossEntropy,
    },
}

impl LocaliserChoice {
    /// By name, as on the command line: `arachne` (the study's settings), or `gradient`
    /// / `random` with `sites` sites; `loss` as in [`LocaliserName::choice`].
    pub fn named(
        name: &str,
        sites: usize,
        loss: CrossEntropy,
    ) -> std::result::Result<Self, String> {
        let name = match name {
            "arachne" => LocaliserName::Arachne,
            "gradient" => LocaliserName::Gradient,
            "random" => LocaliserName::Random,
            other => {
                return Err(format!(
                    "unknown localiser `{other}` (arachne, gradient or random)"
                ))
            }
        };
        Ok(name.choice(sites, loss))
    }

    /// The localiser, `seed` seeding the random one.
    pub fn localiser(&self, seed: u64) -> Box<dyn FaultLocaliser> {
        match *self {
            LocaliserChoice::Arachne(a) => Box::new(a),
            LocaliserChoice::Gradient(g) => Box::new(g),
            LocaliserChoice::Random { k, loss } => Box::new(RandomSites { k, seed, loss }),
        }
    }

    /// The cross-entropy of the localiser's gradient loss, which the fitness uses too:
    /// one setting for both, so FL and search optimise the same loss.
    pub fn cross_entropy(&self) -> CrossEntropy {
        match *self {
            LocaliserChoice::Arachne(a) => a.loss,
            LocaliserChoice::Gradient(g) => g.loss,
            LocaliserChoice::Random { loss, .. } => loss,
        }
    }
}

/// Which search: the study's PSO, textbook PSO, or Arachne v2's differential
/// evolution (`particles` and `iterations` are then the population and generations;
/// Arachne v2 ran 100 of each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PsoPreset {
    /// [`PsoConfig::arachne`].
    #[default]
    Arachne,
    /// [`PsoConfig::canonical`] (init σ = layer std).
    Canonical,
    /// [`repair_de::DeConfig::arachne`]: Arachne v2's DE (coinse/arachne `de_vk.py`).
    De,
}

impl PsoPreset {
    /// By name: `arachne`, `canonical` or `de`.
    pub fn named(name: &str) -> std::result::Result<Self, String> {
        match name {
            "arachne" => Ok(PsoPreset::Arachne),
            "canonical" => Ok(PsoPreset::Canonical),
            "de" => Ok(PsoPreset::De),
            other => Err(format!(
                "unknown search `{other}` (arachne, canonical or de)"
            )),
        }
    }
}

/// A repair method by name: what an experiment's `repair.methods` lists and
/// `repairs.csv`'s `method` column says.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum MethodName {
    /// The study's: the configured localiser (Arachne v1) and search (its PSO), once.
    #[default]
    Arachne,
    /// Arachne v2's search: the configured localiser, then differential evolution.
    De,
    /// The configured localiser and PSO, re-localised when the search stagnates
    /// ([`Strategy::Adaptive`]).
    Adaptive,
    /// Sites from the training history and a search that prices regressions
    /// ([`Strategy::History`]).
    History,
}

impl MethodName {
    /// Every method, in table order.
    pub const ALL: [MethodName; 4] = [
        MethodName::Arachne,
        MethodName::De,
        MethodName::Adaptive,
        MethodName::History,
    ];

    /// The name in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            MethodName::Arachne => "arachne",
            MethodName::De => "de",
            MethodName::Adaptive => "adaptive",
            MethodName::History => "history",
        }
    }

    /// By name.
    pub fn named(name: &str) -> std::result::Result<Self, String> {
        MethodName::ALL
            .into_iter()
            .find(|m| m.as_str() == name)
            .ok_or_else(|| format!("unknown method `{name}` (arachne, de, adaptive or history)"))
    }
}

impl std::fmt::Display for MethodName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How localisation and search combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Strategy {
    /// Localise once, search once (the study).
    #[default]
    Single,
    /// Li Calsi et al.'s adaptive repair (`repair_adaptive`): PSO phases, re-localised on
    /// the patched layer when the best stagnates.
    Adaptive {
        /// w: iterations of the stagnation check (their default 10).
        window: usize,
        /// τ: relative improvement below which a phase stagnated (their 0.005).
        threshold: f64,
        /// Most localisations (their 10).
        max_phases: usize,
    },
    /// After NeuRecover: the `sites` weights that moved most since an earlier checkpoint
    /// times their gradient loss ([`HistoryLocaliser`]), searched with a penalty of
    /// `penalty` per broken positive ([`RegressionControlled`]). Without an earlier
    /// checkpoint (the first one, or none that gets more of the negatives right) the
    /// configured localiser finds the sites; the penalty stays.
    History {
        /// Number of sites.
        sites: usize,
        /// λ, the price of a broken positive.
        penalty: f64,
    },
}

impl Strategy {
    /// Whether this is the study's single localisation and search.
    pub fn is_single(&self) -> bool {
        *self == Strategy::Single
    }
}

/// Everything a repair run is configured by (recorded in `repair.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairSettings {
    /// The class to repair.
    pub class: u32,
    /// Fault localisation.
    pub localiser: LocaliserChoice,
    /// The search.
    pub pso: PsoPreset,
    /// Particles (the study: 100).
    pub particles: usize,
    /// Iterations (the study: 50).
    pub iterations: usize,
    /// Positive inputs drawn (the study: 200).
    pub positives: usize,
    /// How they are drawn.
    pub sampler: PositiveSampler,
    /// Seed of the positive sampling and random FL (the repair *problem*), and of the
    /// search unless `search_seed` is given.
    pub seed: u64,
    /// Seed of the search alone, so that several searches can run on one problem
    /// (repair-seed variance); `None` (and in `repair.json` files from before it
    /// existed): `seed`, as the study's single repairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_seed: Option<u64>,
    /// How localisation and search combine (absent in `repair.json`: the study's single
    /// pass).
    #[serde(default, skip_serializing_if = "Strategy::is_single")]
    pub strategy: Strategy,
    /// Classes repaired together with `class` (multi-class repair: the negatives of all
    /// of them, the same positives rule); empty, and absent from `repair.json`, for the
    /// study's one class.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joint_classes: Vec<u32>,
}

impl RepairSettings {
    /// The seed the search draws from.
    pub fn search_seed(&self) -> u64 {
        self.search_seed.unwrap_or(self.seed)
    }

    /// Every class repaired: `class`, then `joint_classes`.
    pub fn classes(&self) -> Vec<u32> {
        std::iter::once(self.class)
            .chain(self.joint_classes.iter().copied())
            .collect()
    }
}

impl RepairSettings {
    /// The study's settings for `class`.
    pub fn study(class: u32, seed: u64) -> Self {
        RepairSettings {
            class,
            localiser: LocaliserChoice::Arachne(Arachne::default()),
            pso: PsoPreset::Arachne,
            particles: ARACHNE_PARTICLES,
            iterations: ARACHNE_ITERATIONS,
            positives: STUDY_POSITIVES,
            sampler: PositiveSampler::Stratified,
            seed,
            search_seed: None,
            strategy: Strategy::Single,
            joint_classes: Vec::new(),
        }
    }
}

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

/// Repairs `layer` for `settings.class` on the repair set's cached activations and
/// returns the repaired layer (unchanged when there is nothing to repair).
pub fn repair_layer(
    layer: &DenseLayer,
    repair_set: &LabelledActivations,
    settings: &RepairSettings,
    progress: &dyn Progress,
) -> Result<(DenseLayer, RepairOutcome)> {
    repair_layer_with(layer, repair_set, settings, None, progress)
}

/// [`repair_layer`], with the last layer of an earlier checkpoint for the `history`
/// strategy (`None`: none qualifies; see [`Strategy::History`]).
pub fn repair_layer_with(
    layer: &DenseLayer,
    repair_set: &LabelledActivations,
    settings: &RepairSettings,
    earlier: Option<&DenseLayer>,
    progress: &dyn Progress,
) -> Result<(DenseLayer, RepairOutcome)> {
    let classes = settings.classes();
    if let Some(class) = classes.iter().find(|&&c| c as usize >= layer.classes) {
        return Err(PipelineError::Invalid(format!(
            "class {class} is out of range: the model has {} classes (0..={})",
            layer.classes,
            layer.classes - 1
        )));
    }
    if let Some(twice) = first_repeated(&classes) {
        return Err(PipelineError::Invalid(format!(
            "class {twice} is listed twice among the classes to repair"
        )));
    }
    let started = Instant::now();
    let predicted = predict(layer, repair_set)?;
    // The negatives of every class repaired (one class: the study's).
    let is_negative = |k: usize| {
        let label = repair_set.labels[k];
        classes.contains(&label) && predicted[k] != label
    };
    let negative_idx: Vec<usize> = (0..repair_set.len()).filter(|&k| is_negative(k)).collect();
    let correct_idx: Vec<usize> = (0..repair_set.len())
        .filter(|&k| predicted[k] == repair_set.labels[k])
        .collect();
    let correct_labels: Vec<u32> = correct_idx.iter().map(|&k| repair_set.labels[k]).collect();
    let sample = sample_positives(
        &correct_labels,
        settings.positives,
        settings.sampler,
        settings.seed,
    );
    let positive_idx: Vec<usize> = sample.iter().map(|&k| correct_idx[k]).collect();
    let (negatives, positives) = (
        rows(repair_set, layer.width, &negative_idx),
        rows(repair_set, layer.width, &positive_idx),
    );
    let mut outcome = RepairOutcome {
        negatives: negative_idx.len(),
        correct: correct_idx.len(),
        positives_sampled: positive_idx.len(),
        nothing_to_repair: negative_idx.is_empty(),
        changes: Vec::new(),
        candidates: Vec::new(),
        fitness_before: None,
        fitness_after: None,
        rr: 0.0,
        br: 0.0,
        evaluations: 0,
        termination: None,
        history: Vec::new(),
        phases: Vec::new(),
        adaptive_stop: None,
        timings: Timings {
            sets_ms: ms(started),
            ..Timings::default()
        },
        problem: None,
    };
    if outcome.nothing_to_repair {
        return Ok((layer.clone(), outcome));
    }
    if positives.is_empty() {
        return Err(PipelineError::Invalid(format!(
            "no correctly classified repair input to keep intact (classes {classes:?})"
        )));
    }

    if let Strategy::Adaptive {
        window,
        threshold,
        max_phases,
    } = settings.strategy
    {
        let config = AdaptiveConfig {
            window,
            threshold,
            max_phases,
            iterations: settings.iterations,
        };
        let repaired = adaptive(
            layer,
            (negatives, positives),
            settings,
            &config,
            progress,
            &mut outcome,
        )?;
        return finish(repair_set, &negative_idx, &correct_idx, repaired, outcome);
    }

    let fl_start = Instant::now();
    let view = layer.view();
    let loss = settings.localiser.cross_entropy();
    let found = match (settings.strategy, earlier) {
        (Strategy::History { sites, .. }, Some(earlier)) => HistoryLocaliser {
            earlier_kernel: &earlier.kernel,
            k: sites,
            loss,
        }
        .localise(&view, &negatives, &positives)?,
        _ => settings
            .localiser
            .localiser(settings.seed)
            .localise(&view, &negatives, &positives)?,
    };
    outcome.timings.fl_ms = ms(fl_start);
    outcome.candidates = found.candidates;

    let search_start = Instant::now();
    let problem = RepairProblem {
        layer: layer.clone(),
        negatives,
        positives,
        sites: found.sites.clone(),
    };
    let fitness = ArachneFitness::with_loss(&problem, loss)?;
    let start = problem.current();
    progress.begin("search", settings.iterations as u64);
    let result = match settings.strategy {
        Strategy::History { penalty, .. } => search(
            &RegressionControlled::new(&fitness, penalty)?,
            &problem,
            settings,
            progress,
        )?,
        _ => search(&fitness, &problem, settings, progress)?,
    };
    progress.end();
    outcome.timings.search_ms = ms(search_start);

    let repaired = layer.patched(&found.sites, &result.best_position);
    outcome.fitness_before = Some(fitness.evaluate(&start)?);
    outcome.fitness_after = Some(fitness.evaluate(&result.best_position)?);
    outcome.changes = changes(layer, &repaired, &found.sites);
    outcome.evaluations = result.evaluations;
    outcome.termination = Some(result.termination);
    outcome.history = result.history;
    outcome.problem = Some(problem);
    finish(repair_set, &negative_idx, &correct_idx, repaired, outcome)
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
    if settings.pso == PsoPreset::De {
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
        ..match settings.pso {
            PsoPreset::Canonical => PsoConfig::canonical(start, scale.std, seed),
            _ => PsoConfig::arachne(start, scale, seed),
        }
    }
}

/// The adaptive strategy: PSO phases re-localised on stagnation (`repair_adaptive`).
fn adaptive(
    layer: &DenseLayer,
    (negatives, positives): (LabelledActivations, LabelledActivations),
    settings: &RepairSettings,
    config: &AdaptiveConfig,
    progress: &dyn Progress,
    outcome: &mut RepairOutcome,
) -> Result<DenseLayer> {
    if settings.pso == PsoPreset::De {
        return Err(PipelineError::Invalid(
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
    outcome.timings.search_ms = ms(started);
    outcome.candidates = result.first.candidates.clone();
    outcome.changes = changes(layer, &result.layer, &result.sites);
    outcome.fitness_before = Some(result.fitness_before);
    outcome.fitness_after = Some(result.fitness_after);
    outcome.evaluations = result.evaluations;
    outcome.termination = Some(match result.stop {
        AdaptiveStop::Budget => Termination::MaxIterations,
        _ => Termination::Observer,
    });
    outcome.history = result.history.into_iter().map(|(_, r)| r).collect();
    outcome.phases = result.phases;
    outcome.adaptive_stop = Some(result.stop);
    outcome.problem = Some(RepairProblem {
        layer: layer.clone(),
        negatives,
        positives,
        sites: result.first.sites,
    });
    Ok(result.layer)
}

/// The weights at `sites` before and after.
fn changes(layer: &DenseLayer, repaired: &DenseLayer, sites: &[Site]) -> Vec<WeightChange> {
    sites
        .iter()
        .map(|&site| WeightChange {
            site,
            original: layer.view().weight(site),
            repaired: repaired.view().weight(site),
        })
        .collect()
}

/// RR and BR of `repaired` on the repair set, into `outcome`.
fn finish(
    repair_set: &LabelledActivations,
    negative_idx: &[usize],
    correct_idx: &[usize],
    repaired: DenseLayer,
    mut outcome: RepairOutcome,
) -> Result<(DenseLayer, RepairOutcome)> {
    let after = predict(&repaired, repair_set)?;
    let fixed = negative_idx
        .iter()
        .filter(|&&k| after[k] == repair_set.labels[k])
        .count();
    let broken = correct_idx
        .iter()
        .filter(|&&k| after[k] != repair_set.labels[k])
        .count();
    outcome.rr = fixed as f64 / negative_idx.len() as f64;
    outcome.br = broken as f64 / correct_idx.len().max(1) as f64;
    Ok((repaired, outcome))
}

/// The first item of `items` that an earlier one equals (a class or method listed twice).
pub(crate) fn first_repeated<T: PartialEq>(items: &[T]) -> Option<&T> {
    items
        .iter()
        .enumerate()
        .find_map(|(k, x)| items[..k].contains(x).then_some(x))
}

/// The rows `idx` of `set`.
fn rows(set: &LabelledActivations, width: usize, idx: &[usize]) -> LabelledActivations {
    LabelledActivations {
        activations: idx
            .iter()
            .flat_map(|&k| set.activations[k * width..(k + 1) * width].iter().copied())
            .collect(),
        labels: idx.iter().map(|&k| set.labels[k]).collect(),
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_localiser_carries_the_cross_entropy_the_fitness_then_uses() {
        for name in ["arachne", "gradient", "random"] {
            for loss in [CrossEntropy::Logits, CrossEntropy::Clipped] {
                let choice = LocaliserChoice::named(name, 4, loss).unwrap();
                assert_eq!(choice.cross_entropy(), loss, "{name}");
            }
        }
        let e = LocaliserChoice::named("annealing", 4, CrossEntropy::Logits).unwrap_err();
        assert!(e.contains("unknown localiser `annealing`"), "{e}");
        // The study's settings: Arachne with the study's unclipped loss.
        let study = RepairSettings::study(0, 0);
        assert_eq!(study.localiser.cross_entropy(), CrossEntropy::Logits);
    }

    #[test]
    fn a_class_outside_the_layer_or_listed_twice_is_refused() {
        let layer =
            DenseLayer::new(2, 3, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0], vec![0.0; 3]).unwrap();
        let set = LabelledActivations {
            activations: vec![1.0, 0.0, 0.0, 1.0],
            labels: vec![0, 2],
        };
        for (joint, says) in [
            (vec![3], "class 3 is out of range: the model has 3 classes"),
            (vec![2, 0], "class 0 is listed twice"),
        ] {
            let settings = RepairSettings {
                joint_classes: joint,
                ..RepairSettings::study(0, 0)
            };
            let e = repair_layer(&layer, &set, &settings, &repair_core::NoProgress)
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{e}");
        }
        assert_eq!(first_repeated(&[1, 2, 3]), None);
        assert_eq!(first_repeated(&[1, 2, 1, 2]), Some(&1));
    }
}
