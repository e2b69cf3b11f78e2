//! Training on real GTSRB: learning happens, checkpoints follow the policy, an
//! interrupted run resumes to the same weights, a NaN loss stops with a clear error.

#[path = "../../../fixtures/data_root.rs"]
mod data_root;

use candle_core::Device;
use repair_data::{load_gtsrb, Corpus, ImageSet, Split, SplitConfig, SplitPart, Subset};
use std::ops::ControlFlow;

use repair_train::{
    evaluate, train, train_with, EpochEnd, EpochHook, RunOptions, TrainConfig, TrainError,
};
use repair_zoo::{build_model, Classifier, Model, ModelSpec};

fn gtsrb() -> (Corpus, Split) {
    let corpus = load_gtsrb(&data_root::data_root().join("gtsrb"))
        .expect("set EARLY_REPAIR_DATA to the shared datasets folder");
    let split = Split::make(&corpus, &SplitConfig::study("gtsrb", 1024)).unwrap();
    (corpus, split)
}

/// Every `step`-th image of a split, at most `n` (a spread-out, deterministic subset).
fn every(
    corpus: &Corpus,
    split: &Split,
    part: SplitPart,
    step: usize,
    n: usize,
) -> Subset<ImageSet> {
    let idx: Vec<usize> = split
        .indices(part)
        .iter()
        .step_by(step)
        .take(n)
        .copied()
        .collect();
    corpus.images().subset(idx)
}

fn cnn_s(seed: u64) -> Model {
    let spec = ModelSpec {
        arch: repair_core::Arch::CnnS,
        input: (3, 32, 32),
        num_classes: 43,
        seed,
    };
    build_model(&spec, &Device::Cpu).unwrap()
}

#[test]
fn a_few_epochs_on_a_gtsrb_subset_lower_the_val_loss_and_beat_chance() {
    let (corpus, split) = gtsrb();
    let train_set = every(&corpus, &split, SplitPart::Train, 7, 3_000);
    let val_set = every(&corpus, &split, SplitPart::Val, 9, 600);
    let test_set = every(&corpus, &split, SplitPart::Test, 12, 1_000);
    let model = cnn_s(1024);
    // Batch 64 (not 128) doubles the optimiser steps this short run gets.
    let config = TrainConfig {
        max_epochs: 4,
        batch_size: 64,
        ..TrainConfig::paper(1024)
    };
    let out = tempfile::tempdir().unwrap();
    let report = train(
        &model,
        &train_set,
        &val_set,
        &config,
        out.path(),
        &RunOptions::default(),
    )
    .unwrap();
    let first = &report.history[0];
    let last = report.history.last().unwrap();
    let test = evaluate(&model, &test_set, 256, None, &Device::Cpu).unwrap();
    eprintln!(
        "val loss {:.3} → {:.3}; test accuracy {:.3}",
        first.val_loss, last.val_loss, test.accuracy
    );
    assert!(
        last.val_loss < 0.8 * first.val_loss,
        "val loss {} → {}",
        first.val_loss,
        last.val_loss
    );
    // Chance is 1/43 ≈ 0.023; always answering the largest class gives 0.059.
    assert!(test.accuracy > 0.25, "test accuracy {}", test.accuracy);
}

fn tiny(corpus: &Corpus, split: &Split) -> (Subset<ImageSet>, Subset<ImageSet>) {
    (
        every(corpus, split, SplitPart::Train, 80, 256),
        every(corpus, split, SplitPart::Val, 40, 128),
    )
}

fn weights(model: &Model) -> Vec<(String, Vec<f32>)> {
    model
        .trainable_vars()
        .into_iter()
        .map(|(n, v)| (n, v.flatten_all().unwrap().to_vec1::<f32>().unwrap()))
        .collect()
}

