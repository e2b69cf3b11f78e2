//! The training loop: seeded batches, momentum SGD on the schedule's rate, validation
//! after every epoch, early stopping, checkpoints, progress through an observer, an
//! epoch-end hook, and resume.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Tensor, D};
use repair_core::{NoProgress, Progress};
use repair_data::{Batcher, Dataset};
use repair_zoo::Classifier;

use crate::config::TrainConfig;
use crate::early_stopping::EarlyStopping;
use crate::error::{Result, TrainError};
use crate::evaluate::evaluate;
use crate::sgd::SgdMomentum;
use crate::state::{CheckpointInfo, EpochRecord, ResumeState, RunDir};

/// How a run ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainReport {
    /// Epochs completed in total (including a resumed run's earlier part).
    pub epochs: usize,
    /// Epoch of the lowest validation loss.
    pub converged_epoch: usize,
    /// True when early stopping ended the run (else `max_epochs` or `stop_after`).
    pub stopped_early: bool,
    /// True when the epoch-end hook ended the run.
    #[serde(default)]
    pub stopped_by_hook: bool,
    /// Epochs with a saved checkpoint, ascending.
    pub checkpoints: Vec<usize>,
    /// Every epoch's record.
    pub history: Vec<EpochRecord>,
}

/// Options that do not change the result (not part of the config hash).
#[derive(Clone, Copy)]
pub struct RunOptions<'a> {
    /// Return after this many epochs in total, as if interrupted (tests, time slices).
    pub stop_after: Option<usize>,
    /// Told of every batch and epoch.
    pub progress: &'a dyn Progress,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        RunOptions {
            stop_after: None,
            progress: &NoProgress,
        }
    }
}

impl std::fmt::Debug for RunOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("stop_after", &self.stop_after)
            .finish_non_exhaustive()
    }
}

/// What the epoch-end hook sees once an epoch is validated and saved.
pub struct EpochEnd<'a> {
    /// The epoch just finished.
    pub record: &'a EpochRecord,
    /// Every epoch so far, this one last.
    pub history: &'a [EpochRecord],
    /// The model with this epoch's weights.
    pub model: &'a dyn Classifier,
    /// This epoch's checkpoint, when the schedule saved one.
    pub checkpoint: Option<&'a Path>,
}

