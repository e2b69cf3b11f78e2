//! An experiment as a TOML file with named profiles (`experiments/<name>.toml`): the
//! dataset, and per profile four sections — `[data]` (split and subsets), `[train]`
//! (model, seeds, training recipe and schedule), `[repair]` (classes, localiser, search)
//! and `[report]` (α values). Every key has one default, written here, so a profile
//! names only what it changes; unknown keys are errors, so a typo cannot silently fall
//! back to a default. `--set section.key=value` replaces one setting.

use std::collections::BTreeMap;
use std::path::Path;

use repair_core::defaults::{
    ARACHNE_DE_GENERATIONS, ARACHNE_ITERATIONS, ARACHNE_PARTICLES, BASELINE_SITES, HISTORY_PENALTY,
    PAPER_ALPHAS, STUDY_POSITIVES,
};
use repair_core::Arch;
use repair_core::CrossEntropy;
use repair_core::RuleSpec;
use repair_data::{check_classes_kept, Dataset, Split, SplitRule};
use repair_train::TrainConfig;
use serde::{Deserialize, Serialize};

use repair_core::{LocaliserName, MethodName, PositiveSampler, RepairRequest, Search};
use repair_method::{first_repeated, RepairSettings};
use repair_pipeline::{file_error, PipelineError, Result};

/// Dotted keys that may be absent from a profile (and so from its table) but can
/// still be `--set`.
const OPTIONAL_KEYS: [&str; 13] = [
    "repair.joint",
    "repair.keep_worse",
    "repair.repair_seeds",
    "data.input_side",
    "online.rule",
    "online.alpha",
    "repair.methods",
    "repair.de_generations",
    "repair.adaptive_window",
    "repair.adaptive_threshold",
    "repair.adaptive_phases",
    "repair.history_sites",
    "repair.history_penalty",
];

/// The keys of the flat profile layout that sections replaced, with their section.
const FLAT_KEYS: [(&str, &str); 22] = [
    ("input_side", "data"),
    ("split_seed", "data"),
    ("split_rule", "data"),
    ("train_every", "data"),
    ("val_every", "data"),
    ("repair_every", "data"),
    ("test_every", "data"),
    ("model", "train"),
    ("seeds", "train"),
    ("max_epochs", "train"),
    ("patience", "train"),
    ("batch_size", "train"),
    ("checkpoint_every", "train"),
    ("classes", "repair"),
    ("worst_classes", "repair"),
    ("localiser", "repair"),
    ("pso", "repair (as `search`)"),
    ("particles", "repair"),
    ("iterations", "repair"),
    ("positives", "repair"),
    (
        "repair_after_convergence",
        "repair (as `after_convergence`)",
    ),
    ("alphas", "report"),
];

/// An experiment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// Dataset name (`gtsrb`, `pneumonia`, `rsna`).
    pub dataset: String,
    /// Profiles by name (`quick`, `paper`, ...).
    pub profiles: BTreeMap<String, ExperimentConfig>,
}

/// One profile: everything a run of the experiment depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// The split and the subsets of its parts.
    #[serde(default)]
    pub data: DataSection,
    /// What is trained, and how.
    pub train: TrainSection,
    /// What is repaired, and how.
    #[serde(default)]
    pub repair: RepairSection,
    /// How the results are summarised.
    #[serde(default)]
    pub report: ReportSection,
    /// Train in the online mode: repair every epoch and stop when a readiness rule says
    /// so. Left out of the config (and its hash) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<OnlineSection>,
}

/// `[online]`: each run trains in the online mode (`train_online`) for the one class of
/// `repair.classes`; its checkpoints, up to where the rule stopped, are then repaired as
/// in any experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnlineSection {
    /// The stop rule (`best-repaired`, `saturated:2:0.002:0.5`, …), checked when read.
    pub rule: RuleSpec,
    /// α of the Qual_α it optimises (default 0.5).
    #[serde(default = "half")]
    pub alpha: f64,
}

fn half() -> f64 {
    0.5
}

/// `[data]`: the split and every part's stride.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataSection {
    /// Resize every image to `input_side × input_side` before splitting (bilinear);
    /// absent: the dataset's own size. DenseNet-121 needs ≥ 32 (PneumoniaMNIST is 28);
    /// the study fed it RSNA at 160. Left out of the config (and its hash) when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_side: Option<usize>,
    /// Seed of the data split (default 42).
    pub split_seed: u64,
    /// Split rule (default `study`; `by-track`, `official`).
    pub split_rule: SplitRule,
    /// Keep every k-th training image (default 1: all).
    pub train_every: usize,
    /// Keep every k-th validation image.
    pub val_every: usize,
    /// Keep every k-th repair image.
    pub repair_every: usize,
    /// Keep every k-th test image.
    pub test_every: usize,
}

