//! An experiment as a TOML file with named profiles (`experiments/<name>.toml`): the
//! dataset, and per profile the model, seeds, subsets, training, checkpoints, classes,
//! localiser, PSO and α list. Unknown keys are errors, so a typo cannot silently fall
//! back to a default.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{file_error, PipelineError, Result};
use crate::repair::{LocaliserChoice, PsoPreset};

/// Profile keys that may be absent from a profile (and so from its table) but can
/// still be `--set`.
const OPTIONAL_KEYS: [&str; 1] = ["input_side"];

/// Sites of the `gradient` and `random` localisers in experiments.
pub(crate) const FL_BASELINE_SITES: usize = 10;

/// An experiment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// Dataset name (`gtsrb`, `pneumonia`).
    pub dataset: String,
    /// Profiles by name (`quick`, `paper`, ...).
    pub profiles: BTreeMap<String, ExperimentConfig>,
}

/// One profile: everything a run of the experiment depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Zoo model name.
    pub model: String,
    /// Resize every image to `input_side × input_side` before splitting (bilinear);
    /// absent: the dataset's own size. DenseNet-121 needs ≥ 32 (PneumoniaMNIST is 28);
    /// the study fed it RSNA at 160. Left out of the config (and its hash) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_side: Option<usize>,
    /// Training seeds, one run each.
    pub seeds: Vec<u64>,
    /// Seed of the data split.
    pub split_seed: u64,
    /// Split rule (`study`, `by-track`, `official`).
    pub split_rule: String,
    /// Keep every k-th training image.
    pub train_every: usize,
    /// Keep every k-th validation image.
    pub val_every: usize,
    /// Keep every k-th repair image.
    pub repair_every: usize,
    /// Keep every k-th test image.
    pub test_every: usize,
    /// Upper bound on epochs.
    pub max_epochs: usize,
    /// Early-stopping patience.
    pub patience: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Checkpoint every k epochs (plus epoch 1, converged and last).
    pub checkpoint_every: usize,
    /// Classes to repair; empty → the `worst_classes` with the lowest mean test accuracy
    /// over all checkpoints (the paper's rule).
    pub classes: Vec<u32>,
    /// How many worst classes when `classes` is empty.
    pub worst_classes: usize,
    /// Fault localiser (`arachne`, `gradient`, `random`).
    pub localiser: String,
    /// PSO preset (`arachne`, `canonical`).
    pub pso: String,
    /// Particles.
    pub particles: usize,
    /// Iterations.
    pub iterations: usize,
    /// Positive inputs per repair.
    pub positives: usize,
    /// Also repair checkpoints after the converged one.
    pub repair_after_convergence: bool,
    /// α values of Qual_α.
    pub alphas: Vec<f64>,
}

