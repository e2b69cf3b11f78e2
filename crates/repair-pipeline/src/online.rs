//! The online mode, what a user runs: train, and after every epoch repair its checkpoint
//! on the spot (activations, FL and search: milliseconds to seconds), ask a
//! [`ReadinessRule`] whether to stop, and at the end keep the repaired model of the epoch
//! the rule chose as `best-repaired.safetensors`.
//!
//! Each epoch's repair is the experiment's unit of work ([`repair_unit`]) on the
//! checkpoint file, with the experiment's settings, so an online run makes the same
//! repairs, the same signals and the same decisions as the offline evaluation of the
//! same rule over a dense experiment with the same seed. `online/epoch-NNN/record.json`,
//! written last, marks an epoch done; a killed run, rerun, first completes the epochs it
//! has checkpoints but no record of, and does not train past a recorded stop.

use std::path::{Path, PathBuf};
use std::time::Instant;

use repair_core::{RepairRequest, RuleSpec};
use repair_data::{write_atomic, Corpus, Split, SplitPart};
use repair_readiness::{
    relative_change, rule_of, Accuracy, Alpha, Decision, EpochSignals, ImageCounts, ReadinessRule,
};
use repair_train::{CheckpointInfo, EpochEnd, EpochHook, RunDir, TrainConfig, TrainReport};
use repair_zoo::ModelSpec;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{last_layer_weights, load_checkpoint, load_checkpoint_with};
use crate::device::Compute;
use crate::error::{file_error, PipelineError, Result};
use crate::repair_unit::{repair_unit, settings_of, RepairReport, UnitOutputs};
use crate::run_manifest::RunManifest;
use crate::train_run::{train_run, TrainRunOptions};
use crate::unit_files::{read_json, write_json};
use repair_method::RepairSettings;

/// What to repair online, and when to stop.
pub struct OnlineRepair<'a> {
    /// Dataset name (recorded in the repair reports).
    pub dataset: &'a str,
    /// The stop rule, as written (`best-repaired:3`).
    pub rule: RuleSpec,
    /// α of Qual_α that the rule optimises.
    pub alpha: f64,
    /// The repair of every epoch (class, localiser, search, seed).
    pub request: RepairRequest,
}

/// One epoch of the online mode: what the rule saw and its decision. The epoch's repair
/// is not scored on the test set (a third of the extraction, and nothing a rule may
/// read); the pick is, at the end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnlineEpoch {
    /// The signals of the epoch.
    pub signals: EpochSignals,
    /// The rule's decision after this epoch.
    pub decision: Decision,
    /// Extraction, FL and search of this epoch, milliseconds.
    pub overhead_ms: f64,
}

/// `online.json`: what the online run chose and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnlineReport {
    /// The rule.
    pub rule: String,
    /// α.
    pub alpha: f64,
    /// The repaired class.
    pub class: u32,
    /// The epoch whose repaired model was kept.
    pub picked_epoch: usize,
    /// Epochs trained.
    pub epochs_trained: usize,
    /// True when the rule stopped training (else early stopping or the epoch limit did).
    pub stopped_by_rule: bool,
    /// Repaired selection (validation) Qual_α of the pick: what the rule chose by.
    pub selection_qual: f64,
    /// Repaired test Qual_α of the pick (reported only).
    pub test_qual: f64,
    /// Test Qual_α of the picked checkpoint before repair.
    pub test_base_qual: f64,
    /// The kept model.
    pub best_repaired: PathBuf,
    /// Training wall time, seconds (without the online repairs).
    pub train_s: f64,
    /// Wall time of the online repairs (extraction, FL, search), seconds.
    pub online_s: f64,
    /// The earliest epoch at which `converged` (early stopping with the run's patience)
    /// could have stopped given the losses seen: the lowest loss's epoch + patience,
    /// at most the epoch limit. `converged` trains at least this long.
    pub converged_at_least: usize,
    /// Epochs saved against `converged`, at least.
    pub epochs_saved_at_least: usize,
    /// Training time saved against `converged`, at least: the epochs saved times the
    /// mean epoch time, seconds.
    pub time_saved_at_least_s: f64,
    /// Every epoch.
    pub epochs: Vec<OnlineEpoch>,
    /// How training ended.
    pub training: TrainReport,
}

/// The folder of epoch `epoch`'s online repair.
fn epoch_folder(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("online/epoch-{epoch:03}"))
}