impl DataSection {
    /// `split` with every part thinned by its stride (every k-th index kept). A stride
    /// that empties a part or leaves a class of it without images is refused, naming
    /// the key (the parts are in class order, so a large stride skips small classes).
    pub fn thin(&self, split: Split, images: &dyn Dataset) -> repair_data::Result<Split> {
        let every = |part: &[usize], name: &str, key: &str, k: usize| {
            let kept: Vec<usize> = part.iter().step_by(k).copied().collect();
            check_classes_kept(images, part, &kept, name, &format!("data.{key} = {k}"))?;
            Ok::<_, repair_data::DataError>(kept)
        };
        Ok(Split {
            train: every(&split.train, "train", "train_every", self.train_every)?,
            val: every(&split.val, "val", "val_every", self.val_every)?,
            repair: every(&split.repair, "repair", "repair_every", self.repair_every)?,
            test: every(&split.test, "test", "test_every", self.test_every)?,
            ..split
        })
    }
}

impl Default for DataSection {
    fn default() -> Self {
        DataSection {
            input_side: None,
            split_seed: repair_core::defaults::STUDY_SPLIT_SEED,
            split_rule: SplitRule::Study,
            train_every: 1,
            val_every: 1,
            repair_every: 1,
            test_every: 1,
        }
    }
}

/// The training recipe a run starts from (its learning rate and schedule).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainRecipe {
    /// The paper's: lr 1e-2, ×0.1 every 10 epochs ([`TrainConfig::paper`]).
    #[default]
    Paper,
    /// What the study's code ran: lr 1e-4 with the compounding decay
    /// ([`TrainConfig::study_code`]).
    StudyCode,
}

/// `[train]`: the model, the seeds, the recipe and the schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSection {
    /// The zoo model.
    pub model: Arch,
    /// Training seeds, one run each.
    pub seeds: Vec<u64>,
    /// Learning rate and schedule (default `paper`).
    #[serde(default)]
    pub recipe: TrainRecipe,
    /// Upper bound on epochs (default: the paper's 30).
    #[serde(default = "paper_max_epochs")]
    pub max_epochs: usize,
    /// Early-stopping patience (default: the paper's 5).
    #[serde(default = "paper_patience")]
    pub patience: usize,
    /// Mini-batch size (default: the paper's 128).
    #[serde(default = "paper_batch_size")]
    pub batch_size: usize,
    /// Checkpoint every k epochs, plus epoch 1, converged and last (default: 5).
    #[serde(default = "paper_checkpoint_every")]
    pub checkpoint_every: usize,
}

fn paper_max_epochs() -> usize {
    TrainConfig::paper(0).max_epochs
}
fn paper_patience() -> usize {
    TrainConfig::paper(0).patience
}
fn paper_batch_size() -> usize {
    TrainConfig::paper(0).batch_size
}
fn paper_checkpoint_every() -> usize {
    TrainConfig::paper(0).checkpoint_every
}

impl TrainSection {
    /// The training config of the run with `seed`.
    pub fn config(&self, seed: u64) -> TrainConfig {
        let recipe = match self.recipe {
            TrainRecipe::Paper => TrainConfig::paper(seed),
            TrainRecipe::StudyCode => TrainConfig::study_code(seed),
        };
        TrainConfig {
            max_epochs: self.max_epochs,
            patience: self.patience,
            batch_size: self.batch_size,
            checkpoint_every: self.checkpoint_every,
            ..recipe
        }
    }
}

/// `[repair]`: which classes and checkpoints, the localiser and the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RepairSection {
    /// Classes to repair; empty (the default) → the `worst_classes` with the lowest
    /// mean test accuracy over all checkpoints (the paper's rule).
    pub classes: Vec<u32>,
    /// How many worst classes when `classes` is empty (default: the paper's 3).
    pub worst_classes: usize,
    /// Fault localiser (default `arachne`).
    pub localiser: LocaliserName,
    /// Sites of the `gradient` and `random` localisers (default 10).
    pub sites: usize,
    /// The search (default `arachne`, the study's PSO; `canonical`; `de`, Arachne v2's
    /// differential evolution with `particles` as its population and `iterations` as
    /// its generations).
    pub search: Search,
    /// Particles (default: the study's 100).
    pub particles: usize,
    /// Iterations (default: the study's 50).
    pub iterations: usize,
    /// Positive inputs per repair (default: the study's 200).
    pub positives: usize,
    /// The cross-entropy of FL and fitness (default `logits`: unclipped, as the study's
    /// Keras; `clipped`: Keras' probability clip).
    pub cross_entropy: CrossEntropy,
    /// Also repair checkpoints after the converged one (default false).
    pub after_convergence: bool,
    /// The repair methods, each a column value of `repairs.csv` and a Table 1 of its
    /// own (default `["arachne"]`, the study's; `de`, `adaptive`, `history`). Left out
    /// of the config (and its hash) when it is the default, as are the keys below.
    #[serde(skip_serializing_if = "is_study_methods")]
    pub methods: Vec<MethodName>,
    /// Generations of the `de` method (Arachne v2's 100; its population is `particles`).
    #[serde(skip_serializing_if = "is_de_generations")]
    pub de_generations: usize,
    /// w of the `adaptive` method's stagnation check (Li Calsi et al.'s 10).
    #[serde(skip_serializing_if = "is_adaptive_window")]
    pub adaptive_window: usize,
    /// τ of that check, a relative improvement (their 0.005).
    #[serde(skip_serializing_if = "is_adaptive_threshold")]
    pub adaptive_threshold: f64,
    /// Most localisations of the `adaptive` method (their 10).
    #[serde(skip_serializing_if = "is_adaptive_phases")]
    pub adaptive_phases: usize,
    /// Sites of the `history` method (default 10, as the baselines').
    #[serde(skip_serializing_if = "is_history_sites")]
    pub history_sites: usize,
    /// λ of the `history` method: the price of a broken positive (default 1).
    #[serde(skip_serializing_if = "is_history_penalty")]
    pub history_penalty: f64,
    /// Also repair all the target classes at once, per checkpoint and method (a
    /// multi-class repair, method `METHOD-joint` in `joint.csv`), and compare it with the
    /// single repairs in `multiclass.csv` / `multiclass.md` (default false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub joint: bool,
    /// Searches per repair unit (default 1, the study's): the first with the problem's
    /// seed, the others with search seeds 1, 2, … on the same problem (positives and
    /// sites), so that the report can tell repair-seed variance from training-seed
    /// variance (`variance.csv`, `variance.md`).
    #[serde(skip_serializing_if = "is_one")]
    pub repair_seeds: usize,
    /// Keep a repair that does worse than the original layer on its search's own
    /// objective, as the study did (its Arachne returns the swarm's best unconditionally):
    /// the study profiles set it, so that Table 1 stays the study's; absent (false), a
    /// repair that does not beat the original returns the original and says so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_worse: bool,
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

