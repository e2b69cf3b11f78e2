//! Training throughput of a zoo model (`cargo xtask bench train`), for comparing every
//! later speed-up against the same baseline: SGD steps on one fixed random batch of
//! 32×32 RGB images, 43 classes, after one warm-up step.

use std::time::Instant;

use candle_core::Tensor;
use repair_core::Arch;
use repair_train::{train_step, SgdConfig, SgdMomentum};
use repair_zoo::{build_model_with, Classifier, ModelSpec};

use crate::device::Compute;
use crate::error::{PipelineError, Result};

/// What [`bench_train_step`] measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepBench {
    /// Wall seconds of the timed steps.
    pub secs: f64,
    /// Training images per second.
    pub images_per_s: f64,
}

/// Times `steps` training steps of batch `batch` of model `arch` as `compute` says.
pub fn bench_train_step(
    arch: Arch,
    batch: usize,
    steps: usize,
    compute: &Compute<'_>,
) -> Result<StepBench> {
    for (name, value) in [("batch", batch), ("steps", steps)] {
        if value == 0 {
            return Err(PipelineError::Invalid(format!(
                "bench {name} 0: want at least 1"
            )));
        }
    }
    let device = &compute.device;
    let spec = ModelSpec {
        arch,
        input: (3, 32, 32),
        num_classes: 43,
        seed: 1,
    };
    let net = build_model_with(&spec, device, &compute.build)?;
    let mut sgd = SgdMomentum::new(
        net.trainable_vars(),
        SgdConfig {
            lr: 1e-2,
            momentum: 0.9,
        },
    );
    let images = Tensor::rand(0f32, 1f32, (batch, 3, 32, 32), device)?;
    let labels: Vec<u32> = (0..batch).map(|i| (i % 43) as u32).collect();
    let labels = Tensor::from_vec(labels, batch, device)?;
    let step = |sgd: &mut SgdMomentum| {
        train_step(&net, sgd, &images, &labels)
            .map_err(|e| crate::PipelineError::Invalid(e.to_string()))
    };
    step(&mut sgd)?; // warm-up
    device.synchronize()?;
    let start = Instant::now();
    for _ in 0..steps {
        step(&mut sgd)?;
    }
    device.synchronize()?;
    let secs = start.elapsed().as_secs_f64();
    Ok(StepBench {
        secs,
        images_per_s: (steps * batch) as f64 / secs,
    })
}
