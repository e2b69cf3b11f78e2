//! A repair as a user asks for it — the command line's flags, an experiment file's
//! `[repair]` table, the Python package's keyword arguments — in names and numbers,
//! before any algorithm is built. `repair-method` turns a request into the settings its
//! search runs with (and records in `repair.json`), in one place, refusing a search
//! the method cannot use.

use crate::cross_entropy::CrossEntropy;
use crate::defaults::{
    ARACHNE_ITERATIONS, ARACHNE_PARTICLES, BASELINE_SITES, HISTORY_PENALTY, MAX_PHASES,
    STAGNATION_THRESHOLD, STAGNATION_WINDOW, STUDY_POSITIVES,
};
use crate::method_names::{LocaliserName, MethodName, PositiveSampler, Search};

/// What a repair is asked to do; [`RepairRequest::study`] is the study's repair of one
/// class, and every other field a departure from it.
#[derive(Debug, Clone, PartialEq)]
pub struct RepairRequest {
    /// The class to repair.
    pub class: u32,
    /// Classes repaired together with `class` (a multi-class repair); empty for one.
    pub joint_classes: Vec<u32>,
    /// Seed of the positives' sampling and of random FL (the repair problem), and of the
    /// search unless `search_seed` is given.
    pub seed: u64,
    /// Seed of the search alone (several searches on one problem).
    pub search_seed: Option<u64>,
    /// The method.
    pub method: MethodName,
    /// The fault localiser of the methods that take one.
    pub localiser: LocaliserName,
    /// Sites of the `gradient` and `random` localisers.
    pub sites: usize,
    /// The cross-entropy of the localiser's gradient loss and of the fitness.
    pub cross_entropy: CrossEntropy,
    /// The search (`de` is what the `de` method searches with).
    pub search: Search,
    /// Particles (DE: the population).
    pub particles: usize,
    /// Iterations (DE: the generations).
    pub iterations: usize,
    /// Positive inputs drawn from the correctly classified ones.
    pub positives: usize,
    /// How they are drawn.
    pub sampler: PositiveSampler,
    /// `adaptive`: w, the iterations of the stagnation check.
    pub window: usize,
    /// `adaptive`: τ, the relative improvement below which a phase stagnated.
    pub threshold: f64,
    /// `adaptive`: the most localisations.
    pub max_phases: usize,
    /// `history`: the number of sites.
    pub history_sites: usize,
    /// `history`: λ, the price of a broken positive.
    pub penalty: f64,
    /// Return the search's best even when it is worse than the original layer on the
    /// search's own objective (the study's behaviour); false: the original is returned
    /// then, and the repair says so.
    pub keep_worse: bool,
}

impl RepairRequest {
    /// The study's repair of `class` with repair seed `seed`: Arachne v1 localisation
    /// and its PSO (100 particles, 50 iterations), 200 positives drawn stratified, the
    /// unclipped cross-entropy; the other methods' settings at their papers' defaults;
    /// never worse than the original (`keep_worse` false: what a user gets; the
    /// experiment's study profiles set it).
    pub fn study(class: u32, seed: u64) -> Self {
        RepairRequest {
            class,
            joint_classes: Vec::new(),
            seed,
            search_seed: None,
            method: MethodName::Arachne,
            localiser: LocaliserName::Arachne,
            sites: BASELINE_SITES,
            cross_entropy: CrossEntropy::Logits,
            search: Search::Arachne,
            particles: ARACHNE_PARTICLES,
            iterations: ARACHNE_ITERATIONS,
            positives: STUDY_POSITIVES,
            sampler: PositiveSampler::Stratified,
            window: STAGNATION_WINDOW,
            threshold: STAGNATION_THRESHOLD,
            max_phases: MAX_PHASES,
            history_sites: BASELINE_SITES,
            penalty: HISTORY_PENALTY,
            keep_worse: false,
        }
    }

    /// Every class repaired: `class`, then `joint_classes`.
    pub fn classes(&self) -> Vec<u32> {
        std::iter::once(self.class)
            .chain(self.joint_classes.iter().copied())
            .collect()
    }
}