/// Acts after every epoch (an online repair-readiness rule, a time budget); returning
/// `Break` ends the run there, which then finishes as an early stop does (converged
/// and last checkpoints saved). A resumed run calls the hook again from its next epoch.
pub trait EpochHook {
    /// Called after each epoch's checkpoint and resume state are written.
    fn epoch_end(&mut self, end: &EpochEnd<'_>) -> Result<ControlFlow<()>>;
}

/// The hook that never stops a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHook;

impl EpochHook for NoHook {
    fn epoch_end(&mut self, _: &EpochEnd<'_>) -> Result<ControlFlow<()>> {
        Ok(ControlFlow::Continue(()))
    }
}

/// Trains `model` on `train`, validating on `val`, writing everything under `out`.
/// If `out` holds the state of an interrupted run with the same config, continues it.
pub fn train<T: Dataset, V: Dataset>(
    model: &dyn Classifier,
    train: &T,
    val: &V,
    config: &TrainConfig,
    out: &Path,
    options: &RunOptions<'_>,
) -> Result<TrainReport> {
    train_with(model, train, val, config, out, options, &mut NoHook)
}

/// [`train`] with `hook` called after every epoch.
pub fn train_with<T: Dataset, V: Dataset>(
    model: &dyn Classifier,
    train: &T,
    val: &V,
    config: &TrainConfig,
    out: &Path,
    options: &RunOptions<'_>,
    hook: &mut dyn EpochHook,
) -> Result<TrainReport> {
    config.validate()?;
    let run = RunDir::new(out);
    let device = model.device().clone();
    let mut sgd = SgdMomentum::new(model.trainable_vars(), config.sgd);
    let mut early = EarlyStopping::new(config.patience);
    let mut history = Vec::new();
    let mut first_epoch = 1;
    if let Some((state, velocity)) = run.load_state(&device)? {
        if state.config_hash != config.hash() {
            return Err(TrainError::ConfigMismatch {
                path: out.join("state"),
                expected: config.hash(),
                found: state.config_hash,
            });
        }
        model.load(&run.state_weights(state.epochs_done))?;
        sgd.set_velocity(&velocity)?;
        early = state.early_stopping;
        history = state.history;
        first_epoch = state.epochs_done + 1;
    }
    let mut batcher = Batcher::new(train, config.batch_size, config.seed).on(device.clone());
    if let Some(n) = &config.normalisation {
        batcher = batcher.normalise(n.clone());
    }
    let started = Instant::now();
    let offset_s = history.last().map_or(0.0, |r: &EpochRecord| r.elapsed_s);
    // A resumed run that early stopping had already ended stays ended.
    let mut stopped_early = early
        .best_epoch()
        .is_some_and(|best| history.len() - best >= config.patience);
    let mut stopped_by_hook = false;
    let mut epoch = first_epoch;
    while epoch <= config.max_epochs && !stopped_early && !stopped_by_hook {
        if options.stop_after.is_some_and(|n| epoch > n) {
            break;
        }
        let lr = config.schedule.lr(config.sgd.lr, epoch - 1);
        sgd.set_learning_rate(lr);
        let progress = options.progress;
        progress.begin(
            &format!("epoch {epoch}/{}", config.max_epochs),
            batcher.batches_per_epoch() as u64,
        );
        let (mut loss_sum, mut correct, mut seen) = (0f64, 0usize, 0usize);
        let epoch_start = Instant::now();
        for (b, batch) in batcher.epoch(epoch as u64 - 1).enumerate() {
            let batch = batch?;
            let logits = model.logits(&batch.images, true)?;
            let loss = candle_nn::loss::cross_entropy(&logits, &batch.labels)?;
            let value = loss.to_scalar::<f32>()?;
            if !value.is_finite() {
                return Err(TrainError::NonFiniteLoss {
                    epoch,
                    batch: b,
                    loss: value,
                });
            }
            sgd.backward_step(&loss)?;
            let n = batch.indices.len();
            loss_sum += f64::from(value) * n as f64;
            correct += logits
                .argmax(D::Minus1)?
                .eq(&batch.labels)?
                .to_dtype(DType::U32)?
                .sum_all()?
                .to_scalar::<u32>()? as usize;
            seen += n;
            let status = format!(
                "loss {:.4} acc {:.3} {:.0} img/s",
                loss_sum / seen as f64,
                correct as f64 / seen as f64,
                seen as f64 / epoch_start.elapsed().as_secs_f64()
            );
            progress.advance(1, Some(&status));
        }
        progress.end();
        let val_eval = evaluate(
            model,
            val,
            config.batch_size.max(256),
            config.normalisation.as_ref(),
            &device,
        )?;
        let record = EpochRecord {
            epoch,
            lr,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            val_loss: val_eval.loss,
            val_accuracy: val_eval.accuracy,
            elapsed_s: offset_s + started.elapsed().as_secs_f64(),
        };
        stopped_early = early.should_stop(epoch, record.val_loss);
        if early.best_epoch() == Some(epoch) {
            model.save(&run.best())?;
        }
        let scheduled = epoch == 1 || epoch % config.checkpoint_every == 0;
        if scheduled {
            save_checkpoint(model, &run, config, &record, "every")?;
        }
        history.push(record);
        run.write_history(&history)?;
        model.save(&run.state_weights(epoch))?;
        let state = ResumeState {
            config_hash: config.hash(),
            epochs_done: epoch,
            early_stopping: early.clone(),
            history: history.clone(),
        };
        run.save_state(&state, &sgd.velocity())?;
        let r = history.last().expect("pushed above");
        progress.line(&format!(
            "epoch {epoch:>3}  lr {:.0e}  train loss {:.4} acc {:.4}  val loss {:.4} acc {:.4}",
            r.lr, r.train_loss, r.train_accuracy, r.val_loss, r.val_accuracy
        ));
        let checkpoint = run.checkpoint(epoch);
        let end = EpochEnd {
            record: r,
            history: &history,
            model,
            checkpoint: scheduled.then_some(checkpoint.as_path()),
        };
        stopped_by_hook = hook.epoch_end(&end)?.is_break();
        epoch += 1;
    }
    let epochs = history.len();
    let finished = stopped_early || stopped_by_hook || epochs >= config.max_epochs;
    let converged_epoch = early.best_epoch().unwrap_or(0);
    if finished && epochs > 0 {
        // The converged checkpoint (lowest validation loss) and the last epoch.
        let best = history[converged_epoch - 1].clone();
        let best_weights = run.checkpoint(converged_epoch);
        // Atomic like every other write: a kill during a plain copy left a truncated
        // checkpoint that looked complete.
        repair_core::write_atomic_with(&best_weights, |tmp| {
            std::fs::copy(run.best(), tmp).map(|_| ())
        })
        .map_err(|e| TrainError::File {
            path: best_weights.clone(),
            problem: e.to_string(),
        })?;
        add_reason(&run, config, &best, "converged")?;
        let last = history[epochs - 1].clone();
        if !run.checkpoint(epochs).exists() {
            save_checkpoint(model, &run, config, &last, "last")?;
        } else {
            add_reason(&run, config, &last, "last")?;
        }
    }
    let checkpoints = (1..=epochs)
        .filter(|&e| run.checkpoint(e).exists())
        .collect();
    Ok(TrainReport {
        epochs,
        converged_epoch,
        stopped_early,
        stopped_by_hook,
        checkpoints,
        history,
    })
}

/// Loss and correct predictions of one training step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepResult {
    /// Mean cross-entropy of the batch (before the update).
    pub loss: f32,
    /// Images of the batch classified correctly (before the update).
    pub correct: usize,
}