fn is_study_methods(m: &[MethodName]) -> bool {
    m == [MethodName::Arachne]
}
fn is_de_generations(g: &usize) -> bool {
    *g == ARACHNE_DE_GENERATIONS
}
fn is_adaptive_window(w: &usize) -> bool {
    *w == repair_core::defaults::STAGNATION_WINDOW
}
fn is_adaptive_threshold(t: &f64) -> bool {
    *t == repair_core::defaults::STAGNATION_THRESHOLD
}
fn is_adaptive_phases(p: &usize) -> bool {
    *p == repair_core::defaults::MAX_PHASES
}
fn is_history_sites(k: &usize) -> bool {
    *k == BASELINE_SITES
}
fn is_history_penalty(l: &f64) -> bool {
    *l == HISTORY_PENALTY
}

impl RepairSection {
    /// The settings of the study's method for `class` in the run with training seed
    /// `seed` ([`RepairSection::settings_for`] of `arachne`, which takes any search).
    pub fn settings(&self, class: u32, seed: u64) -> RepairSettings {
        self.settings_for(MethodName::Arachne, class, seed)
            .expect("the study's method takes every search")
    }

    /// The settings of `method` for `class` in the run with training seed `seed` (the
    /// repair seed is the run's, as in the study), positives drawn stratified: every
    /// method shares the configured localiser, positives and particles; `de` searches
    /// for `de_generations`. The method's own settings follow from the one mapping,
    /// [`RepairSettings::requested`], which the command line and the Python package
    /// use too and which refuses a search the method cannot use.
    pub fn settings_for(
        &self,
        method: MethodName,
        class: u32,
        seed: u64,
    ) -> std::result::Result<RepairSettings, BadSetting> {
        RepairSettings::requested(&self.request_for(method, class, seed)).map_err(|e| {
            BadSetting::new(
                "repair.search",
                format!(
                    "repair.methods `{method}` with repair.search `{}`: {e}",
                    self.search
                ),
            )
        })
    }

    /// The request behind [`RepairSection::settings_for`]: this section's choices for
    /// `method`, `class` and repair seed `seed`.
    pub fn request_for(&self, method: MethodName, class: u32, seed: u64) -> RepairRequest {
        RepairRequest {
            method,
            localiser: self.localiser,
            sites: self.sites,
            cross_entropy: self.cross_entropy,
            search: self.search,
            particles: self.particles,
            iterations: match method {
                MethodName::De => self.de_generations,
                _ => self.iterations,
            },
            positives: self.positives,
            sampler: PositiveSampler::Stratified,
            window: self.adaptive_window,
            threshold: self.adaptive_threshold,
            max_phases: self.adaptive_phases,
            history_sites: self.history_sites,
            penalty: self.history_penalty,
            keep_worse: self.keep_worse,
            ..RepairRequest::study(class, seed)
        }
    }
}

impl Default for RepairSection {
    fn default() -> Self {
        RepairSection {
            classes: Vec::new(),
            worst_classes: 3,
            localiser: LocaliserName::Arachne,
            sites: BASELINE_SITES,
            search: Search::Arachne,
            particles: ARACHNE_PARTICLES,
            iterations: ARACHNE_ITERATIONS,
            positives: STUDY_POSITIVES,
            cross_entropy: CrossEntropy::Logits,
            after_convergence: false,
            methods: vec![MethodName::Arachne],
            de_generations: ARACHNE_DE_GENERATIONS,
            adaptive_window: repair_core::defaults::STAGNATION_WINDOW,
            adaptive_threshold: repair_core::defaults::STAGNATION_THRESHOLD,
            adaptive_phases: repair_core::defaults::MAX_PHASES,
            history_sites: BASELINE_SITES,
            history_penalty: HISTORY_PENALTY,
            joint: false,
            repair_seeds: 1,
            keep_worse: false,
        }
    }
}

