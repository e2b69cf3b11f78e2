//! `experiment.json`: what an experiment folder was made with (the config and its
//! hash, the seeds, device, version and git commit), and the refusal of a folder made
//! with another config, whose cached units would be mixed with the new ones.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::experiment_config::ExperimentConfig;
use repair_pipeline::write_json;
use repair_pipeline::{file_error, Result};

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
    /// The checked-out commit (read from `.git`; uncommitted changes are not marked), or
    /// `unknown`.
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

    /// Writes the manifest into `dir`, unless `dir` holds an experiment that trained
    /// with another config: that is an error naming both hashes. A folder whose
    /// experiment differs only in `[repair]` and `[report]` is taken over (new methods,
    /// classes or searches on the trained runs and cached activations): each repair
    /// unit is redone when its `repair.json` settings differ, and `repairs.csv` lists
    /// the new config's units only.
    pub fn begin(&self, dir: &Path) -> Result<()> {
        let path = dir.join(EXPERIMENT_JSON);
        if path.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| file_error(&path, e))?;
            let old: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| file_error(&path, format!("not a JSON manifest: {e}")))?;
            if let Some(old_hash) = old.get("config_hash").and_then(|h| h.as_str()) {
                let trained_alike = old
                    .get("config")
                    .and_then(|c| serde_json::from_value::<ExperimentConfig>(c.clone()).ok())
                    .is_some_and(|c| self.config.trains_like(&c));
                if old_hash != self.config_hash && !trained_alike {
                    return Err(file_error(
                        &path,
                        format!(
                            "this folder holds an experiment with config {old_hash}, not this \
                             one's {}, and they differ in more than [repair] and [report]; \
                             pass another --out (or delete the folder)",
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

/// The commit checked out in the workspace this crate was built from, read from its
/// `.git` (a worktree's `gitdir:` file, `HEAD`, the branch's ref or `packed-refs`) with
/// no process, or "unknown" (no git, or a binary carried elsewhere). Uncommitted changes
/// are not detected: that takes hashing the tree, which `git status` does.
fn git_commit() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    commit_of(&root).unwrap_or_else(|| "unknown".into())
}

/// The commit `HEAD` of the checkout at `root` names.
fn commit_of(root: &Path) -> Option<String> {
    let dot_git = root.join(".git");
    let git_dir = if dot_git.is_file() {
        // A worktree: `gitdir: PATH`; its branches live in the common folder.
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let dir = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
        if dir.is_absolute() {
            dir
        } else {
            root.join(dir)
        }
    } else {
        dot_git
    };
    let common = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(rel) => git_dir.join(rel.trim()),
        Err(_) => git_dir.clone(),
    };
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref:").map(str::trim) else {
        return is_commit(head).then(|| head.to_string());
    };
    let loose = std::fs::read_to_string(common.join(reference))
        .ok()
        .map(|s| s.trim().to_string());
    let packed = || {
        let text = std::fs::read_to_string(common.join("packed-refs")).ok()?;
        text.lines().find_map(|line| {
            let (sha, name) = line.split_once(' ')?;
            (name == reference).then(|| sha.to_string())
        })
    };
    loose.or_else(packed).filter(|sha| is_commit(sha))
}

/// 40 (SHA-1) or 64 (SHA-256) hexadecimal digits.
fn is_commit(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_is_read_from_a_loose_or_packed_ref_a_detached_head_or_a_worktree() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let repo = tempfile::tempdir().unwrap();
        let git = repo.path().join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).unwrap();
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        assert_eq!(commit_of(repo.path()), None, "a branch without a commit");
        std::fs::write(
            git.join("packed-refs"),
            format!("# pack-refs\n{sha} refs/heads/main\n"),
        )
        .unwrap();
        assert_eq!(commit_of(repo.path()).as_deref(), Some(sha));
        let newer = sha.replace('0', "f");
        std::fs::write(git.join("refs/heads/main"), format!("{newer}\n")).unwrap();
        assert_eq!(
            commit_of(repo.path()),
            Some(newer.clone()),
            "a loose ref wins"
        );
        // A worktree: `.git` is a file naming its folder, whose commondir is the repo's.
        let tree = tempfile::tempdir().unwrap();
        let worktree_git = git.join("worktrees/wt");
        std::fs::create_dir_all(&worktree_git).unwrap();
        std::fs::write(worktree_git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(worktree_git.join("commondir"), "../..\n").unwrap();
        std::fs::write(
            tree.path().join(".git"),
            format!("gitdir: {}\n", worktree_git.display()),
        )
        .unwrap();
        assert_eq!(commit_of(tree.path()), Some(newer));
        std::fs::write(worktree_git.join("HEAD"), format!("{sha}\n")).unwrap();
        assert_eq!(commit_of(tree.path()).as_deref(), Some(sha), "detached");
        std::fs::write(worktree_git.join("HEAD"), "garbage\n").unwrap();
        assert_eq!(commit_of(tree.path()), None);
        // This checkout's own commit.
        assert!(is_commit(&git_commit()), "{}", git_commit());
    }
    use crate::experiment_config::ExperimentFile;
    use repair_core::MethodName;

    fn quick() -> ExperimentConfig {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/gtsrb.toml");
        ExperimentFile::load(&shipped)
            .unwrap()
            .profile("quick")
            .unwrap()
            .clone()
    }

    fn manifest(config: &ExperimentConfig) -> ExperimentManifest {
        ExperimentManifest::new(
            Path::new("gtsrb.toml"),
            "quick",
            &[],
            "gtsrb",
            config,
            "cpu",
        )
    }

    #[test]
    fn a_folder_takes_new_repair_settings_but_not_new_training() {
        let dir = tempfile::tempdir().unwrap();
        let study = quick();
        manifest(&study).begin(dir.path()).unwrap();
        // More methods and another α: the trained runs still serve.
        let mut methods = study.clone();
        methods.repair.methods = MethodName::ALL.to_vec();
        methods.report.alphas = vec![0.5];
        assert_ne!(methods.hash(), study.hash());
        manifest(&methods).begin(dir.path()).unwrap();
        assert_eq!(
            ExperimentManifest::read(dir.path()).unwrap().config,
            methods
        );
        // Another training or split: refused, naming both hashes.
        for change in [
            |c: &mut ExperimentConfig| c.train.max_epochs += 1,
            |c: &mut ExperimentConfig| c.data.split_seed += 1,
        ] {
            let mut other = methods.clone();
            change(&mut other);
            let e = manifest(&other).begin(dir.path()).unwrap_err().to_string();
            assert!(
                e.contains(&methods.hash()) && e.contains(&other.hash()),
                "{e}"
            );
            assert!(e.contains("more than [repair] and [report]"), "{e}");
        }
        // The default method list stays out of the config, so older folders' hashes
        // are unchanged.
        let json = serde_json::to_string(&study).unwrap();
        assert!(!json.contains("methods"), "{json}");
    }
}
