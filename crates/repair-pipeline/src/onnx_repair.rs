//! `xtask repair --onnx MODEL`: the repair of a user's ONNX classifier on a
//! dataset of this project. The images of the dataset's split (the study's, or
//! `--split`) go through the stated preprocessing and the ONNX graph
//! ([`repair_onnx::OnnxClassifier`]); the activations at the input of its last `Gemm`
//! (or `MatMul` + `Add`) are the repair, selection (validation) and test sets, and the
//! repair is the same unit as a checkpoint's ([`repair_unit`]): the same files, plus
//! `repaired.onnx`, the graph with the repaired initializers.

use std::path::{Path, PathBuf};
use std::time::Instant;

use repair_core::{LabelledActivations, Progress, RepairRequest};
use repair_data::{Dataset, Manifest, Split, SplitConfig, SplitPart};
use repair_onnx::{OnnxClassifier, Preprocess};

use crate::error::{file_error, PipelineError, Result};
use crate::repair_unit::{
    repair_unit, settings_of, RepairInput, RepairReport, RepairedModel, UnitOutputs,
};
use crate::reported_model::ReportedModel;

/// The repaired ONNX model in a unit's folder.
pub const REPAIRED_ONNX: &str = "repaired.onnx";

/// Images per run of the ONNX graph.
const BATCH: usize = 256;

/// What an ONNX repair reads.
#[derive(Debug, Clone)]
pub struct OnnxRepairInput<'a> {
    /// The `.onnx` file.
    pub model: &'a Path,
    /// The dataset it classifies (`gtsrb`, `pneumonia`): its classes must be the model's.
    pub dataset: &'a str,
    /// The dataset's folder.
    pub data: &'a Path,
    /// A split file; none: the study's split of the dataset with `split_seed`.
    pub split: Option<&'a Path>,
    /// The seed of the study's split.
    pub split_seed: u64,
    /// The model's input (height, width), to which the images are resized; none: the
    /// dataset's own size.
    pub input_size: Option<(usize, usize)>,
    /// Multiplies the 0..=255 pixel (1/255 gives [0, 1]).
    pub scale: f32,
    /// Per-channel mean after scaling (one value: every channel).
    pub mean: &'a [f32],
    /// Per-channel standard deviation after scaling.
    pub std: &'a [f32],
    /// Channels last (Keras / TensorFlow exports).
    pub nhwc: bool,
}

/// Repairs the ONNX model of `input` as `request` asks into the folder `out`.
pub fn repair_onnx_model(
    input: &OnnxRepairInput<'_>,
    request: &RepairRequest,
    out: &Path,
    progress: &dyn Progress,
) -> Result<RepairReport> {
    if !input.model.is_file() {
        return Err(file_error(input.model, "no such file"));
    }
    let settings = settings_of(request)?;
    let onnx =
        OnnxClassifier::load(input.model).map_err(|e| PipelineError::Invalid(e.to_string()))?;
    let layer = onnx.last_layer().layer.clone();
    let manifest = Manifest::builtin(input.dataset)?;
    if manifest.num_classes != layer.classes {
        return Err(file_error(
            input.model,
            format!(
                "the model has {} classes, dataset {} has {}",
                layer.classes, input.dataset, manifest.num_classes
            ),
        ));
    }
    // The flags are checked before the images are read and resized.
    let shape = manifest.shape();
    let (height, width) = input.input_size.unwrap_or((shape.height, shape.width));
    let p = &Preprocess {
        height,
        width,
        scale: input.scale,
        mean: input.mean.to_vec(),
        std: input.std.to_vec(),
        nhwc: input.nhwc,
    };
    let channels = shape.channels;
    p.validate(channels)
        .map_err(|e| PipelineError::Invalid(e.to_string()))?;
    let corpus = manifest.load(input.data)?.resized(p.height, p.width)?;
    let split = match input.split {
        Some(path) => Split::load(path, &corpus)?,
        None => Split::make(
            &corpus,
            &SplitConfig::study(input.dataset, input.split_seed),
        )?,
    };
    let started = Instant::now();
    let mut sets = Vec::new();
    for part in [SplitPart::Repair, SplitPart::Val, SplitPart::Test] {
        sets.push(activations(
            &onnx,
            &split.view(&corpus, part),
            channels,
            p,
            progress,
        )?);
    }
    let extract_ms = started.elapsed().as_secs_f64() * 1e3;
    let model = ReportedModel::Onnx {
        name: input
            .model
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        input: (channels, p.height, p.width),
        num_classes: layer.classes,
    };
    let unit = RepairInput {
        checkpoint: input.model,
        dataset: input.dataset,
        model,
        layer: &layer,
        repair: &sets[0],
        selection: &sets[1],
        test: Some(&sets[2]),
        extract_ms,
        earlier: None,
    };
    let writer = OnnxWriter(&onnx);
    let outputs = UnitOutputs {
        repaired_model: Some(&writer),
        export_problem: false,
        progress,
    };
    repair_unit(&unit, &settings, out, &outputs)
}

/// The activations of every image of `data` (in order), with their labels.
fn activations<D: Dataset>(
    onnx: &OnnxClassifier,
    data: &D,
    channels: usize,
    preprocess: &Preprocess,
    progress: &dyn Progress,
) -> Result<LabelledActivations> {
    let fail = |e: repair_onnx::OnnxError| PipelineError::Invalid(e.to_string());
    let mut rows = LabelledActivations::default();
    progress.begin("activations", data.len().div_ceil(BATCH) as u64);
    for start in (0..data.len()).step_by(BATCH) {
        let end = (start + BATCH).min(data.len());
        let pixels: Vec<u8> = (start..end)
            .flat_map(|k| data.image(k).iter().copied())
            .collect();
        let (a, _) = onnx
            .run(&pixels, end - start, channels, preprocess)
            .map_err(fail)?;
        rows.activations.extend(a);
        rows.labels
            .extend((start..end).map(|k| data.label(k) as u32));
        progress.advance(1, None);
    }
    progress.end();
    Ok(rows)
}

/// Writes `repaired.onnx`.
struct OnnxWriter<'a>(&'a OnnxClassifier);

impl RepairedModel for OnnxWriter<'_> {
    fn write_repaired(&self, layer: &repair_core::DenseLayer, dir: &Path) -> Result<PathBuf> {
        let path = dir.join(REPAIRED_ONNX);
        self.0
            .write_with_layer(layer, &path)
            .map_err(|e| PipelineError::Invalid(e.to_string()))?;
        Ok(path)
    }
}