/// `[report]`: the α values of Qual_α.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSection {
    /// α values of Qual_α (default: the paper's 0.2, 0.5, 0.8).
    pub alphas: Vec<f64>,
}

impl Default for ReportSection {
    fn default() -> Self {
        ReportSection {
            alphas: PAPER_ALPHAS.to_vec(),
        }
    }
}

impl ExperimentFile {
    /// Reads and checks an experiment file. A profile in the flat layout of before the
    /// sections is an error that says where each of its keys goes now.
    pub fn load(path: &Path) -> Result<Self> {
        let fail = |problem: String| file_error(path, problem);
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
        if let Some(toml::Value::Table(profiles)) = table.get("profiles") {
            for (name, profile) in profiles {
                if let Some(problem) = profile.as_table().and_then(flat_layout) {
                    return Err(fail(format!("profile `{name}`: {problem}")));
                }
            }
        }
        let file: ExperimentFile = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
        for (name, profile) in &file.profiles {
            profile
                .validate()
                .map_err(|problem| fail(format!("profile `{name}`: {problem}")))?;
        }
        Ok(file)
    }

    /// The profile `name` of `path` with the `--set` overrides `set`, checked against the
    /// file's dataset ([`ExperimentConfig::for_dataset`]): the one load and check of what
    /// `xtask experiment` runs and `xtask slurm` submits, so that every task a cluster
    /// would start fails here instead.
    pub fn load_profile(
        path: &Path,
        name: &str,
        set: &[String],
    ) -> Result<(ExperimentFile, ExperimentConfig)> {
        let file = ExperimentFile::load(path)?;
        let config = file.profile(name)?.with_overrides(set)?;
        config.for_dataset(&file.dataset)?;
        Ok((file, config))
    }