/// Reads `record.json` of every epoch 1, 2, … that has one, stopping at the first gap.
fn read_records(dir: &Path) -> Result<Vec<OnlineEpoch>> {
    let mut records = Vec::new();
    loop {
        let path = epoch_folder(dir, records.len() + 1).join("record.json");
        if !path.is_file() {
            return Ok(records);
        }
        records.push(read_json(&path)?);
    }
}

/// Everything an online run needs besides its training.
struct Online<'a> {
    dir: &'a Path,
    corpus: &'a Corpus,
    split: &'a Split,
    compute: &'a Compute<'a>,
    online: &'a OnlineRepair<'a>,
    settings: RepairSettings,
    rule: Box<dyn ReadinessRule>,
    alpha: Alpha,
}

impl Online<'_> {
    /// Repairs every checkpointed epoch that has no record yet, in order, and returns
    /// all records, up to the first whose decision is to stop.
    fn catch_up(&self) -> Result<Vec<OnlineEpoch>> {
        let mut records = read_records(self.dir)?;
        if records.last().is_some_and(|r| r.decision.stop) {
            return Ok(records);
        }
        let run = RunDir::new(self.dir);
        let mut previous: Option<Vec<f32>> = None;
        loop {
            let epoch = records.len() + 1;
            let checkpoint = run.checkpoint(epoch);
            let info_path = run.checkpoint_info(epoch);
            if !checkpoint.is_file() || !info_path.is_file() {
                return Ok(records);
            }
            let info: CheckpointInfo = run.read_info(epoch)?;
            if previous.is_none() && epoch > 1 {
                previous = Some(last_layer_weights(&run.checkpoint(epoch - 1))?);
            }
            let started = Instant::now();
            let manifest = RunManifest::for_checkpoint(&checkpoint)?;
            let loaded = load_checkpoint_with(
                &checkpoint,
                &manifest,
                self.corpus,
                self.split,
                self.compute,
                false,
            )?;
            let out = epoch_folder(self.dir, epoch);
            let report = repair_unit(
                &loaded.input(self.online.dataset),
                &self.settings,
                &out,
                &UnitOutputs::default(),
            )?;
            let weights: Vec<f32> = loaded
                .layer
                .kernel
                .iter()
                .chain(&loaded.layer.bias)
                .copied()
                .collect();
            let class = self.settings.class;
            let labels = &loaded.selection.labels;
            let selection_images = ImageCounts {
                class: labels.iter().filter(|&&l| l == class).count(),
                total: labels.len(),
            };
            let signals = signals_of(
                epoch,
                info.record.val_loss,
                &report,
                previous.as_deref(),
                &weights,
                selection_images,
            );
            previous = Some(weights);
            let mut seen: Vec<EpochSignals> = records.iter().map(|r| r.signals.clone()).collect();
            seen.push(signals.clone());
            let decision = self.rule.decide(&seen, self.alpha);
            let record = OnlineEpoch {
                signals,
                decision,
                overhead_ms: started.elapsed().as_secs_f64() * 1e3,
            };
            let path = out.join("record.json");
            write_json(&path, &record)?;
            self.compute.progress.line(&format!(
                "online epoch {epoch:>3}  repaired selection Qual {:.4} (base {:.4})  → {} epoch {}",
                record.signals.repaired.qual(self.alpha),
                record.signals.base.qual(self.alpha),
                if decision.stop { "stop, use" } else { "continue, best so far" },
                decision.epoch
            ));
            records.push(record);
            if decision.stop {
                return Ok(records);
            }
        }
    }
}

/// Hands each finished epoch to [`Online::catch_up`] and stops the run when it says so.
struct OnlineHook<'a> {
    online: Online<'a>,
    failure: Option<PipelineError>,
}

impl EpochHook for OnlineHook<'_> {
    fn epoch_end(
        &mut self,
        _end: &EpochEnd<'_>,
    ) -> repair_train::Result<std::ops::ControlFlow<()>> {
        match self.online.catch_up() {
            Ok(records) if records.last().is_some_and(|r| r.decision.stop) => {
                Ok(std::ops::ControlFlow::Break(()))
            }
            Ok(_) => Ok(std::ops::ControlFlow::Continue(())),
            Err(e) => {
                // Ends the run; the error is returned by train_online.
                self.failure = Some(e);
                Ok(std::ops::ControlFlow::Break(()))
            }
        }
    }
}

fn accuracy(a: &crate::activations::ClassAccuracy) -> Accuracy {
    Accuracy {
        cls: a.class,
        total: a.total,
    }
}

