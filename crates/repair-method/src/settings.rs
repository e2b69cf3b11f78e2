//! What a repair is configured by: the localiser, the search, the method and its
//! strategy, the positives' sampling and the seeds (recorded in `repair.json`).

use repair_core::CrossEntropy;
use repair_fl::{Arachne, FaultLocaliser, GradientTopK, RandomSites};
use repair_pso::{ARACHNE_ITERATIONS, ARACHNE_PARTICLES};
use serde::{Deserialize, Serialize};

use crate::sampling::PositiveSampler;

/// Positive inputs the study's repair samples from the correctly classified ones.
pub const STUDY_POSITIVES: usize = 200;

/// Sites of the `gradient` and `random` localisers unless told otherwise.
pub const BASELINE_SITES: usize = 10;

/// λ of the `history` method unless told otherwise: a broken positive costs as much as
/// a fixed negative gains.
pub const HISTORY_PENALTY: f64 = 1.0;

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

impl repair_core::Choice for LocaliserName {
    const WHAT: &'static str = "localiser";
    const ALL: &'static [Self] = &[
        LocaliserName::Arachne,
        LocaliserName::Gradient,
        LocaliserName::Random,
    ];

    fn name(self) -> &'static str {
        match self {
            LocaliserName::Arachne => "arachne",
            LocaliserName::Gradient => "gradient",
            LocaliserName::Random => "random",
        }
    }
}

repair_core::choice_text!(LocaliserName);

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
    /// [`repair_pso::PsoConfig::arachne`].
    #[default]
    Arachne,
    /// [`repair_pso::PsoConfig::canonical`] (init σ = layer std).
    Canonical,
    /// [`repair_de::DeConfig::arachne`]: Arachne v2's DE (coinse/arachne `de_vk.py`).
    De,
}

impl repair_core::Choice for PsoPreset {
    const WHAT: &'static str = "search";
    const ALL: &'static [Self] = &[PsoPreset::Arachne, PsoPreset::Canonical, PsoPreset::De];

    fn name(self) -> &'static str {
        match self {
            PsoPreset::Arachne => "arachne",
            PsoPreset::Canonical => "canonical",
            PsoPreset::De => "de",
        }
    }
}

repair_core::choice_text!(PsoPreset);

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
        repair_core::Choice::name(self)
    }
}

impl repair_core::Choice for MethodName {
    const WHAT: &'static str = "method";
    const ALL: &'static [Self] = &MethodName::ALL;

    fn name(self) -> &'static str {
        match self {
            MethodName::Arachne => "arachne",
            MethodName::De => "de",
            MethodName::Adaptive => "adaptive",
            MethodName::History => "history",
        }
    }
}

repair_core::choice_text!(MethodName);

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
    /// times their gradient loss ([`repair_fl::HistoryLocaliser`]), searched with a penalty of
    /// `penalty` per broken positive ([`repair_fitness::RegressionControlled`]). Without an earlier
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

/// The settings of the methods beyond the study's (their papers' defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MethodOptions {
    /// adaptive: w, the iterations of the stagnation check.
    pub window: usize,
    /// adaptive: τ, the relative improvement below which a phase stagnated.
    pub threshold: f64,
    /// adaptive: the most localisations.
    pub max_phases: usize,
    /// history: the number of sites.
    pub history_sites: usize,
    /// history: λ, the price of a broken positive.
    pub penalty: f64,
}

impl Default for MethodOptions {
    fn default() -> Self {
        MethodOptions {
            window: repair_adaptive::STAGNATION_WINDOW,
            threshold: repair_adaptive::STAGNATION_THRESHOLD,
            max_phases: repair_adaptive::MAX_PHASES,
            history_sites: BASELINE_SITES,
            penalty: HISTORY_PENALTY,
        }
    }
}

impl RepairSettings {
    /// These settings (the study's method with a localiser and a search) as `method`
    /// (`xtask repair --method`, the Python package's `method=`): `de` searches with
    /// DE, `adaptive` in PSO phases, `history` with its own sites and penalty. A search
    /// the method cannot use is an error, not replaced in silence.
    pub fn with_method(
        self,
        method: MethodName,
        options: &MethodOptions,
    ) -> std::result::Result<Self, String> {
        match method {
            MethodName::Arachne => Ok(self),
            MethodName::De if self.pso == PsoPreset::Canonical => Err(
                "method `de` searches with DE, not with the `canonical` PSO: leave the search out"
                    .into(),
            ),
            MethodName::De => Ok(RepairSettings {
                pso: PsoPreset::De,
                ..self
            }),
            MethodName::Adaptive if self.pso == PsoPreset::De => Err(
                "method `adaptive` searches in PSO phases: the search `arachne` or `canonical`, not `de`"
                    .into(),
            ),
            MethodName::Adaptive => Ok(RepairSettings {
                strategy: Strategy::Adaptive {
                    window: options.window,
                    threshold: options.threshold,
                    max_phases: options.max_phases,
                },
                ..self
            }),
            MethodName::History => Ok(RepairSettings {
                strategy: Strategy::History {
                    sites: options.history_sites,
                    penalty: options.penalty,
                },
                ..self
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_localiser_carries_the_cross_entropy_the_fitness_then_uses() {
        for name in ["arachne", "gradient", "random"] {
            for loss in [CrossEntropy::Logits, CrossEntropy::Clipped] {
                let choice = name.parse::<LocaliserName>().unwrap().choice(4, loss);
                assert_eq!(choice.cross_entropy(), loss, "{name}");
            }
        }
        let e = "annealing"
            .parse::<LocaliserName>()
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "unknown localiser `annealing` (arachne, gradient or random)"
        );
        // The study's settings: Arachne with the study's unclipped loss.
        let study = RepairSettings::study(0, 0);
        assert_eq!(study.localiser.cross_entropy(), CrossEntropy::Logits);
    }
}
