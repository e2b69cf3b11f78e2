//! Property tests of the pipeline's readers of outside files: a
//! damaged experiment TOML, `experiment.json`, `run.json` or checkpoint sidecar gives
//! a value or an error naming the file, never a panic.

#[path = "../../../fixtures/mutations.rs"]
mod mutations;

use std::path::{Path, PathBuf};

use mutations::{apply, config, mutations, names_file};
use proptest::prelude::*;
use repair_experiment::{ExperimentFile, ExperimentManifest};
use repair_pipeline::RunManifest;
use repair_train::TrainConfig;
use repair_train::{CheckpointInfo, EpochRecord, RunDir};
use repair_zoo::ModelSpec;

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../experiments/{name}.toml"))
}

/// Damages `file` in `dir` with `m`.
fn damage(dir: &Path, file: &str, m: &[mutations::Mutation]) -> PathBuf {
    let path = dir.join(file);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, apply(&bytes, m)).unwrap();
    path
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_damaged_experiment_file(m in mutations(), pneumonia in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let name = if pneumonia { "pneumonia" } else { "gtsrb" };
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, apply(&std::fs::read(shipped(name)).unwrap(), &m)).unwrap();
        if let Err(e) = ExperimentFile::load(&path) {
            names_file(&e.to_string(), &path)?;
        }
    }

    #[test]
    fn a_damaged_experiment_manifest(m in mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let file = ExperimentFile::load(&shipped("gtsrb")).unwrap();
        let config = file.profile("quick").unwrap();
        ExperimentManifest::new(&shipped("gtsrb"), "quick", &[], "gtsrb", config, "cpu")
            .begin(dir.path())
            .unwrap();
        let path = damage(dir.path(), "experiment.json", &m);
        if let Err(e) = ExperimentManifest::read(dir.path()) {
            names_file(&e.to_string(), &path)?;
        }
    }

    #[test]
    fn a_damaged_run_manifest(m in mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let model = ModelSpec { arch: repair_core::Arch::CnnS, input: (3, 32, 32), num_classes: 43, seed: 7 };
        RunManifest::new(model, TrainConfig::paper(7), 100, 10).write(dir.path()).unwrap();
        let path = damage(dir.path(), "run.json", &m);
        if let Err(e) = RunManifest::read(dir.path()) {
            names_file(&e.to_string(), &path)?;
        }
    }

    #[test]
    fn a_damaged_checkpoint_sidecar(m in mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        std::fs::create_dir_all(dir.path().join("checkpoints")).unwrap();
        std::fs::write(run.checkpoint(3), b"weights").unwrap();
        let record = EpochRecord {
            epoch: 3, lr: 0.01, train_loss: 0.5, train_accuracy: 0.8,
            val_loss: 0.6, val_accuracy: 0.7, elapsed_s: 12.5,
        };
        run.write_info(&CheckpointInfo {
            record, seed: 7, config_hash: "xxh3-64:0123456789abcdef".into(),
            reasons: vec!["every".into()], weights: None,
        }).unwrap();
        let path = damage(dir.path(), "checkpoints/epoch-003.json", &m);
        if let Err(e) = run.read_info(3) {
            names_file(&e.to_string(), &path)?;
        }
    }
}
