//! Mean cross-entropy and accuracy of a model over a dataset (evaluation mode).

use candle_core::{DType, D};
use repair_data::{Batcher, Dataset, Normalisation};
use repair_zoo::Classifier;

use crate::error::Result;

/// Loss and accuracy over a whole dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Share classified correctly.
    pub accuracy: f64,
}

/// Evaluates `model` on `data` in order, `batch_size` images at a time.
pub fn evaluate<S: Dataset>(
    model: &dyn Classifier,
    data: &S,
    batch_size: usize,
    normalisation: Option<&Normalisation>,
    device: &candle_core::Device,
) -> Result<Evaluation> {
    let mut batcher = Batcher::new(data, batch_size, 0)
        .in_order()
        .on(device.clone());
    if let Some(n) = normalisation {
        batcher = batcher.normalise(n.clone());
    }
    let (mut loss_sum, mut correct) = (0f64, 0usize);
    for batch in batcher.epoch(0) {
        let batch = batch?;
        let logits = model.logits(&batch.images, false)?;
        let n = batch.indices.len();
        let loss = candle_nn::loss::cross_entropy(&logits, &batch.labels)?.to_scalar::<f32>()?;
        loss_sum += f64::from(loss) * n as f64;
        let predicted = logits.argmax(D::Minus1)?;
        correct += predicted
            .eq(&batch.labels)?
            .to_dtype(DType::U32)?
            .sum_all()?
            .to_scalar::<u32>()? as usize;
    }
    let n = data.len().max(1) as f64;
    Ok(Evaluation {
        loss: loss_sum / n,
        accuracy: correct as f64 / n,
    })
}
