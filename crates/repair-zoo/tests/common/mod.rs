//! Shared by the tests that run every model two ways (CPU fast ops against candle's stock
//! ops, CUDA against the CPU) and compare logits and weight gradients.

use candle_core::{Device, Tensor};
use repair_core::Arch;
use repair_zoo::{build_model_with, BuildOptions, Classifier, ModelSpec};

/// Every model, at shapes that reach each code path: DenseNet at 33 × 33 puts odd sides
/// before its stem pool and its transitions.
pub const CASES: [(Arch, (usize, usize, usize), usize); 4] = [
    (Arch::CnnS, (3, 32, 32), 43),
    (Arch::CnnS, (1, 28, 28), 2),
    (Arch::Vgg16, (3, 32, 32), 43),
    (Arch::Densenet121, (1, 33, 33), 2),
];

/// The model of a case, from the seeded initialiser (it draws on the host, so every
/// device starts from the same weights).
pub fn spec((arch, input, num_classes): (Arch, (usize, usize, usize), usize)) -> ModelSpec {
    ModelSpec {
        arch,
        input,
        num_classes,
        seed: 7,
    }
}

/// Six images of hashed pixel values and their labels, on the CPU. Not a short periodic
/// pattern: one makes equal neighbours, and a max-pool window with tied maxima sends its
/// gradient to the first (the fast op, as PyTorch) or to all of them (candle's max).
pub fn batch(spec: &ModelSpec) -> (Tensor, Tensor) {
    let (c, h, w) = spec.input;
    let n = 6;
    let values: Vec<f32> = (0..(n * c * h * w) as u64)
        .map(|k| (k * 2_654_435_761 % 1_000_003) as f32 / 1e6)
        .collect();
    let images = Tensor::from_vec(values, (n, c, h, w), &Device::Cpu).unwrap();
    let labels: Vec<u32> = (0..n as u32).map(|k| k % spec.num_classes as u32).collect();
    (images, Tensor::from_vec(labels, n, &Device::Cpu).unwrap())
}

/// Logits and each weight's gradient (by name) of one cross-entropy step in train mode,
/// moved to the CPU.
pub struct Step {
    pub logits: Tensor,
    pub grads: Vec<(String, Tensor)>,
}

/// Runs [`Step`] for `spec` on `device`, the model built with `options`.
pub fn step(
    spec: &ModelSpec,
    device: &Device,
    options: &BuildOptions,
    (images, labels): &(Tensor, Tensor),
) -> Step {
    let model = build_model_with(spec, device, options).unwrap();
    let images = images.to_device(device).unwrap();
    let labels = labels.to_device(device).unwrap();
    let logits = model.logits(&images, true).unwrap();
    let loss = candle_nn::loss::cross_entropy(&logits, &labels).unwrap();
    let grads = loss.backward().unwrap();
    let cpu = |t: &Tensor| t.to_device(&Device::Cpu).unwrap();
    let grads = model
        .trainable_vars()
        .into_iter()
        .map(|(name, var)| {
            let g = grads
                .get(&var)
                .unwrap_or_else(|| panic!("{}: no gradient for {name}", spec.arch));
            (name, cpu(g))
        })
        .collect();
    Step {
        logits: cpu(&logits),
        grads,
    }
}

fn norm(t: &Tensor) -> f32 {
    t.sqr()
        .unwrap()
        .sum_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
        .sqrt()
}

/// What differs between two runs of one case beyond `logits_tol` (‖a − b‖ / ‖a‖ of the
/// logits) or `grad_tol` (per weight), printing each case's worst. A gradient is measured
/// against its own norm, or against a thousandth of the whole model's gradient norm when
/// it is smaller: a weight the loss (almost) does not depend on has a gradient of rounding
/// noise. DenseNet's `norm0.weight` is one: every consumer of the stem's pooled output
/// batch-normalises it per channel, and ReLU and max-pool commute with a positive
/// per-channel scale, so its gradient is ~1e-4 of `norm0.bias`'s.
pub fn differences(
    case: &str,
    reference: &Step,
    other: &Step,
    logits_tol: f32,
    grad_tol: f32,
) -> Vec<String> {
    let mut failures = Vec::new();
    let d = norm(&(&reference.logits - &other.logits).unwrap()) / norm(&reference.logits);
    println!("{case}: logits {d:.2e}");
    if d >= logits_tol {
        failures.push(format!("{case}: logits differ by {d:.2e}"));
    }
    let total = reference
        .grads
        .iter()
        .map(|(_, g)| norm(g).powi(2))
        .sum::<f32>()
        .sqrt();
    let mut worst = (0f32, "");
    for ((name, a), (other_name, b)) in reference.grads.iter().zip(&other.grads) {
        assert_eq!(name, other_name);
        let d = norm(&(a - b).unwrap()) / norm(a).max(1e-3 * total);
        if d > worst.0 {
            worst = (d, name);
        }
        if d >= grad_tol {
            failures.push(format!("{case}: gradient of {name} differs by {d:.2e}"));
        }
    }
    println!("{case}: worst gradient {:.2e} ({})", worst.0, worst.1);
    failures
}
