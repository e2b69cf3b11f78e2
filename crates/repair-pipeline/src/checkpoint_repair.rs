//! One checkpoint's repair from its file, as `xtask repair --checkpoint` asks for it:
//! the checkpoint's split and dataset, the corpus resized to the model's input, the
//! checkpoint loaded and its activations extracted, an earlier checkpoint for the
//! `history` method, then [`repair_unit`] with the repaired model written beside its
//! report.

use std::path::{Path, PathBuf};

use repair_core::{DenseLayer, MethodName, RepairRequest};
use repair_data::{Manifest, Split};
use repair_zoo::ModelSpec;

use crate::checkpoint::{checkpoint_layer, load_checkpoint};
use crate::device::Compute;
use crate::error::{file_error, PipelineError, Result};
use crate::repair_unit::{repair_unit, settings_of, RepairInput, RepairReport, UnitOutputs};
use crate::run_manifest::{run_dir, RunManifest};

/// A checkpoint to repair and where its data is.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointRepair<'a> {
    /// `RUN/checkpoints/epoch-NNN.safetensors`.
    pub checkpoint: &'a Path,
    /// The split the run was trained on (from [`checkpoint_split`]).
    pub split: &'a Path,
    /// The dataset's folder.
    pub data: &'a Path,
    /// The `history` method's earlier checkpoint of the same run.
    pub earlier: Option<&'a Path>,
    /// Also write the search problem (`problem.safetensors`, `problem.json`).
    pub export_problem: bool,
}

/// The split file of `checkpoint`'s run (`split`, else `RUN/split.json`) and its
/// dataset, refused when the checkpoint is missing or its model has another number of
/// classes than the dataset (a split of another run). Read before the dataset's
/// folder is looked for, so that a wrong split is named before any missing data.
pub fn checkpoint_split(checkpoint: &Path, split: Option<&Path>) -> Result<(PathBuf, String)> {
    if !checkpoint.is_file() {
        return Err(file_error(checkpoint, "no such checkpoint file"));
    }
    let split_path = match split {
        Some(p) => p.to_path_buf(),
        None => run_dir(checkpoint).join("split.json"),
    };
    let dataset = Split::dataset_of(&split_path)?;
    let run = RunManifest::for_checkpoint(checkpoint)?;
    let classes = Manifest::builtin(&dataset)?.num_classes;
    if classes != run.model.num_classes {
        return Err(file_error(
            &split_path,
            format!(
                "belongs to dataset {dataset} ({classes} classes), but the checkpoint's model has \
                 {} classes: pass the split of the checkpoint's own run",
                run.model.num_classes
            ),
        ));
    }
    Ok((split_path, dataset))
}

/// Repairs `job.checkpoint` as `request` asks into `out`: `repair.json`, the run's
/// files of a repair unit, and `repaired.safetensors` (the whole model with the
/// repaired last layer).
pub fn repair_checkpoint(
    job: &CheckpointRepair<'_>,
    request: &RepairRequest,
    out: &Path,
    compute: &Compute<'_>,
) -> Result<RepairReport> {
    let settings = settings_of(request)?;
    if (request.method == MethodName::History) != job.earlier.is_some() {
        return Err(PipelineError::Invalid(
            if job.earlier.is_some() {
                "an earlier checkpoint is the history method's: ask for method `history`"
            } else {
                "the history method needs an earlier checkpoint of the same run"
            }
            .into(),
        ));
    }
    let dataset = Split::dataset_of(job.split)?;
    let run = RunManifest::for_checkpoint(job.checkpoint)?;
    let classes = run.model.num_classes;
    if let Some(class) = request
        .classes()
        .into_iter()
        .find(|&c| c as usize >= classes)
    {
        return Err(PipelineError::Invalid(format!(
            "class {class}: {dataset} has classes 0–{}",
            classes - 1
        )));
    }
    let earlier = match job.earlier {
        Some(path) => Some(earlier_layer(path, &run.model)?),
        None => None,
    };
    // A model trained on resized images (an experiment's `input_side`) gets them resized
    // the same way; the split's checksum then matches the resized corpus.
    let (_, height, width) = run.model.input;
    let corpus = Manifest::builtin(&dataset)?
        .load(job.data)?
        .resized(height, width)?;
    let split = Split::load(job.split, &corpus)?;
    compute.progress.line(&format!(
        "repairing class {} of {} ({}) on {}",
        request
            .classes()
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(","),
        job.checkpoint.display(),
        run.model.arch,
        corpus.describe()
    ));
    let loaded = load_checkpoint(job.checkpoint, &run, &corpus, &split, compute)?;
    let outputs = UnitOutputs {
        repaired_model: Some(&loaded.model),
        export_problem: job.export_problem,
        progress: compute.progress,
    };
    let input = RepairInput {
        earlier: earlier.as_ref().map(|(epoch, layer)| (*epoch, layer)),
        ..loaded.input(&dataset)
    };
    repair_unit(&input, &settings, out, &outputs)
}

/// The history method's earlier checkpoint: its epoch (from `epoch-NNN` in its name) and
/// last layer, refused unless its model is the repaired checkpoint's.
fn earlier_layer(earlier: &Path, model: &ModelSpec) -> Result<(usize, DenseLayer)> {
    let epoch = earlier
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("epoch-"))
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(|| {
            file_error(
                earlier,
                "want an earlier checkpoint RUN/checkpoints/epoch-NNN.safetensors",
            )
        })?;
    let (spec, layer) = checkpoint_layer(earlier)?;
    if spec.arch != model.arch || spec.input != model.input || spec.num_classes != model.num_classes
    {
        return Err(file_error(
            earlier,
            format!(
                "a {} {:?} model with {} classes, not the repaired checkpoint's {} {:?} with {}",
                spec.arch, spec.input, spec.num_classes, model.arch, model.input, model.num_classes
            ),
        ));
    }
    Ok((epoch, layer))
}