#[test]
fn an_interrupted_run_resumes_to_the_same_weights() {
    let (corpus, split) = gtsrb();
    let (train_set, val_set) = tiny(&corpus, &split);
    let config = TrainConfig {
        max_epochs: 3,
        batch_size: 32,
        patience: 10,
        ..TrainConfig::paper(5)
    };

    let whole = cnn_s(5);
    let dir_a = tempfile::tempdir().unwrap();
    let a = train(
        &whole,
        &train_set,
        &val_set,
        &config,
        dir_a.path(),
        &RunOptions::default(),
    )
    .unwrap();

    let dir_b = tempfile::tempdir().unwrap();
    let first_half = cnn_s(5);
    let stop = RunOptions {
        stop_after: Some(1),
        ..RunOptions::default()
    };
    let part = train(
        &first_half,
        &train_set,
        &val_set,
        &config,
        dir_b.path(),
        &stop,
    )
    .unwrap();
    assert_eq!(part.epochs, 1);
    // A fresh process: a model with other initial weights, continued from the state.
    let resumed = cnn_s(999);
    let b = train(
        &resumed,
        &train_set,
        &val_set,
        &config,
        dir_b.path(),
        &RunOptions::default(),
    )
    .unwrap();

    assert_eq!(weights(&whole), weights(&resumed));
    assert_eq!(a.epochs, b.epochs);
    let losses = |r: &repair_train::TrainReport| {
        r.history
            .iter()
            .map(|h| (h.train_loss, h.val_loss))
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&a), losses(&b));

    // Another config in the same folder is refused rather than mixed in.
    let other = TrainConfig {
        batch_size: 16,
        ..config
    };
    let err = train(
        &cnn_s(5),
        &train_set,
        &val_set,
        &other,
        dir_b.path(),
        &RunOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, TrainError::ConfigMismatch { .. }), "{err}");
}

#[test]
fn a_run_that_early_stopping_ended_gains_no_epochs_when_resumed() {
    let (corpus, split) = gtsrb();
    let (train_set, val_set) = tiny(&corpus, &split);
    // lr 1e-12 leaves the f32 weights (almost) unchanged, so the validation loss stops
    // falling at once and patience 1 ends the run within a few epochs.
    let mut config = TrainConfig {
        max_epochs: 10,
        batch_size: 64,
        patience: 1,
        ..TrainConfig::paper(4)
    };
    config.sgd.lr = 1e-12;
    let dir = tempfile::tempdir().unwrap();
    let run = |model: &Model| {
        train(
            model,
            &train_set,
            &val_set,
            &config,
            dir.path(),
            &RunOptions::default(),
        )
        .unwrap()
    };
    let first = run(&cnn_s(4));
    assert!(first.stopped_early, "{:?}", first.history);
    assert!(first.epochs < 10);
    let again = run(&cnn_s(4));
    assert!(again.stopped_early);
    assert_eq!(again.epochs, first.epochs);
    assert_eq!(again.converged_epoch, first.converged_epoch);
    assert_eq!(again.checkpoints, first.checkpoints);
    let csv = std::fs::read_to_string(dir.path().join("training.csv")).unwrap();
    assert_eq!(csv.lines().count(), first.epochs + 1);
}

/// Stops the run after `after` epochs, recording what it was shown.
struct StopAfter {
    after: usize,
    seen: Vec<(usize, bool, usize)>,
}