    /// The named profile.
    pub fn profile(&self, name: &str) -> Result<&ExperimentConfig> {
        self.profiles.get(name).ok_or_else(|| {
            PipelineError::Invalid(format!(
                "no profile `{name}` (have: {})",
                self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })
    }
}

/// How to rewrite a profile whose keys sit at its top level, if they do.
fn flat_layout(profile: &toml::Table) -> Option<String> {
    let moved: Vec<String> = FLAT_KEYS
        .iter()
        .filter(|(key, _)| profile.contains_key(*key))
        .map(|(key, section)| format!("{key} → [{section}]"))
        .collect();
    (!moved.is_empty()).then(|| {
        format!(
            "the flat layout is no longer read; put the keys into sections \
             ([profiles.NAME.data], .train, .repair, .report; defaults may be left out): {}",
            moved.join(", ")
        )
    })
}

impl ExperimentConfig {
    /// Whether `other` trains the same runs: the same `[data]`, `[train]` and
    /// `[online]` (only `[repair]` and `[report]` may differ).
    pub fn trains_like(&self, other: &ExperimentConfig) -> bool {
        self.data == other.data && self.train == other.train && self.online == other.online
    }

    /// The `xxh3-64:` hash of the JSON form ([`repair_core::content_hash`]), recorded
    /// in `experiment.json`: a folder made with another config is refused.
    pub fn hash(&self) -> String {
        repair_core::content_hash(&serde_json::to_vec(self).expect("config serialises"))
    }

    /// This profile with `section.key=value` settings replaced (`train.seeds=[1024,2048]`,
    /// `train.model=cnn-s`, `train.recipe=study_code`): values are TOML, bare words are
    /// strings. An unknown key or a value of the wrong type is an error naming it; the
    /// result is validated like a profile read from a file.
    pub fn with_overrides(&self, settings: &[String]) -> Result<ExperimentConfig> {
        let invalid = |s: String| PipelineError::Invalid(s);
        let mut table = toml::Table::try_from(self).map_err(|e| invalid(e.to_string()))?;
        // Every dotted key of the profile, for the error that names a wrong one.
        let known = |table: &toml::Table| {
            let mut keys = Vec::new();
            for (section, inner) in table {
                if let Some(inner) = inner.as_table() {
                    keys.extend(inner.keys().map(|k| format!("{section}.{k}")));
                }
            }
            keys.join(", ")
        };
        for setting in settings {
            let (key, value) = setting
                .split_once('=')
                .ok_or_else(|| invalid(format!("--set {setting:?}: want section.key=value")))?;
            let key = key.trim();
            let Some((section, name)) = key.split_once('.') else {
                let hint = FLAT_KEYS
                    .iter()
                    .find(|(flat, _)| *flat == key)
                    .map_or(String::new(), |(_, s)| format!(" (now in [{s}])"));
                return Err(invalid(format!(
                    "--set {setting:?}: keys are section.key{hint}; have: {}",
                    known(&table)
                )));
            };
            let present = table
                .get(section)
                .and_then(toml::Value::as_table)
                .is_some_and(|t| t.contains_key(name));
            if !present && !OPTIONAL_KEYS.contains(&key) {
                return Err(invalid(format!(
                    "--set {setting:?}: no profile key `{key}` (have: {})",
                    known(&table)
                )));
            }
            let value = match toml::from_str::<toml::Table>(&format!("v = {value}")) {
                Ok(mut parsed) => parsed.remove("v").expect("parsed one key"),
                Err(_) => toml::Value::String(value.trim().to_string()),
            };
            let inner = table
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            inner
                .as_table_mut()
                .expect("sections are tables")
                .insert(name.to_string(), value);
        }
        let config: ExperimentConfig = table
            .try_into()
            .map_err(|e: toml::de::Error| invalid(format!("--set: {}", e.message())))?;
        config
            .validate()
            .map_err(|problem| invalid(format!("--set: {problem}")))?;
        Ok(config)
    }

    /// Checks values that parse but cannot run.
    pub fn validate(&self) -> std::result::Result<(), BadSetting> {
        let (d, t, r) = (&self.data, &self.train, &self.repair);
        // A method that cannot use the configured search (`adaptive` with `de`, `de` with
        // `canonical`) is refused by the one method → settings mapping.
        for &method in &r.methods {
            r.settings_for(method, 0, 0)?;
        }
        let positive = [
            ("data.train_every", d.train_every),
            ("data.val_every", d.val_every),
            ("data.repair_every", d.repair_every),
            ("data.test_every", d.test_every),
            ("train.max_epochs", t.max_epochs),
            ("train.patience", t.patience),
            ("train.batch_size", t.batch_size),
            ("train.checkpoint_every", t.checkpoint_every),
            ("repair.particles", r.particles),
            ("repair.iterations", r.iterations),
            ("repair.positives", r.positives),
            ("repair.de_generations", r.de_generations),
            ("repair.adaptive_window", r.adaptive_window),
            ("repair.adaptive_phases", r.adaptive_phases),
            ("repair.history_sites", r.history_sites),
            ("repair.repair_seeds", r.repair_seeds),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(BadSetting::new(name, format!("{name} must be at least 1")));
        }
        if d.input_side == Some(0) {
            return Err(BadSetting::new(
                "data.input_side",
                "data.input_side must be at least 1",
            ));
        }
        if t.seeds.is_empty() {
            return Err(BadSetting::new("train.seeds", "train.seeds is empty"));
        }
        if r.classes.is_empty() && r.worst_classes == 0 {
            return Err(BadSetting::new(
                "repair.classes",
                "give repair.classes or repair.worst_classes ≥ 1",
            ));
        }
        if r.localiser != LocaliserName::Arachne && r.sites == 0 {
            return Err(BadSetting::new(
                "repair.sites",
                "repair.sites must be at least 1",
            ));
        }
        if r.methods.is_empty() {
            return Err(BadSetting::new(
                "repair.methods",
                "repair.methods is empty: want at least one method",
            ));
        }
        if let Some(m) = first_repeated(&r.methods) {
            return Err(BadSetting::new(
                "repair.methods",
                format!("repair.methods lists `{m}` twice"),
            ));
        }
        for (name, value) in [
            ("repair.adaptive_threshold", r.adaptive_threshold),
            ("repair.history_penalty", r.history_penalty),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(BadSetting::new(
                    name,
                    format!("{name} = {value}: want a finite number ≥ 0"),
                ));
            }
        }
        let target_classes = match r.classes.len() {
            0 => r.worst_classes,
            n => n,
        };
        if r.joint && target_classes < 2 {
            return Err(BadSetting::new(
                "repair.joint",
                "repair.joint repairs several classes at once: give at least 2",
            ));
        }
        if r.joint && self.online.is_some() {
            return Err(BadSetting::new(
                "repair.joint",
                "repair.joint and the online mode (one class) do not go together",
            ));
        }
        if self.report.alphas.is_empty() {
            return Err(BadSetting::new(
                "report.alphas",
                "report.alphas is empty: want at least one α in [0, 1]",
            ));
        }
        if let Some(a) = self
            .report
            .alphas
            .iter()
            .find(|a| !(0.0..=1.0).contains(*a))
        {
            return Err(BadSetting::new(
                "report.alphas",
                format!("report.alphas: {a} is outside [0, 1]"),
            ));
        }
        if let Some(online) = &self.online {
            if !(0.0..=1.0).contains(&online.alpha) {
                return Err(BadSetting::new(
                    "online.alpha",
                    format!("online.alpha: {} is outside [0, 1]", online.alpha),
                ));
            }
            if r.classes.len() != 1 {
                return Err(BadSetting::new(
                    "repair.classes",
                    format!(
                        "the online mode repairs one class: repair.classes must name exactly \
                         one, not {:?}",
                        r.classes
                    ),
                ));
            }
            if t.checkpoint_every != 1 {
                return Err(BadSetting::new(
                    "train.checkpoint_every",
                    "the online mode repairs every epoch: train.checkpoint_every must be 1",
                ));
            }
        }
        Ok(())
    }

    /// [`ExperimentConfig::validate_for`] the classes of the built-in dataset `dataset`.
    pub fn for_dataset(&self, dataset: &str) -> Result<()> {
        let classes = repair_data::Manifest::builtin(dataset)?.num_classes;
        self.validate_for(dataset, classes)
            .map_err(|e| PipelineError::Invalid(e.to_string()))
    }

    /// [`validate`](Self::validate), and the settings that need the dataset: its
    /// `classes` classes hold every listed class and at least `worst_classes`. Called
    /// before any work starts (a `worst_classes` of 50 on GTSRB's 43 once ran the whole
    /// study and failed only in `verify`).
    pub fn validate_for(
        &self,
        dataset: &str,
        classes: usize,
    ) -> std::result::Result<(), BadSetting> {
        self.validate()?;
        let r = &self.repair;
        if let Some(c) = r.classes.iter().find(|&&c| c as usize >= classes) {
            return Err(BadSetting::new(
                "repair.classes",
                format!(
                    "repair.classes: class {c} is unknown ({dataset} has classes 0–{})",
                    classes - 1
                ),
            ));
        }
        if r.classes.is_empty() && r.worst_classes > classes {
            return Err(BadSetting::new(
                "repair.worst_classes",
                format!(
                    "repair.worst_classes = {}: {dataset} has only {classes} classes",
                    r.worst_classes
                ),
            ));
        }
        Ok(())
    }
}

/// A setting that parses but cannot run: the key at fault (`train.seeds`,
/// `repair.methods`, …) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BadSetting {
    /// The setting's key, as in the experiment file and `--set`.
    pub setting: &'static str,
    /// The whole message (it names the key and the value).
    pub message: String,
}