/// One step: forward in training mode, cross-entropy, backward, SGD update. A
/// non-finite loss is returned without updating the weights.
pub fn train_step(
    model: &dyn Classifier,
    sgd: &mut SgdMomentum,
    images: &Tensor,
    labels: &Tensor,
) -> Result<StepResult> {
    let logits = model.logits(images, true)?;
    let loss = candle_nn::loss::cross_entropy(&logits, labels)?;
    let value = loss.to_scalar::<f32>()?;
    if value.is_finite() {
        sgd.backward_step(&loss)?;
    }
    let correct = logits
        .argmax(D::Minus1)?
        .eq(labels)?
        .to_dtype(DType::U32)?
        .sum_all()?
        .to_scalar::<u32>()?;
    Ok(StepResult {
        loss: value,
        correct: correct as usize,
    })
}

fn save_checkpoint(
    model: &dyn Classifier,
    run: &RunDir,
    config: &TrainConfig,
    record: &EpochRecord,
    reason: &str,
) -> Result<()> {
    model.save(&run.checkpoint(record.epoch))?;
    let reason = if record.epoch == 1 && reason == "every" {
        "first"
    } else {
        reason
    };
    run.write_info(&CheckpointInfo {
        record: record.clone(),
        seed: config.seed,
        config_hash: config.hash(),
        reasons: vec![reason.to_string()],
        weights: None, // write_info records the file's
    })
}

/// Adds a reason to a checkpoint's sidecar (creating the sidecar if needed).
fn add_reason(
    run: &RunDir,
    config: &TrainConfig,
    record: &EpochRecord,
    reason: &str,
) -> Result<()> {
    let path = run.checkpoint_info(record.epoch);
    let mut info = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<CheckpointInfo>(&b).ok())
        .unwrap_or_else(|| CheckpointInfo {
            record: record.clone(),
            seed: config.seed,
            config_hash: config.hash(),
            reasons: Vec::new(),
            weights: None,
        });
    if !info.reasons.iter().any(|r| r == reason) {
        info.reasons.push(reason.to_string());
    }
    run.write_info(&info)
}
