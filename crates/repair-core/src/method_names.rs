//! What a repair is made of, by name: the method, the fault localiser, the search and
//! how positives are drawn. Experiment files, `repairs.csv`, the command line and the
//! Python package all spell them this way; the crates that implement them
//! (`repair-method`, `repair-fl`, `repair-pso`, `repair-de`) build the algorithm from
//! the name.

use serde::{Deserialize, Serialize};

use crate::choice::Choice;

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
    /// The configured localiser and PSO, re-localised when the search stagnates (Li
    /// Calsi et al. 2023's adaptive repair).
    Adaptive,
    /// Sites from the training history and a search that prices regressions (after
    /// NeuRecover).
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
        Choice::name(self)
    }
}

impl Choice for MethodName {
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

crate::choice_text!(MethodName);

/// A fault localiser by name.
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

impl Choice for LocaliserName {
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

crate::choice_text!(LocaliserName);

/// Which search: the study's PSO, textbook PSO, or Arachne v2's differential evolution
/// (`particles` and `iterations` are then the population and generations; Arachne v2
/// ran 100 of each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Search {
    /// The study's PSO (`repair/arachne/arachne.py`, with its quirks).
    #[default]
    Arachne,
    /// Textbook PSO (initial spread σ = the layer's standard deviation).
    Canonical,
    /// Arachne v2's DE (coinse/arachne `de_vk.py`).
    De,
}

impl Choice for Search {
    const WHAT: &'static str = "search";
    const ALL: &'static [Self] = &[Search::Arachne, Search::Canonical, Search::De];

    fn name(self) -> &'static str {
        match self {
            Search::Arachne => "arachne",
            Search::Canonical => "canonical",
            Search::De => "de",
        }
    }
}

crate::choice_text!(Search);

/// How positives are drawn from the correctly classified repair inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositiveSampler {
    /// The study's `EAIDataset.sample_from_file` (ER eAIDataset.py 134-217): per label
    /// l with n_l of N items, quota ⌊S/L · 2/3⌋ + ⌊S · n_l/N · 1/3⌋ capped at 2·n_l
    /// (then "saturated"); the whole shortfall goes to one random non-saturated label
    /// (its sign bug makes the loop do that at once); each label contributes its quota
    /// as whole copies plus a sample without replacement, and `np.unique` removes the
    /// copies — so a label yields min(quota, n_l) distinct items and the total can be
    /// below S. Returned sorted, like `np.unique`.
    Stratified,
    /// The eAI-Repair-Toolkit: S indices uniformly with replacement (duplicates kept).
    Uniform,
}

impl Choice for PositiveSampler {
    const WHAT: &'static str = "sampler";
    const ALL: &'static [Self] = &[PositiveSampler::Stratified, PositiveSampler::Uniform];

    fn name(self) -> &'static str {
        match self {
            PositiveSampler::Stratified => "stratified",
            PositiveSampler::Uniform => "uniform",
        }
    }
}

crate::choice_text!(PositiveSampler);
