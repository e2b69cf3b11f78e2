//! One training run, the unit of work that `xtask train` and every seed of an
//! experiment share: write `run.json`, build the model, train (or resume) with
//! checkpoints.

use std::path::Path;

use repair_data::Dataset;
use repair_train::{train_with, EpochHook, NoHook, RunOptions, TrainConfig, TrainReport};
use repair_zoo::{build_model_with, ModelSpec};

use crate::device::Compute;
use crate::error::{file_error, Result};
use crate::run_manifest::RunManifest;

/// What a training run starts from, when it returns and who watches its epochs,
/// besides its config. The default: from scratch, to the end, no hook.
#[derive(Default)]
pub struct TrainRunOptions<'a> {
    /// torchvision VGG16 ImageNet weights to start the convolutional base from.
    pub pretrained: Option<&'a Path>,
    /// Return after this many epochs in total, as if interrupted (tests, time slices).
    pub stop_after: Option<usize>,
    /// Called after every epoch; may end the run (an online repair-readiness rule).
    pub hook: Option<&'a mut dyn EpochHook>,
}

/// Trains `model` with `config` on `train_set`, validating on `val_set`, into `dir`
/// (`run.json`, `checkpoints/`, `training.csv`, the resume state), as `compute` says. A
/// folder holding an interrupted run with the same config is resumed; the options' hook
/// is called after every epoch and may end the run.
pub fn train_run<T: Dataset, V: Dataset>(
    dir: &Path,
    model: &ModelSpec,
    config: &TrainConfig,
    train_set: &T,
    val_set: &V,
    compute: &Compute<'_>,
    options: TrainRunOptions<'_>,
) -> Result<TrainReport> {
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    RunManifest::new(
        model.clone(),
        config.clone(),
        train_set.len(),
        val_set.len(),
    )
    .write(dir)?;
    let built = build_model_with(model, &compute.device, &compute.build)?;
    if let Some(path) = options.pretrained {
        built.load_pretrained_vgg16(path)?;
    }
    let run = RunOptions {
        stop_after: options.stop_after,
        progress: compute.progress,
    };
    let mut no_hook = NoHook;
    let hook = options.hook.unwrap_or(&mut no_hook);
    // The trainer's errors name the run folder's file at fault; they keep their type.
    Ok(train_with(
        &built, train_set, val_set, config, dir, &run, hook,
    )?)
}
