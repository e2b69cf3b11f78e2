//! Files of a training run: per-epoch history (`training.csv`), checkpoints with JSON
//! sidecars, and the resume state. Every write is atomic (temp file + rename).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use repair_data::write_atomic;
use serde::{Deserialize, Serialize};

use crate::early_stopping::EarlyStopping;
use crate::error::{Result, TrainError};

/// One finished epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used.
    pub lr: f64,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Training accuracy over the epoch's batches.
    pub train_accuracy: f64,
    /// Validation loss after the epoch.
    pub val_loss: f64,
    /// Validation accuracy after the epoch.
    pub val_accuracy: f64,
    /// Seconds since the run (or its first part) started.
    pub elapsed_s: f64,
}

/// The JSON sidecar of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointInfo {
    /// The epoch's record.
    #[serde(flatten)]
    pub record: EpochRecord,
    /// Seed of the run.
    pub seed: u64,
    /// Hash of the training config.
    pub config_hash: String,
    /// Why it was saved: `every`, `first`, `converged`, `last` (several possible).
    pub reasons: Vec<String>,
    /// Size and content hash of the weights file as written, so that `verify` can tell
    /// a truncated or altered checkpoint; absent in sidecars of older runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<FileDigest>,
}

/// A file's size and [`repair_core::content_hash`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Bytes.
    pub bytes: u64,
    /// `xxh3-64:` and 16 hex digits.
    pub hash: String,
}

impl FileDigest {
    /// The digest of the file at `path` as it is now.
    pub fn of_file(path: &Path) -> std::io::Result<FileDigest> {
        let bytes = std::fs::read(path)?;
        Ok(FileDigest {
            bytes: bytes.len() as u64,
            hash: repair_core::content_hash(&bytes),
        })
    }
}

/// What a run needs to continue after an interruption.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResumeState {
    /// Hash of the config it was made with.
    pub config_hash: String,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Early-stopping memory.
    pub early_stopping: EarlyStopping,
    /// All records so far.
    pub history: Vec<EpochRecord>,
}

/// Paths of a run's output folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run folder `root`.
    pub fn new(root: &Path) -> Self {
        RunDir {
            root: root.to_path_buf(),
        }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checkpoint weights of `epoch`.
    pub fn checkpoint(&self, epoch: usize) -> PathBuf {
        self.root
            .join("checkpoints")
            .join(format!("epoch-{epoch:03}.safetensors"))
    }

    /// Sidecar of `epoch`'s checkpoint.
    pub fn checkpoint_info(&self, epoch: usize) -> PathBuf {
        self.checkpoint(epoch).with_extension("json")
    }

    /// Weights of the best epoch so far (kept until the run ends).
    pub fn best(&self) -> PathBuf {
        self.root.join("state").join("best.safetensors")
    }

    fn state_json(&self) -> PathBuf {
        self.root.join("state").join("state.json")
    }

    /// Weights at the end of `epoch` (kept until the next epoch's state is complete).
    pub fn state_weights(&self, epoch: usize) -> PathBuf {
        self.root
            .join("state")
            .join(format!("weights-{epoch:03}.safetensors"))
    }

    fn state_velocity(&self, epoch: usize) -> PathBuf {
        self.root
            .join("state")
            .join(format!("velocity-{epoch:03}.safetensors"))
    }

    /// Writes `training.csv` from the whole history.
    pub fn write_history(&self, history: &[EpochRecord]) -> Result<()> {
        let mut csv =
            String::from("epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,elapsed_s\n");
        for r in history {
            csv.push_str(&format!(
                "{},{:e},{:.6},{:.6},{:.6},{:.6},{:.1}\n",
                r.epoch,
                shortest_rate(r.lr),
                r.train_loss,
                r.train_accuracy,
                r.val_loss,
                r.val_accuracy,
                r.elapsed_s
            ));
        }
        Ok(write_atomic(
            &self.root.join("training.csv"),
            csv.as_bytes(),
        )?)
    }

    /// Reads the sidecar of `epoch`'s checkpoint; errors name the file.
    pub fn read_info(&self, epoch: usize) -> Result<CheckpointInfo> {
        let path = self.checkpoint_info(epoch);
        let bytes = std::fs::read(&path).map_err(|e| file_error(&path, e))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| file_error(&path, format!("not a checkpoint sidecar: {e}")))
    }

    /// Writes a checkpoint's sidecar, with the digest of the weights file as it is on
    /// disk now (so every sidecar written names the bytes it describes).
    pub fn write_info(&self, info: &CheckpointInfo) -> Result<()> {
        let weights = self.checkpoint(info.record.epoch);
        let digest = FileDigest::of_file(&weights).map_err(|e| file_error(&weights, e))?;
        let info = CheckpointInfo {
            weights: Some(digest),
            ..info.clone()
        };
        let json = serde_json::to_vec_pretty(&info).expect("serialises");
        Ok(write_atomic(
            &self.checkpoint_info(info.record.epoch),
            &json,
        )?)
    }

    /// Saves the resume state of epoch `state.epochs_done`: the velocity, then the JSON
    /// that points at it and at the weights (which the caller saved before), then
    /// removes the previous epoch's files. An interruption at any point leaves one
    /// complete, consistent state.
    pub fn save_state(
        &self,
        state: &ResumeState,
        velocity: &HashMap<String, Tensor>,
    ) -> Result<()> {
        let epoch = state.epochs_done;
        let path = self.state_velocity(epoch);
        repair_core::write_atomic_with(&path, |tmp| {
            candle_core::safetensors::save(velocity, tmp).map_err(std::io::Error::other)
        })
        .map_err(|e| file_error(&path, e))?;
        let json = serde_json::to_vec_pretty(state).expect("serialises");
        write_atomic(&self.state_json(), &json)?;
        if epoch > 0 {
            let _ = std::fs::remove_file(self.state_weights(epoch - 1));
            let _ = std::fs::remove_file(self.state_velocity(epoch - 1));
        }
        Ok(())
    }

    /// The saved resume state with its velocity, if the folder holds one.
    pub fn load_state(
        &self,
        device: &Device,
    ) -> Result<Option<(ResumeState, HashMap<String, Tensor>)>> {
        let path = self.state_json();
        if !path.exists() {
            return Ok(None);
        }
        let bytes = std::fs::read(&path).map_err(|e| file_error(&path, e))?;
        let state: ResumeState =
            serde_json::from_slice(&bytes).map_err(|e| file_error(&path, e))?;
        let vpath = self.state_velocity(state.epochs_done);
        let velocity =
            candle_core::safetensors::load(&vpath, device).map_err(|e| file_error(&vpath, e))?;
        Ok(Some((state, velocity)))
    }
}

/// The rate rounded to 12 significant digits, so that 0.01 · 0.1 · 0.1 prints as `1e-4`
/// and not `1.0000000000000002e-4` (the rate itself stays exact in the state).
fn shortest_rate(lr: f64) -> f64 {
    format!("{lr:.11e}").parse().unwrap_or(lr)
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::File {
        path: path.to_path_buf(),
        problem: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decayed_rates_print_short() {
        assert_eq!(format!("{:e}", shortest_rate(0.01 * 0.1 * 0.1)), "1e-4");
        assert_eq!(format!("{:e}", shortest_rate(0.01)), "1e-2");
        assert_eq!(
            format!("{:e}", shortest_rate(0.0123456789)),
            "1.23456789e-2"
        );
    }
}