impl BadSetting {
    fn new(setting: &'static str, message: impl Into<String>) -> Self {
        BadSetting {
            setting,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../experiments/{name}.toml"))
    }

    fn set(config: &ExperimentConfig, settings: &[&str]) -> Result<ExperimentConfig> {
        config.with_overrides(&settings.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn every_setting_that_would_empty_the_work_is_refused_before_it_starts() {
        let file = ExperimentFile::load(&shipped("gtsrb")).unwrap();
        let quick = file.profile("quick").unwrap();
        quick.validate_for("gtsrb", 43).unwrap();
        for (setting, want) in [
            ("report.alphas=[]", "report.alphas is empty"),
            (
                "repair.iterations=0",
                "repair.iterations must be at least 1",
            ),
            ("repair.positives=0", "repair.positives must be at least 1"),
            ("repair.particles=0", "repair.particles must be at least 1"),
            ("train.seeds=[]", "train.seeds is empty"),
            ("data.test_every=0", "data.test_every must be at least 1"),
            (
                "repair.worst_classes=44",
                "repair.worst_classes = 44: gtsrb has only 43",
            ),
            (
                "repair.classes=[3, 43]",
                "class 43 is unknown (gtsrb has classes 0–42)",
            ),
        ] {
            // --set checks what it can alone; the rest waits for the dataset.
            let e = match set(quick, &[setting]) {
                Err(e) => e.to_string(),
                Ok(config) => config.validate_for("gtsrb", 43).unwrap_err().to_string(),
            };
            assert!(e.contains(want), "{setting}: {e}");
        }
        // The error names its key for a program too.
        let mut no_seeds = quick.clone();
        no_seeds.train.seeds.clear();
        assert_eq!(no_seeds.validate().unwrap_err().setting, "train.seeds");
        let mut class_43 = quick.clone();
        class_43.repair.classes = vec![43];
        assert_eq!(
            class_43.validate_for("gtsrb", 43).unwrap_err().setting,
            "repair.classes"
        );
        // The methods' settings, each alone or with what it contradicts.
        for (settings, want) in [
            (
                &["repair.joint=true", "repair.classes=[3]"][..],
                "at least 2",
            ),
            (&["repair.methods=[]"][..], "repair.methods is empty"),
            (&[r#"repair.methods=["de", "de"]"#][..], "lists `de` twice"),
            (&[r#"repair.methods=["annealing"]"#][..], "unknown variant"),
            (
                &[r#"repair.methods=["adaptive"]"#, "repair.search=de"][..],
                "PSO phases",
            ),
            (
                &[r#"repair.methods=["de"]"#, "repair.search=canonical"][..],
                "cannot use the search `canonical`: it searches with DE",
            ),
            (
                &["repair.adaptive_threshold=-0.1"][..],
                "adaptive_threshold",
            ),
            (&["repair.history_penalty=nan"][..], "history_penalty"),
            (&["repair.adaptive_window=0"][..], "adaptive_window must be"),
        ] {
            let e = set(quick, settings).unwrap_err().to_string();
            assert!(e.contains(want), "{settings:?}: {e}");
        }
    }

    #[test]
    fn the_online_profile_and_what_the_online_mode_needs() {
        let file = ExperimentFile::load(&shipped("gtsrb")).unwrap();
        let online = file.profile("online").unwrap();
        let section = online.online.as_ref().unwrap();
        assert_eq!(
            (section.rule.as_str(), section.alpha),
            ("best-repaired", 0.8)
        );
        // Absent from the other profiles, and from their config hash.
        let dense = file.profile("dense").unwrap();
        assert!(dense.online.is_none());
        assert!(!serde_json::to_string(dense).unwrap().contains("online"));
        let with = set(dense, &["online.rule=saturated", "repair.classes=[3]"]).unwrap();
        assert_eq!(with.online.unwrap().alpha, 0.5);
        for (settings, says) in [
            (&["online.rule=saturated"][..], "exactly one"),
            (
                &["online.rule=oracle", "repair.classes=[3]"][..],
                "test set",
            ),
            (
                &[
                    "online.rule=saturated",
                    "repair.classes=[3]",
                    "train.checkpoint_every=2",
                ][..],
                "checkpoint_every must be 1",
            ),
            (&["online.alpha=0.4"][..], "rule"),
        ] {
            let e = set(dense, settings).unwrap_err().to_string();
            assert!(e.contains(says), "{settings:?}: {e}");
        }
    }

    /// The study profiles reproduce the study, whose Arachne kept repairs worse than the
    /// original: they say so explicitly, and it reaches the repair's settings; a profile
    /// of one's own (and the online mode) gets the safeguard.
    #[test]
    fn the_study_profiles_keep_worse_repairs_and_everything_else_is_guarded() {
        for (name, profiles) in [
            ("gtsrb", &["quick", "paper", "paper10", "dense"][..]),
            ("pneumonia", &["quick", "paper", "paper10", "dense"][..]),
            ("rsna", &["quick", "paper"][..]),
        ] {
            let file = ExperimentFile::load(&shipped(name)).unwrap();
            for profile in profiles {
                let config = file.profile(profile).unwrap();
                assert!(config.repair.keep_worse, "{name} {profile}");
                for &method in &config.repair.methods {
                    let settings = config.repair.settings_for(method, 0, 1).unwrap();
                    assert!(settings.keep_worse, "{name} {profile} {method}");
                }
            }
        }
        let online = ExperimentFile::load(&shipped("gtsrb")).unwrap();
        assert!(!online.profile("online").unwrap().repair.keep_worse);
        assert!(!RepairSection::default().settings(0, 1).keep_worse);
        let guarded = set(
            ExperimentFile::load(&shipped("gtsrb"))
                .unwrap()
                .profile("quick")
                .unwrap(),
            &["repair.keep_worse=false"],
        )
        .unwrap();
        assert!(!guarded.repair.settings(0, 1).keep_worse);
    }

    #[test]
    fn the_shipped_gtsrb_experiment_has_a_quick_and_the_paper_profile() {
        let file = ExperimentFile::load(&shipped("gtsrb")).unwrap();
        assert_eq!(file.dataset, "gtsrb");
        let paper = file.profile("paper").unwrap();
        assert_eq!(paper.train.seeds, [1024, 2048, 4096, 8192, 16384]);
        let t = &paper.train;
        assert_eq!(
            (t.model, t.max_epochs, t.patience, t.batch_size),
            (Arch::Vgg16, 30, 5, 128)
        );
        let r = &paper.repair;
        assert_eq!((r.particles, r.iterations, r.worst_classes), (100, 50, 3));
        let quick = file.profile("quick").unwrap();
        assert_eq!(quick.train.model, Arch::CnnS);
        assert!(quick.data.train_every > 1 && quick.train.seeds.len() == 2);
        let err = file.profile("fast").unwrap_err().to_string();
        assert!(err.contains("paper, paper10, quick"), "{err}");
        // paper10: the paper's protocol with 10 seeds, every method, the joint repair;
        // it trains as the paper profile with those seeds does.
        let paper10 = file.profile("paper10").unwrap();
        assert_eq!(paper10.train.seeds.len(), 10);
        assert_eq!(paper10.train.seeds[..5], paper.train.seeds[..]);
        assert_eq!(paper10.repair.methods, MethodName::ALL);
        assert!(paper10.repair.joint);
        let mut ten = paper.clone();
        ten.train.seeds = paper10.train.seeds.clone();
        assert!(ten.trains_like(paper10));
    }

    #[test]
    fn the_shipped_medical_experiments_repair_class_1_with_densenet_in_paper() {
        let file = ExperimentFile::load(&shipped("pneumonia")).unwrap();
        assert_eq!(file.dataset, "pneumonia");
        let paper = file.profile("paper").unwrap();
        assert_eq!(
            (paper.train.model, paper.data.input_side),
            (Arch::Densenet121, Some(32))
        );
        assert_eq!(paper.train.seeds, [1024, 2048, 4096, 8192, 16384]);
        assert_eq!(paper.repair.classes, [1]);
        let quick = file.profile("quick").unwrap();
        assert_eq!(
            (quick.train.model, quick.data.input_side),
            (Arch::CnnS, None)
        );
        assert_eq!(quick.repair.classes, [1]);
        // A profile without input_side serialises without it.
        let json = serde_json::to_string(quick).unwrap();
        assert!(!json.contains("input_side"), "{json}");
        // RSNA itself: the same study at the packed 160 × 160.
        let rsna = ExperimentFile::load(&shipped("rsna")).unwrap();
        assert_eq!(rsna.dataset, "rsna");
        let paper = rsna.profile("paper").unwrap();
        assert_eq!(
            (paper.train.model, paper.data.input_side),
            (Arch::Densenet121, None)
        );
        assert_eq!(paper.repair.classes, [1]);
    }

    #[test]
    fn a_key_left_out_takes_the_one_default_the_paper_and_study_code_define() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("minimal.toml");
        std::fs::write(
            &path,
            "dataset = \"gtsrb\"\n[profiles.p.train]\nmodel = \"cnn-s\"\nseeds = [1]\n",
        )
        .unwrap();
        let file = ExperimentFile::load(&path).unwrap();
        let p = file.profile("p").unwrap();
        assert_eq!(p.data, DataSection::default());
        assert_eq!(p.repair, RepairSection::default());
        assert_eq!(p.report.alphas, PAPER_ALPHAS);
        let paper = TrainConfig::paper(1);
        assert_eq!(p.train.config(1), paper);
        let r = &p.repair;
        let study = repair_method::RepairSettings::study(0, 0);
        assert_eq!(
            (r.particles, r.iterations, r.positives),
            (study.particles, study.iterations, study.positives)
        );
        // The study's unclipped cross-entropy by default; Keras' clip on request.
        assert_eq!(p.repair.cross_entropy, CrossEntropy::Logits);
        let clipped = set(p, &["repair.cross_entropy=clipped"]).unwrap();
        assert_eq!(clipped.repair.cross_entropy, CrossEntropy::Clipped);
        // The study code's training variant is one setting away.
        let code = set(p, &["train.recipe=study_code"]).unwrap();
        assert_eq!(code.train.config(1), TrainConfig::study_code(1));
        assert_ne!(code.hash(), p.hash());
    }

    #[test]
    fn settings_override_a_profile_by_dotted_key_and_typos_are_refused() {
        let file = ExperimentFile::load(&shipped("gtsrb")).unwrap();
        let paper = file.profile("paper").unwrap();
        let cpu = set(
            paper,
            &[
                "train.model=cnn-s",
                "train.seeds=[1024, 2048]",
                "data.train_every = 2",
            ],
        )
        .unwrap();
        assert_eq!(cpu.train.model, Arch::CnnS);
        assert_eq!(cpu.data.input_side, None);
        assert_eq!(
            set(paper, &["data.input_side=64"]).unwrap().data.input_side,
            Some(64)
        );
        assert_eq!(cpu.train.seeds, [1024, 2048]);
        assert_eq!(cpu.data.train_every, 2);
        assert_eq!(cpu.train.max_epochs, paper.train.max_epochs);
        assert_eq!(set(paper, &[]).unwrap(), *paper);
        let rule = set(paper, &["data.split_rule=by-track"]).unwrap();
        assert_eq!(rule.data.split_rule, SplitRule::ByTrack);
        let e = set(paper, &["seeds=[1]"]).unwrap_err().to_string();
        assert!(e.contains("keys are section.key (now in [train])"), "{e}");
        let e = set(paper, &["train.seed=[1]"]).unwrap_err().to_string();
        assert!(
            e.contains("no profile key `train.seed`") && e.contains("train.seeds"),
            "{e}"
        );
        let e = set(paper, &["train.max_epochs=ten"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("max_epochs") || e.contains("invalid type"),
            "{e}"
        );
        let e = set(paper, &["train.model=resnet"]).unwrap_err().to_string();
        assert!(e.contains("resnet"), "{e}");
        let e = set(paper, &["repair.search=annealing"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("annealing"), "{e}");
        let e = set(paper, &["repair.particles=0"]).unwrap_err().to_string();
        assert!(e.contains("repair.particles must be at least 1"), "{e}");
        let e = set(paper, &["report.alphas=[0.5, nan]"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("outside [0, 1]"), "{e}");
        assert!(set(paper, &["model"])
            .unwrap_err()
            .to_string()
            .contains("key=value"));
    }

    #[test]
    fn typos_and_impossible_values_name_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(shipped("gtsrb")).unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text.replacen("patience = 3", "patiense = 3", 1)).unwrap();
        let err = ExperimentFile::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("bad.toml") && err.contains("patiense"),
            "{err}"
        );
        std::fs::write(&path, text.replacen("particles = 100", "particles = 0", 1)).unwrap();
        let err = ExperimentFile::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("profile `quick`: repair.particles must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn an_old_flat_profile_is_refused_with_where_each_key_goes_now() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.toml");
        std::fs::write(
            &path,
            "dataset = \"gtsrb\"\n[profiles.quick]\nmodel = \"cnn-s\"\nseeds = [1]\n\
             train_every = 10\npso = \"arachne\"\nalphas = [0.5]\n",
        )
        .unwrap();
        let err = ExperimentFile::load(&path).unwrap_err().to_string();
        for part in [
            "old.toml",
            "profile `quick`",
            "flat layout",
            "model → [train]",
            "seeds → [train]",
            "train_every → [data]",
            "pso → [repair (as `search`)]",
            "alphas → [report]",
        ] {
            assert!(err.contains(part), "`{part}` missing from: {err}");
        }
    }
}
