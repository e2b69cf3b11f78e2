//! `experiment.json`: what an experiment folder was made with (the config and its
//! hash, the seeds, device, version and git commit), and the refusal of a folder made
//! with another config, whose cached units would be mixed with the new ones.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{file_error, Result};
use crate::experiment_config::ExperimentConfig;
use crate::unit_files::write_json;

/// The name of the manifest inside an experiment folder.
pub const EXPERIMENT_JSON: &str = "experiment.json";

/// The typed content of `experiment.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentManifest {
    /// The experiment file.
    pub experiment: PathBuf,
    /// Its profile.
    pub profile: String,
    /// The `--set KEY=VALUE` overrides, in order.
    pub overrides: Vec<String>,
    /// Dataset name.
    pub dataset: String,
    /// The profile after the overrides: everything the results depend on.
    pub config: ExperimentConfig,
    /// [`ExperimentConfig::hash`] of `config`.
    pub config_hash: String,
    /// The training seeds (also in `config`, here for a reader's eye).
    pub seeds: Vec<u64>,
    /// The device (`cpu`, `cuda`).
    pub device: String,
    /// The workspace's version.
    pub workspace_version: String,
    /// The checked-out commit, `-dirty` with uncommitted changes, or `unknown`.
    pub git_commit: String,
}

impl ExperimentManifest {
    /// The manifest of a run of `config` (profile `profile` of the file `experiment`
    /// with `overrides`) on `device`, stamped with this build's version and commit.
    pub fn new(
        experiment: &Path,
        profile: &str,
        overrides: &[String],
        dataset: &str,
        config: &ExperimentConfig,
        device: &str,
    ) -> Self {
        ExperimentManifest {
            experiment: experiment.to_path_buf(),
            profile: profile.to_string(),
            overrides: overrides.to_vec(),
            dataset: dataset.to_string(),
            config_hash: config.hash(),
            seeds: config.train.seeds.clone(),
            config: config.clone(),
            device: device.to_string(),
            workspace_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit(),
        }
    }

    /// Reads `dir/experiment.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(EXPERIMENT_JSON);
        let bytes = std::fs::read(&path)
            .map_err(|e| file_error(&path, format!("{e} (not an experiment folder)")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| file_error(&path, format!("not an experiment manifest: {e}")))
    }

    /// Writes the manifest into `dir`, unless `dir` holds an experiment with another
    /// config: that is an error naming both hashes.
    pub fn begin(&self, dir: &Path) -> Result<()> {
        let path = dir.join(EXPERIMENT_JSON);
        if path.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| file_error(&path, e))?;
            let old: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| file_error(&path, format!("not a JSON manifest: {e}")))?;
            if let Some(old) = old.get("config_hash").and_then(|h| h.as_str()) {
                if old != self.config_hash {
                    return Err(file_error(
                        &path,
                        format!(
                            "this folder holds an experiment with config {old}, not this one's \
                             {}; pass another --out (or delete the folder)",
                            self.config_hash
                        ),
                    ));
                }
            }
        }
        write_json(&path, self)?;
        Ok(())
    }
}

/// The checked-out commit of the workspace this crate was built from (with `-dirty`
/// when the tree has changes), or "unknown" (no git, or a binary carried elsewhere).
fn git_commit() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "HEAD"]) {
        Some(head) => match run(&["status", "--porcelain"]) {
            Some(changes) if !changes.is_empty() => format!("{head}-dirty"),
            _ => head,
        },
        None => "unknown".into(),
    }
}
