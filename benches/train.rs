//! `repair-train`: one training step (forward + backward + momentum SGD) at batch 128
//! on 32×32×3, in images/s, for `cnn-s` and `vgg16`, with candle's convolution
//! (`_candle`) and the zoo's fast CPU kernels (`_fast`, the default) in the same run.

use std::hint::black_box;

use candle_core::{Device, Tensor};
use criterion::{Criterion, Throughput};
use repair_core::Arch;
use repair_train::{train_step, SgdConfig, SgdMomentum};
use repair_zoo::{build_model_with, BuildOptions, Classifier, ConvBackend, ModelSpec};

const BATCH: usize = 128;

/// One step per iteration, per model.
pub fn train_step_bench(c: &mut Criterion) {
    crate::keep_freed_pages();
    let mut group = c.benchmark_group("train_step");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCH as u64));
    for arch in [Arch::CnnS, Arch::Vgg16] {
        let spec = ModelSpec {
            arch,
            input: (3, 32, 32),
            num_classes: 43,
            seed: 1,
        };
        let images = Tensor::rand(0f32, 1f32, (BATCH, 3, 32, 32), &Device::Cpu).unwrap();
        let labels: Vec<u32> = (0..BATCH).map(|i| (i % 43) as u32).collect();
        let labels = Tensor::from_vec(labels, BATCH, &Device::Cpu).unwrap();
        for (name, conv) in [("candle", ConvBackend::Candle), ("fast", ConvBackend::Fast)] {
            let model = build_model_with(&spec, &Device::Cpu, &BuildOptions { conv }).unwrap();
            let mut sgd = SgdMomentum::new(
                model.trainable_vars(),
                SgdConfig {
                    lr: 1e-3,
                    momentum: 0.9,
                },
            );
            group.bench_function(format!("{arch}_batch128_{name}"), |b| {
                b.iter(|| black_box(train_step(&model, &mut sgd, &images, &labels).unwrap()))
            });
        }
    }
    group.finish();
}