/// The signals of one epoch's repair, as the offline evaluation reads them from an
/// experiment folder (`readiness_series`).
fn signals_of(
    epoch: usize,
    val_loss: f64,
    report: &RepairReport,
    previous: Option<&[f32]>,
    weights: &[f32],
    selection_images: ImageCounts,
) -> EpochSignals {
    EpochSignals {
        epoch,
        val_loss,
        base: accuracy(&report.selection_before),
        repaired: accuracy(&report.selection_after),
        rr: report.outcome.rr,
        br: report.outcome.br,
        negatives: report.outcome.negatives,
        fitness_before: report.outcome.fitness_before.map(|f| f.fitness),
        // The fitness of the model the rule may pick (the checkpoint's own when the
        // repair kept it), as `repairs.csv` gives it to the offline evaluation.
        fitness_after: if report.outcome.kept_original {
            report.outcome.fitness_before
        } else {
            report.outcome.fitness_after
        }
        .map(|f| f.fitness),
        sites: report.sites.clone(),
        layer_change: previous.and_then(|p| relative_change(p, weights)),
        kept_original: report.outcome.kept_original,
        selection_images: Some(selection_images),
    }
}

/// What an online run decides with, as `online/settings.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OnlineSettings {
    rule: String,
    alpha: f64,
    repair: RepairSettings,
}

/// Records the run's rule, α and repair settings the first time; on a rerun, refuses
/// other ones: the recorded epochs' decisions were made with those, and relabelling them
/// with new settings would report choices no rule made.
fn same_online_settings(
    dir: &Path,
    online: &OnlineRepair<'_>,
    repair: &RepairSettings,
) -> Result<()> {
    let path = dir.join("online/settings.json");
    let now = OnlineSettings {
        rule: online.rule.to_string(),
        alpha: online.alpha,
        repair: repair.clone(),
    };
    if !path.is_file() {
        if dir.join("online").is_dir() {
            return Err(file_error(
                &path,
                "missing, but the folder holds online epochs: they were decided with \
                 settings this run cannot check; pass another --out",
            ));
        }
        let folder = dir.join("online");
        std::fs::create_dir_all(&folder).map_err(|e| file_error(&folder, e))?;
        return write_json(&path, &now);
    }
    let was: OnlineSettings = read_json(&path)?;
    let differs = [
        (
            "--rule",
            was.rule != now.rule,
            was.rule.clone(),
            now.rule.clone(),
        ),
        (
            "--alpha",
            was.alpha != now.alpha,
            was.alpha.to_string(),
            now.alpha.to_string(),
        ),
        (
            "--repair-class",
            was.repair.class != now.repair.class,
            was.repair.class.to_string(),
            now.repair.class.to_string(),
        ),
        (
            "the repair settings",
            was.repair != now.repair,
            format!("{:?}", was.repair),
            format!("{:?}", now.repair),
        ),
    ];
    match differs.into_iter().find(|d| d.1) {
        None => Ok(()),
        Some((what, _, was, now)) => Err(file_error(
            &path,
            format!(
                "this online run was started with {what} {was}, not {now}: its epochs were \
                 decided with those; rerun with them, or pass another --out"
            ),
        )),
    }
}

/// Trains `model` with `config` (which must checkpoint every epoch) on `split`'s
/// training part into `dir`, repairing every epoch as `online` says and stopping when
/// its rule does (or early stopping, or the epoch limit); then writes
/// `best-repaired.safetensors` (the rule's pick, repaired) and `online.json`. Resumes a
/// killed run. `stop_after` returns after that many epochs, as if interrupted (tests,
/// time slices): then, unless the run had finished, there is no report (`None`).
#[allow(clippy::too_many_arguments)]
pub fn train_online(
    dir: &Path,
    model: &ModelSpec,
    config: &TrainConfig,
    corpus: &Corpus,
    split: &Split,
    compute: &Compute<'_>,
    online: &OnlineRepair<'_>,
    stop_after: Option<usize>,
) -> Result<Option<OnlineReport>> {
    if config.checkpoint_every != 1 {
        return Err(PipelineError::Invalid(format!(
            "the online mode repairs every epoch's checkpoint: checkpoint_every must be 1, not {}",
            config.checkpoint_every
        )));
    }
    let alpha = Alpha::new(online.alpha).map_err(|e| PipelineError::Invalid(e.to_string()))?;
    let settings = settings_of(&online.request)?;
    same_online_settings(dir, online, &settings)?;
    let state = Online {
        dir,
        corpus,
        split,
        compute,
        online,
        settings,
        rule: rule_of(&online.rule),
        alpha,
    };
    // A rerun first finishes the epochs a kill left without a record; a recorded stop
    // ends training there.
    let recorded_stop = if dir.join(crate::run_manifest::RUN_JSON).is_file() {
        state
            .catch_up()?
            .last()
            .filter(|r| r.decision.stop)
            .map(|r| r.signals.epoch)
    } else {
        None
    };
    let mut hook = OnlineHook {
        online: state,
        failure: None,
    };
    let report: TrainReport = train_run(
        dir,
        model,
        config,
        &split.view(corpus, SplitPart::Train),
        &split.view(corpus, SplitPart::Val),
        compute,
        TrainRunOptions {
            stop_after: match (recorded_stop, stop_after) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            hook: Some(&mut hook),
            ..TrainRunOptions::default()
        },
    )?;
    if let Some(e) = hook.failure {
        return Err(e);
    }
    let records = hook.online.catch_up()?;
    if records.len() < report.epochs.min(stop_after.unwrap_or(usize::MAX)) {
        return Err(PipelineError::Invalid(format!(
            "{}: {} epochs trained but {} repaired online",
            dir.display(),
            report.epochs,
            records.len()
        )));
    }
    let finished = records.last().is_some_and(|r| r.decision.stop)
        || report.stopped_early
        || report.epochs >= config.max_epochs;
    if !finished {
        return Ok(None);
    }
    hook.online.finish(config, &report, records).map(Some)
}

