//! Penultimate activations extracted once per checkpoint, and what the last layer
//! predicts on them: everything FL, the search and the metrics read.

use candle_core::{DType, Device};
use repair_core::{DenseLayer, LabelledActivations, Progress};
use repair_data::{Batcher, Dataset, Normalisation};
use repair_method::predict;
use repair_metrics::ConfusionMatrix;
use repair_zoo::Classifier;

use crate::error::{PipelineError, Result};

/// Extracts the penultimate activations of all of `data`, in order, batched (evaluation
/// mode), on `device`. Labels are the dataset's.
pub fn extract<D: Dataset>(
    model: &dyn Classifier,
    data: &D,
    batch_size: usize,
    normalisation: Option<&Normalisation>,
    device: &Device,
    progress: &dyn Progress,
) -> Result<LabelledActivations> {
    let mut batcher = Batcher::new(data, batch_size.max(1), 0)
        .in_order()
        .on(device.clone());
    if let Some(n) = normalisation {
        batcher = batcher.normalise(n.clone());
    }
    progress.begin("activations", batcher.batches_per_epoch() as u64);
    let mut rows = LabelledActivations::default();
    for batch in batcher.epoch(0) {
        let batch = batch?;
        let a = model.penultimate(&batch.images, false)?;
        rows.activations
            .extend(a.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?);
        rows.labels
            .extend(batch.indices.iter().map(|&i| data.label(i) as u32));
        progress.advance(1, None);
    }
    progress.end();
    Ok(rows)
}

/// Total and per-class accuracy of predictions.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassAccuracy {
    /// Share of all rows classified correctly.
    pub total: f64,
    /// Share of the class's rows classified correctly (recall).
    pub class: f64,
    /// Mean recall over the classes present (what a majority-class model cannot
    /// inflate).
    pub balanced: f64,
    /// Share of all rows predicted as the class.
    pub predicted_share: f64,
}

impl ClassAccuracy {
    /// The accuracies of `class` in `m`; empty sets and absent classes count as 0.
    pub fn of(m: &ConfusionMatrix, class: u32) -> Self {
        let zero_if_nan = |v: f64| if v.is_nan() { 0.0 } else { v };
        ClassAccuracy {
            total: zero_if_nan(m.accuracy()),
            class: zero_if_nan(m.per_class_accuracy()[class as usize]),
            balanced: zero_if_nan(m.balanced_accuracy()),
            predicted_share: zero_if_nan(m.predicted_share(class as usize)),
        }
    }
}

/// The confusion matrix of `layer` on `rows`.
pub fn confusion(layer: &DenseLayer, rows: &LabelledActivations) -> Result<ConfusionMatrix> {
    confusion_of(layer.classes, rows, &predict(layer, rows)?)
}

/// The confusion matrix of the predictions `predicted` of `rows` by a layer of `classes`.
pub(crate) fn confusion_of(
    classes: usize,
    rows: &LabelledActivations,
    predicted: &[u32],
) -> Result<ConfusionMatrix> {
    ConfusionMatrix::new(classes, &rows.labels, predicted)
        .map_err(|e| PipelineError::Invalid(e.to_string()))
}
