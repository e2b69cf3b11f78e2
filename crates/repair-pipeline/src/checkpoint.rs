//! Loading a saved checkpoint into the model its training run describes, and
//! extracting the repair-, selection- (validation) and test-set activations once: the
//! inputs of a repair unit.

use std::path::{Path, PathBuf};
use std::time::Instant;

use repair_core::{DenseLayer, LabelledActivations};
use repair_data::{Corpus, Dataset, Split, SplitPart};
use repair_zoo::{build_model_with, Classifier, Model, ModelSpec};

use crate::activations::extract;
use crate::device::Compute;
use crate::error::{file_error, PipelineError, Result};
use crate::repair_unit::RepairInput;
use crate::run_manifest::RunManifest;

/// A checkpoint loaded, with its last layer and the cached activations.
pub struct LoadedCheckpoint {
    /// The checkpoint file.
    pub checkpoint: PathBuf,
    /// The model holding the checkpoint's weights.
    pub model: Model,
    /// Its last layer.
    pub layer: DenseLayer,
    /// Repair-set activations and labels.
    pub repair: LabelledActivations,
    /// Selection-set (validation split) activations and labels.
    pub selection: LabelledActivations,
    /// Test-set activations and labels (none when not asked for).
    pub test: Option<LabelledActivations>,
    /// Time to extract them, milliseconds.
    pub extract_ms: f64,
}

/// Loads `checkpoint` into a `run` model on `compute`'s device and extracts the repair,
/// selection (validation) and test activations of `split`.
pub fn load_checkpoint(
    checkpoint: &Path,
    run: &RunManifest,
    corpus: &Corpus,
    split: &Split,
    compute: &Compute<'_>,
) -> Result<LoadedCheckpoint> {
    load_checkpoint_with(checkpoint, run, corpus, split, compute, true)
}

/// [`load_checkpoint`], extracting the test set only when `test` says so (the online
/// mode's per-epoch repairs choose on the selection set and skip it: it is a third of
/// the extraction).
pub fn load_checkpoint_with(
    checkpoint: &Path,
    run: &RunManifest,
    corpus: &Corpus,
    split: &Split,
    compute: &Compute<'_>,
    test: bool,
) -> Result<LoadedCheckpoint> {
    if !checkpoint.is_file() {
        return Err(file_error(checkpoint, "no such checkpoint"));
    }
    let classes = corpus.images().num_classes();
    if run.model.num_classes != classes {
        return Err(PipelineError::Invalid(format!(
            "{}: the model has {} classes, the dataset {classes}",
            checkpoint.display(),
            run.model.num_classes
        )));
    }
    let model = build_model_with(&run.model, &compute.device, &compute.build)?;
    model.load(checkpoint)?;
    let layer = model.last_layer()?;
    let started = Instant::now();
    let norm = run.train.normalisation.as_ref();
    let part = |part| {
        extract(
            &model,
            &split.view(corpus, part),
            256,
            norm,
            &compute.device,
            compute.progress,
        )
    };
    let repair = part(SplitPart::Repair)?;
    let selection = part(SplitPart::Val)?;
    let test = if test {
        Some(part(SplitPart::Test)?)
    } else {
        None
    };
    Ok(LoadedCheckpoint {
        checkpoint: checkpoint.to_path_buf(),
        model,
        layer,
        repair,
        selection,
        test,
        extract_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}

impl LoadedCheckpoint {
    /// What a repair unit of this checkpoint reads.
    pub fn input<'a>(&'a self, dataset: &'a str) -> RepairInput<'a> {
        RepairInput {
            checkpoint: &self.checkpoint,
            dataset,
            model: self.model.spec().clone().into(),
            layer: &self.layer,
            repair: &self.repair,
            selection: &self.selection,
            test: self.test.as_ref(),
            extract_ms: self.extract_ms,
            earlier: None,
        }
    }
}

/// The last layer of a checkpoint as one vector (kernel, then bias), read through the
/// model its run describes, on the CPU: what the readiness signals' layer change
/// compares between epochs.
pub fn last_layer_weights(checkpoint: &Path) -> Result<Vec<f32>> {
    let (_, layer) = checkpoint_layer(checkpoint)?;
    Ok(layer.kernel.iter().chain(&layer.bias).copied().collect())
}

/// A checkpoint's model and last layer, read through the model its run describes, on
/// the CPU (the `history` method's earlier checkpoint).
pub fn checkpoint_layer(checkpoint: &Path) -> Result<(ModelSpec, DenseLayer)> {
    let manifest = RunManifest::for_checkpoint(checkpoint)?;
    let model = repair_zoo::build_model(&manifest.model, &candle_core::Device::Cpu)?;
    model.load(checkpoint)?;
    Ok((manifest.model, model.last_layer()?))
}
