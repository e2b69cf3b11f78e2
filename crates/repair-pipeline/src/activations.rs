//! Penultimate activations extracted once per checkpoint, and the last layer as plain
//! `f32` data in the study's Keras layout — everything FL and the search read.

use candle_core::{DType, Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use repair_data::{Batcher, Dataset, Normalisation};
use repair_metrics::ConfusionMatrix;
use repair_pso::{first_argmax, logits, Rows, Site};
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
    progress: bool,
) -> Result<Rows> {
    let mut batcher = Batcher::new(data, batch_size.max(1), 0)
        .in_order()
        .on(device.clone());
    if let Some(n) = normalisation {
        batcher = batcher.normalise(n.clone());
    }
    let bar = if progress {
        ProgressBar::new(batcher.batches_per_epoch() as u64).with_style(
            ProgressStyle::with_template("activations {bar:30} {pos}/{len} batches {elapsed}")
                .expect("valid template"),
        )
    } else {
        ProgressBar::hidden()
    };
    let mut rows = Rows::default();
    for batch in batcher.epoch(0) {
        let batch = batch?;
        let a = model.penultimate(&batch.images, false)?;
        rows.activations
            .extend(a.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?);
        rows.labels
            .extend(batch.indices.iter().map(|&i| data.label(i) as u32));
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(rows)
}

/// The last dense layer, Keras layout (`kernel[i · classes + j]` = W_ij): the transpose
/// of candle's (classes, D) `Linear` weight.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerWeights {
    /// Penultimate width D.
    pub width: usize,
    /// Classes C.
    pub classes: usize,
    /// W, `width × classes`.
    pub kernel: Vec<f32>,
    /// b, `classes`.
    pub bias: Vec<f32>,
}

impl LayerWeights {
    /// Reads the last layer of `model`.
    pub fn read(model: &dyn Classifier) -> Result<Self> {
        let layer = model.last_layer()?;
        let (classes, width) = layer.weight.dims2()?;
        let kernel = layer
            .weight
            .to_dtype(DType::F32)?
            .t()?
            .contiguous()?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let bias = layer.bias.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        Ok(LayerWeights {
            width,
            classes,
            kernel,
            bias,
        })
    }

    /// As a candle last layer on `device`, for [`Classifier::set_last_layer`].
    pub fn to_last_layer(&self, device: &Device) -> Result<repair_zoo::LastLayer> {
        let kernel = Tensor::from_slice(&self.kernel, (self.width, self.classes), device)?;
        Ok(repair_zoo::LastLayer {
            weight: kernel.t()?.contiguous()?,
            bias: Tensor::from_slice(&self.bias, self.classes, device)?,
        })
    }

    /// A borrowed view for the fault localisers.
    pub fn view(&self) -> repair_fl::LastLayer<'_> {
        repair_fl::LastLayer {
            width: self.width,
            classes: self.classes,
            kernel: &self.kernel,
            bias: &self.bias,
        }
    }

    /// The layer with `values` written into `sites` (as `f32`).
    pub fn patched(&self, sites: &[Site], values: &[f64]) -> LayerWeights {
        let mut out = self.clone();
        for (s, &v) in sites.iter().zip(values) {
            out.kernel[s.i * self.classes + s.j] = v as f32;
        }
        out
    }

    /// Predicted class of each row: the first arg-max of b + a·W accumulated in `f64`,
    /// the same rule and arithmetic as the repair fitness, so "correct" means the same
    /// thing in the repair sets, the search and RR/BR.
    pub fn predict(&self, rows: &Rows) -> Result<Vec<u32>> {
        if rows.activations.len() != rows.len() * self.width {
            return Err(PipelineError::Invalid(format!(
                "{} activations for {} rows of width {}: the activations come from another model",
                rows.activations.len(),
                rows.len(),
                self.width
            )));
        }
        let mut z = vec![0.0f64; self.classes];
        Ok(rows
            .activations
            .chunks(self.width.max(1))
            .take(rows.len())
            .map(|a| {
                logits(a, &self.kernel, &self.bias, &mut z);
                first_argmax(&z) as u32
            })
            .collect())
    }
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
pub fn confusion(layer: &LayerWeights, rows: &Rows) -> Result<ConfusionMatrix> {
    let predicted = layer.predict(rows)?;
    ConfusionMatrix::new(layer.classes, &rows.labels, &predicted)
        .map_err(|e| PipelineError::Invalid(e.to_string()))
}

/// Accuracy of `layer` on `rows`, overall and for `class`.
pub fn accuracy(layer: &LayerWeights, rows: &Rows, class: u32) -> Result<ClassAccuracy> {
    if class as usize >= layer.classes {
        return Err(PipelineError::Invalid(format!(
            "class {class} is out of range: the layer has {} classes",
            layer.classes
        )));
    }
    Ok(ClassAccuracy::of(&confusion(layer, rows)?, class))
}