impl ExperimentFile {
    /// Reads and checks an experiment file.
    pub fn load(path: &Path) -> Result<Self> {
        let fail = |problem: String| file_error(path, problem);
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let file: ExperimentFile = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
        for (name, profile) in &file.profiles {
            profile
                .validate()
                .map_err(|problem| fail(format!("profile `{name}`: {problem}")))?;
        }
        Ok(file)
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

impl ExperimentConfig {
    /// The `xxh3-64:` hash of the JSON form ([`repair_core::content_hash`]), recorded
    /// in `experiment.json`: a folder made with another config is refused.
    pub fn hash(&self) -> String {
        repair_core::content_hash(&serde_json::to_vec(self).expect("config serialises"))
    }

    /// This profile with `key=value` settings replaced (`seeds=[1024,2048]`,
    /// `model=cnn-s`, `max_epochs=10`): values are TOML, bare words are strings. An
    /// unknown key or a value of the wrong type is an error naming it; the result is
    /// validated like a profile read from a file.
    pub fn with_overrides(&self, settings: &[String]) -> Result<ExperimentConfig> {
        let invalid = |s: String| PipelineError::Invalid(s);
        let mut table = toml::Table::try_from(self).map_err(|e| invalid(e.to_string()))?;
        for setting in settings {
            let (key, value) = setting
                .split_once('=')
                .ok_or_else(|| invalid(format!("--set {setting:?}: want key=value")))?;
            let key = key.trim();
            if !table.contains_key(key) && !OPTIONAL_KEYS.contains(&key) {
                return Err(invalid(format!(
                    "--set {setting:?}: no profile key `{key}` (have: {})",
                    table.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
            let value = match toml::from_str::<toml::Table>(&format!("v = {value}")) {
                Ok(mut parsed) => parsed.remove("v").expect("parsed one key"),
                Err(_) => toml::Value::String(value.trim().to_string()),
            };
            table.insert(key.to_string(), value);
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
    pub fn validate(&self) -> std::result::Result<(), String> {
        let positive = [
            ("train_every", self.train_every),
            ("val_every", self.val_every),
            ("repair_every", self.repair_every),
            ("test_every", self.test_every),
            ("max_epochs", self.max_epochs),
            ("batch_size", self.batch_size),
            ("checkpoint_every", self.checkpoint_every),
            ("particles", self.particles),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} must be at least 1"));
        }
        if self.input_side == Some(0) {
            return Err("input_side must be at least 1".into());
        }
        if self.seeds.is_empty() {
            return Err("seeds is empty".into());
        }
        if self.classes.is_empty() && self.worst_classes == 0 {
            return Err("give classes or worst_classes ≥ 1".into());
        }
        if let Some(a) = self.alphas.iter().find(|a| !(0.0..=1.0).contains(*a)) {
            return Err(format!("alpha {a} is outside [0, 1]"));
        }
        LocaliserChoice::named(&self.localiser, FL_BASELINE_SITES)?;
        PsoPreset::named(&self.pso)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/gtsrb.toml")
    }

    #[test]
    fn the_shipped_gtsrb_experiment_has_a_quick_and_the_paper_profile() {
        let file = ExperimentFile::load(&shipped()).unwrap();
        assert_eq!(file.dataset, "gtsrb");
        let paper = file.profile("paper").unwrap();
        assert_eq!(paper.seeds, [1024, 2048, 4096, 8192, 16384]);
        assert_eq!(
            (paper.max_epochs, paper.patience, paper.batch_size),
            (30, 5, 128)
        );
        assert_eq!(
            (paper.particles, paper.iterations, paper.worst_classes),
            (100, 50, 3)
        );
        let quick = file.profile("quick").unwrap();
        assert_eq!(quick.model, "cnn-s");
        assert!(quick.train_every > 1 && quick.seeds.len() == 2);
        let err = file.profile("fast").unwrap_err().to_string();
        assert!(err.contains("paper, quick"), "{err}");
    }

    #[test]
    fn the_shipped_pneumonia_experiment_repairs_class_1_with_densenet_in_paper() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/pneumonia.toml");
        let file = ExperimentFile::load(&path).unwrap();
        assert_eq!(file.dataset, "pneumonia");
        let paper = file.profile("paper").unwrap();
        assert_eq!(
            (paper.model.as_str(), paper.input_side),
            ("densenet121", Some(32))
        );
        assert_eq!(paper.seeds, [1024, 2048, 4096, 8192, 16384]);
        assert_eq!(paper.classes, [1]);
        let quick = file.profile("quick").unwrap();
        assert_eq!((quick.model.as_str(), quick.input_side), ("cnn-s", None));
        assert_eq!(quick.classes, [1]);
        // A profile without input_side serialises without it, so GTSRB config hashes
        // (and folders made before the key existed) stay valid.
        let json = serde_json::to_string(quick).unwrap();
        assert!(!json.contains("input_side"), "{json}");
        // RSNA itself: the same study at the packed 160 × 160.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/rsna.toml");
        let rsna = ExperimentFile::load(&path).unwrap();
        assert_eq!(rsna.dataset, "rsna");
        let paper = rsna.profile("paper").unwrap();
        assert_eq!(
            (paper.model.as_str(), paper.input_side),
            ("densenet121", None)
        );
        assert_eq!(paper.classes, [1]);
    }

    #[test]
    fn settings_override_a_profile_and_typos_are_refused() {
        let file = ExperimentFile::load(&shipped()).unwrap();
        let paper = file.profile("paper").unwrap();
        let set =
            |s: &[&str]| paper.with_overrides(&s.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let cpu = set(&["model=cnn-s", "seeds=[1024, 2048]", "train_every = 2"]).unwrap();
        assert_eq!(cpu.model, "cnn-s");
        assert_eq!(cpu.input_side, None);
        assert_eq!(set(&["input_side=64"]).unwrap().input_side, Some(64));
        assert_eq!(cpu.seeds, [1024, 2048]);
        assert_eq!(cpu.train_every, 2);
        assert_eq!(cpu.max_epochs, paper.max_epochs);
        assert_eq!(set(&[]).unwrap(), *paper);
        let e = set(&["seed=[1]"]).unwrap_err().to_string();
        assert!(e.contains("no profile key `seed`"), "{e}");
        let e = set(&["max_epochs=ten"]).unwrap_err().to_string();
        assert!(
            e.contains("max_epochs") || e.contains("invalid type"),
            "{e}"
        );
        let e = set(&["particles=0"]).unwrap_err().to_string();
        assert!(e.contains("particles must be at least 1"), "{e}");
        assert!(set(&["model"])
            .unwrap_err()
            .to_string()
            .contains("key=value"));
    }

    #[test]
    fn typos_and_impossible_values_name_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(shipped()).unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text.replacen("patience = 5", "patiense = 5", 1)).unwrap();
        let err = ExperimentFile::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("bad.toml") && err.contains("patiense"),
            "{err}"
        );
        std::fs::write(&path, text.replacen("particles = 100", "particles = 0", 1)).unwrap();
        let err = ExperimentFile::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("profile `quick`: particles must be at least 1"),
            "{err}"
        );
    }
}
