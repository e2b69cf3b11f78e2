//! One training run, the unit of work that `xtask train` and every seed of an
//! experiment share: write `run.json`, build the model, train (or resume) with
//! checkpoints.

use std::path::Path;

use candle_core::Device;
use repair_data::Dataset;
use repair_train::{train, RunOptions, TrainConfig, TrainReport};
use repair_zoo::{build_model, ModelSpec};

use crate::error::{file_error, PipelineError, Result};
use crate::run_manifest::RunManifest;

/// How a training run is carried out (not what it computes).
#[derive(Debug, Clone, Default)]
pub struct TrainRunOptions<'a> {
    /// torchvision VGG16 ImageNet weights to start the convolutional base from.
    pub pretrained: Option<&'a Path>,
    /// Return after this many epochs in total, as if interrupted (tests, time slices).
    pub stop_after: Option<usize>,
    /// Draw a progress bar.
    pub progress: bool,
}

/// Trains `model` with `config` on `train_set`, validating on `val_set`, into `dir`
/// (`run.json`, `checkpoints/`, `training.csv`, the resume state), on `device`. A folder
/// holding an interrupted run with the same config is resumed.
pub fn train_run<T: Dataset, V: Dataset>(
    dir: &Path,
    model: &ModelSpec,
    config: &TrainConfig,
    train_set: &T,
    val_set: &V,
    device: &Device,
    options: &TrainRunOptions<'_>,
) -> Result<TrainReport> {
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    RunManifest::new(
        model.clone(),
        config.clone(),
        train_set.len(),
        val_set.len(),
    )
    .write(dir)?;
    let built = build_model(model, device)?;
    if let Some(path) = options.pretrained {
        built.load_pretrained_vgg16(path)?;
    }
    let run = RunOptions {
        stop_after: options.stop_after,
        progress: options.progress,
    };
    train(&built, train_set, val_set, config, dir, &run)
        .map_err(|e| PipelineError::Invalid(format!("training {}: {e}", dir.display())))
}
