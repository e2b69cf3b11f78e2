//! `RUN/run.json`: what one training run is. [`crate::train_run`] writes it before the
//! first epoch (its one writer); every repair of the run's checkpoints reads it back to
//! rebuild the model (its one reader), so a missing or mistyped field is an error naming
//! the file, never a silent default.

use std::path::{Path, PathBuf};

use repair_train::TrainConfig;
use repair_zoo::ModelSpec;
use serde::{Deserialize, Serialize};

use crate::error::{file_error, Result};
use crate::unit_files::write_json;

/// The name of the manifest inside a run folder.
pub const RUN_JSON: &str = "run.json";

/// The run folder of a checkpoint: `RUN` of `RUN/checkpoints/epoch-NNN.safetensors`
/// (the current folder if the path is shorter).
pub fn run_dir(checkpoint: &Path) -> PathBuf {
    checkpoint
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The typed content of `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunManifest {
    /// The model (architecture, input shape, classes, seed of the initial weights).
    pub model: ModelSpec,
    /// The training settings, input normalisation included.
    pub train: TrainConfig,
    /// [`TrainConfig::hash`] of `train`, as the checkpoints record it.
    pub config_hash: String,
    /// Images the run trains on.
    pub train_images: usize,
    /// Images it validates on (early stopping).
    pub val_images: usize,
}

impl RunManifest {
    /// The manifest of a run of `model` trained with `train`.
    pub fn new(
        model: ModelSpec,
        train: TrainConfig,
        train_images: usize,
        val_images: usize,
    ) -> Self {
        RunManifest {
            config_hash: train.hash(),
            model,
            train,
            train_images,
            val_images,
        }
    }

    /// Writes `dir/run.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(RUN_JSON);
        write_json(&path, self)?;
        Ok(())
    }

    /// Reads `dir/run.json`; every field must be there, and the recorded hash must be
    /// that of the recorded training settings.
    pub fn read(dir: &Path) -> Result<RunManifest> {
        let path = dir.join(RUN_JSON);
        let fail = |problem: String| file_error(&path, problem);
        let bytes = std::fs::read(&path).map_err(|e| {
            fail(format!(
                "{e} (a training run's run.json names the model of its checkpoints)"
            ))
        })?;
        let manifest: RunManifest =
            serde_json::from_slice(&bytes).map_err(|e| fail(format!("not a run.json: {e}")))?;
        if manifest.config_hash != manifest.train.hash() {
            return Err(fail(format!(
                "config_hash {} is not the hash of its training settings ({}): the file was edited",
                manifest.config_hash,
                manifest.train.hash()
            )));
        }
        Ok(manifest)
    }

    /// Reads the manifest of the run a checkpoint belongs to
    /// (`RUN/checkpoints/epoch-NNN.safetensors` → `RUN/run.json`).
    pub fn for_checkpoint(checkpoint: &Path) -> Result<RunManifest> {
        RunManifest::read(&run_dir(checkpoint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> RunManifest {
        let model = ModelSpec {
            arch: repair_core::Arch::CnnS,
            input: (3, 32, 32),
            num_classes: 43,
            seed: 7,
        };
        RunManifest::new(model, TrainConfig::paper(7), 100, 10)
    }

    #[test]
    fn a_manifest_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        manifest().write(dir.path()).unwrap();
        assert_eq!(RunManifest::read(dir.path()).unwrap(), manifest());
        let checkpoint = dir.path().join("checkpoints/epoch-001.safetensors");
        assert_eq!(
            RunManifest::for_checkpoint(&checkpoint).unwrap(),
            manifest()
        );
    }

    #[test]
    fn a_missing_field_an_unknown_one_or_an_edited_config_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RUN_JSON);
        let mut json = serde_json::to_value(manifest()).unwrap();
        json["train"]
            .as_object_mut()
            .unwrap()
            .remove("normalisation");
        std::fs::write(&path, json.to_string()).unwrap();
        let err = RunManifest::read(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("run.json") && err.contains("normalisation"),
            "{err}"
        );

        let mut json = serde_json::to_value(manifest()).unwrap();
        json["trian"] = serde_json::json!(1);
        std::fs::write(&path, json.to_string()).unwrap();
        let err = RunManifest::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unknown field `trian`"), "{err}");

        let mut json = serde_json::to_value(manifest()).unwrap();
        json["train"]["max_epochs"] = serde_json::json!(3);
        std::fs::write(&path, json.to_string()).unwrap();
        let err = RunManifest::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("the file was edited"), "{err}");

        let err = RunManifest::read(&dir.path().join("nowhere"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("nowhere/run.json"), "{err}");
    }
}