impl EpochHook for StopAfter {
    fn epoch_end(&mut self, end: &EpochEnd<'_>) -> repair_train::Result<ControlFlow<()>> {
        let checkpoint = end.checkpoint.is_some_and(|p| p.is_file());
        self.seen
            .push((end.record.epoch, checkpoint, end.history.len()));
        assert_eq!(end.model.num_classes(), 43);
        Ok(if end.record.epoch >= self.after {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    }
}

#[test]
fn the_epoch_end_hook_sees_every_epoch_and_can_end_the_run_as_an_early_stop_does() {
    let (corpus, split) = gtsrb();
    let (train_set, val_set) = tiny(&corpus, &split);
    let config = TrainConfig {
        max_epochs: 6,
        batch_size: 64,
        patience: 10,
        checkpoint_every: 2,
        ..TrainConfig::paper(4)
    };
    let dir = tempfile::tempdir().unwrap();
    let mut hook = StopAfter {
        after: 3,
        seen: Vec::new(),
    };
    let report = train_with(
        &cnn_s(4),
        &train_set,
        &val_set,
        &config,
        dir.path(),
        &RunOptions::default(),
        &mut hook,
    )
    .unwrap();
    // Epochs 1 and 2 have scheduled checkpoints, 3 not (yet): it is the last one.
    assert_eq!(hook.seen, vec![(1, true, 1), (2, true, 2), (3, false, 3)]);
    assert!(report.stopped_by_hook && !report.stopped_early);
    assert_eq!(report.epochs, 3);
    let mut expected = vec![1, 2, 3, report.converged_epoch];
    expected.sort_unstable();
    expected.dedup();
    assert_eq!(report.checkpoints, expected);
}

#[test]
fn checkpoints_are_saved_at_epoch_one_every_five_at_convergence_and_last() {
    let (corpus, split) = gtsrb();
    let (train_set, val_set) = tiny(&corpus, &split);
    let config = TrainConfig {
        max_epochs: 6,
        batch_size: 64,
        patience: 10,
        ..TrainConfig::paper(3)
    };
    let dir = tempfile::tempdir().unwrap();
    let model = cnn_s(3);
    let report = train(
        &model,
        &train_set,
        &val_set,
        &config,
        dir.path(),
        &RunOptions::default(),
    )
    .unwrap();
    assert_eq!(report.epochs, 6);
    let mut expected = vec![1, 5, 6, report.converged_epoch];
    expected.sort_unstable();
    expected.dedup();
    assert_eq!(report.checkpoints, expected);
    // The converged checkpoint holds the weights of the lowest validation loss.
    let best = report
        .history
        .iter()
        .min_by(|a, b| a.val_loss.total_cmp(&b.val_loss))
        .unwrap();
    assert_eq!(best.epoch, report.converged_epoch);
    let reloaded = cnn_s(0);
    let run = repair_train::RunDir::new(dir.path());
    reloaded
        .load(&run.checkpoint(report.converged_epoch))
        .unwrap();
    let val_again = evaluate(&reloaded, &val_set, 256, None, &Device::Cpu).unwrap();
    assert!((val_again.loss - best.val_loss).abs() < 1e-5);
    let info: repair_train::CheckpointInfo = serde_json::from_slice(
        &std::fs::read(run.checkpoint_info(report.converged_epoch)).unwrap(),
    )
    .unwrap();
    assert!(
        info.reasons.contains(&"converged".to_string()),
        "{:?}",
        info.reasons
    );
    assert_eq!(info.config_hash, config.hash());
    let csv = std::fs::read_to_string(dir.path().join("training.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
}

#[test]
fn a_diverging_run_stops_at_the_first_non_finite_loss_and_saves_nothing() {
    let (corpus, split) = gtsrb();
    let (train_set, val_set) = tiny(&corpus, &split);
    // lr 1e30: the first step is finite, then the weights overflow to ±inf and the
    // logits to NaN within a few batches.
    let config = TrainConfig {
        max_epochs: 1,
        batch_size: 16,
        sgd: repair_train::SgdConfig {
            lr: 1e30,
            momentum: 0.9,
        },
        ..TrainConfig::paper(1)
    };
    let dir = tempfile::tempdir().unwrap();
    let err = train(
        &cnn_s(1),
        &train_set,
        &val_set,
        &config,
        dir.path(),
        &RunOptions::default(),
    )
    .unwrap_err();
    let TrainError::NonFiniteLoss { epoch, batch, loss } = err else {
        panic!("{err}")
    };
    assert_eq!(epoch, 1);
    assert!((1..16).contains(&batch), "batch {batch}");
    assert!(!loss.is_finite());
    assert!(
        !dir.path().join("state").exists(),
        "no state of a broken epoch"
    );
}
