//! What a repair is configured by: the localiser, the search, the method and its
//! strategy, the positives' sampling and the seeds (recorded in `repair.json`).

use repair_core::defaults::{ARACHNE_ITERATIONS, ARACHNE_PARTICLES, STUDY_POSITIVES};
use repair_core::{
    CrossEntropy, LocaliserName, MethodName, PositiveSampler, RepairRequest, Search,
};
use repair_fl::{Arachne, FaultLocaliser, GradientTopK, RandomSites};
use serde::{Deserialize, Serialize};

use crate::error::MethodError;

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
    /// The localiser `name`, `sites` being k of the two baselines and `loss` the
    /// cross-entropy of the gradient loss (the same as the fitness's, so FL and search
    /// agree).
    pub fn named(name: LocaliserName, sites: usize, loss: CrossEntropy) -> LocaliserChoice {
        match name {
            LocaliserName::Arachne => LocaliserChoice::Arachne(Arachne {
                loss,
                ..Arachne::default()
            }),
            LocaliserName::Gradient => LocaliserChoice::Gradient(GradientTopK { k: sites, loss }),
            LocaliserName::Random => LocaliserChoice::Random { k: sites, loss },
        }
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
    /// The search (`pso` in `repair.json`, as it was named before DE joined it).
    #[serde(rename = "pso")]
    pub search: Search,
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
    /// Return the search's best even when it does not beat the original layer (the
    /// study's behaviour, which its profiles keep to reproduce it); false, and absent
    /// from `repair.json`: the original is returned instead ([`crate::solve`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_worse: bool,
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
            search: Search::Arachne,
            particles: ARACHNE_PARTICLES,
            iterations: ARACHNE_ITERATIONS,
            positives: STUDY_POSITIVES,
            sampler: PositiveSampler::Stratified,
            seed,
            search_seed: None,
            strategy: Strategy::Single,
            joint_classes: Vec::new(),
            keep_worse: false,
        }
    }
}

impl RepairSettings {
    /// The settings of `request`: the study's single localisation and search with the
    /// request's localiser, search, swarm and positives, turned into its method — `de`
    /// searches with DE, `adaptive` in PSO phases, `history` with its own sites and
    /// penalty. The one mapping from a method to settings, which the command line, the
    /// experiment config and the Python package all go through. A search the method
    /// cannot use is an error, not replaced in silence.
    pub fn requested(request: &RepairRequest) -> crate::Result<Self> {
        let r = request;
        let base = RepairSettings {
            class: r.class,
            localiser: LocaliserChoice::named(r.localiser, r.sites, r.cross_entropy),
            search: r.search,
            particles: r.particles,
            iterations: r.iterations,
            positives: r.positives,
            sampler: r.sampler,
            seed: r.seed,
            search_seed: r.search_seed,
            strategy: Strategy::Single,
            joint_classes: r.joint_classes.clone(),
            keep_worse: r.keep_worse,
        };
        match r.method {
            MethodName::Arachne => Ok(base),
            MethodName::De if r.search == Search::Canonical => {
                Err(MethodError::SearchNotForMethod {
                    method: r.method,
                    search: r.search,
                })
            }
            MethodName::De => Ok(RepairSettings {
                search: Search::De,
                ..base
            }),
            MethodName::Adaptive if r.search == Search::De => {
                Err(MethodError::SearchNotForMethod {
                    method: r.method,
                    search: r.search,
                })
            }
            MethodName::Adaptive => Ok(RepairSettings {
                strategy: Strategy::Adaptive {
                    window: r.window,
                    threshold: r.threshold,
                    max_phases: r.max_phases,
                },
                ..base
            }),
            MethodName::History => Ok(RepairSettings {
                strategy: Strategy::History {
                    sites: r.history_sites,
                    penalty: r.penalty,
                },
                ..base
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
                let choice = LocaliserChoice::named(name.parse().unwrap(), 4, loss);
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
