//! Every model computes the same logits and weight gradients on CUDA as on the CPU.
//!
//! The two devices run different code: on the CPU the zoo's fast convolution and its
//! pooling custom ops, on CUDA candle's stock kernels plus `avg_pool2` and
//! `max_pool_strided` (DenseNet's pools, which candle 0.11 cannot differentiate there).
//! Weights come from the seeded initialiser, which draws on the host, so both devices
//! start from identical models. Built only with `--features cuda`, and then it needs a
//! GPU: `cargo test -p repair-zoo --features cuda --test cuda_matches_cpu`.
#![cfg(feature = "cuda")]

use candle_core::{Device, Tensor};
use repair_zoo::{build_model, Classifier, ModelSpec};

/// ‖a − b‖ / ‖a‖ over all elements.
fn relative_difference(a: &Tensor, b: &Tensor) -> f32 {
    let b = b.to_device(&Device::Cpu).unwrap();
    let norm = |t: &Tensor| {
        t.sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
            .sqrt()
    };
    norm(&(a - &b).unwrap()) / norm(a).max(f32::MIN_POSITIVE)
}

/// Logits and the gradient of each weight for one cross-entropy step in train mode.
fn step(
    spec: &ModelSpec,
    device: &Device,
    images: &Tensor,
    labels: &Tensor,
) -> (Tensor, Vec<(String, Tensor)>) {
    let model = build_model(spec, device).unwrap();
    let images = images.to_device(device).unwrap();
    let labels = labels.to_device(device).unwrap();
    let logits = model.logits(&images, true).unwrap();
    let loss = candle_nn::loss::cross_entropy(&logits, &labels).unwrap();
    let grads = loss.backward().unwrap();
    let weights = model
        .trainable_vars()
        .into_iter()
        .map(|(name, var)| {
            let g = grads
                .get(&var)
                .unwrap_or_else(|| panic!("{}: no gradient for {name}", spec.arch));
            (name, g.clone())
        })
        .collect();
    (logits, weights)
}

#[test]
fn every_model_gives_the_same_logits_and_gradients_on_cuda_as_on_the_cpu() {
    let cuda = Device::new_cuda(0).expect("a CUDA GPU (this test is built with --features cuda)");
    // DenseNet at 33 × 33 puts odd sides before its stem pool and its transitions.
    let cases = [
        ("cnn-s", (3, 32, 32), 43),
        ("cnn-s", (1, 28, 28), 2),
        ("vgg16", (3, 32, 32), 43),
        ("densenet121", (1, 33, 33), 2),
    ];
    let mut failures = Vec::new();
    for (arch, (c, h, w), num_classes) in cases {
        let spec = ModelSpec {
            arch: arch.into(),
            input: (c, h, w),
            num_classes,
            seed: 7,
        };
        let n = 6;
        let values: Vec<f32> = (0..n * c * h * w)
            .map(|k| ((k * 37) % 101) as f32 / 100.0)
            .collect();
        let images = Tensor::from_vec(values, (n, c, h, w), &Device::Cpu).unwrap();
        let labels: Vec<u32> = (0..n as u32).map(|k| k % num_classes as u32).collect();
        let labels = Tensor::from_vec(labels, n, &Device::Cpu).unwrap();

        let (cpu_logits, cpu_grads) = step(&spec, &Device::Cpu, &images, &labels);
        let (gpu_logits, gpu_grads) = step(&spec, &cuda, &images, &labels);
        let d = relative_difference(&cpu_logits, &gpu_logits);
        println!("{arch} {h}×{w}: logits {d:.2e}");
        if d >= 1e-3 {
            failures.push(format!("{arch}: logits differ by {d:.2e}"));
        }
        let mut worst = (0f32, String::new());
        for ((name, g_cpu), (_, g_gpu)) in cpu_grads.iter().zip(&gpu_grads) {
            let d = relative_difference(g_cpu, g_gpu);
            if d > worst.0 {
                worst = (d, name.clone());
            }
        }
        println!(
            "{arch} {h}×{w}: worst gradient {:.2e} ({})",
            worst.0, worst.1
        );
        if worst.0 >= 1e-3 {
            failures.push(format!(
                "{arch}: gradient of {} differs by {:.2e}",
                worst.1, worst.0
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