impl Online<'_> {
    /// Writes the pick's repaired model and `online.json`.
    fn finish(
        &self,
        config: &TrainConfig,
        report: &TrainReport,
        records: Vec<OnlineEpoch>,
    ) -> Result<OnlineReport> {
        let Online {
            dir,
            corpus,
            split,
            compute,
            online,
            alpha,
            ..
        } = *self;
        let last = records.last().expect("a finished run has an epoch");
        let pick = last.decision.epoch;
        let picked = &records[pick - 1];
        // The pick's repair again (deterministic), this time writing the repaired model.
        let checkpoint = RunDir::new(dir).checkpoint(pick);
        let manifest = RunManifest::for_checkpoint(&checkpoint)?;
        let loaded = load_checkpoint(&checkpoint, &manifest, corpus, split, compute)?;
        let best_dir = dir.join("online/best");
        let repaired = repair_unit(
            &loaded.input(online.dataset),
            &self.settings,
            &best_dir,
            &UnitOutputs {
                repaired_model: Some(&loaded.model),
                ..UnitOutputs::default()
            },
        )?;
        let test = |a: &Option<crate::activations::ClassAccuracy>| {
            a.as_ref().map(accuracy).ok_or_else(|| {
                PipelineError::Invalid("the pick was not scored on the test set".into())
            })
        };
        let (test_base, test_repaired) =
            (test(&repaired.test_before)?, test(&repaired.test_after)?);
        let best_repaired = dir.join("best-repaired.safetensors");
        // Nothing to repair at the pick: its checkpoint is the best repaired model.
        let source = repaired.repaired_checkpoint.unwrap_or(checkpoint);
        let bytes = std::fs::read(&source).map_err(|e| file_error(&source, e))?;
        write_atomic(&best_repaired, &bytes)?;
        let losses: Vec<(usize, f64)> = report
            .history
            .iter()
            .map(|h| (h.epoch, h.val_loss))
            .collect();
        let lowest = repair_metrics::converged_epoch(&losses).unwrap_or(1);
        let converged_at_least = (lowest + config.patience).min(config.max_epochs);
        let train_s = report.history.last().map_or(0.0, |h| h.elapsed_s);
        let epochs_trained = report.epochs;
        let saved = converged_at_least.saturating_sub(epochs_trained);
        let out = OnlineReport {
            rule: self.rule.name(),
            alpha: alpha.get(),
            class: online.request.class,
            picked_epoch: pick,
            epochs_trained,
            stopped_by_rule: last.decision.stop,
            selection_qual: picked.signals.repaired.qual(alpha),
            test_qual: test_repaired.qual(alpha),
            test_base_qual: test_base.qual(alpha),
            best_repaired,
            train_s,
            online_s: records.iter().map(|r| r.overhead_ms).sum::<f64>() / 1e3,
            converged_at_least,
            epochs_saved_at_least: saved,
            time_saved_at_least_s: saved as f64 * train_s / epochs_trained.max(1) as f64,
            epochs: records,
            training: report.clone(),
        };
        let path = dir.join("online.json");
        write_json(&path, &out)?;
        Ok(out)
    }
}
