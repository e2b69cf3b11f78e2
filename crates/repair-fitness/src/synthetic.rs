//! Seeded synthetic repair problems of a chosen shape, for tests and benchmarks (the
//! cost of a fitness evaluation depends only on the shape, not on the values).

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use repair_core::{DenseLayer, LabelledActivations, Site};

use crate::problem::RepairProblem;

/// The shape of a synthetic problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyntheticSpec {
    /// Penultimate width D.
    pub width: usize,
    /// Classes C.
    pub classes: usize,
    /// Negative rows (all labelled class 0, the "target").
    pub negatives: usize,
    /// Positive rows (labels uniform over the classes).
    pub positives: usize,
    /// Localised sites (distinct).
    pub sites: usize,
    /// Columns the sites are spread over (class 0 first), at most `classes`.
    pub columns: usize,
    /// Seed of every value.
    pub seed: u64,
}

impl RepairProblem {
    /// A seeded problem of the given shape: ReLU-like activations (half exact zeros,
    /// the rest |N(0, 1)|), kernel N(0, 0.05²), bias N(0, 0.01²), sites drawn without
    /// replacement among the first `columns` columns. Panics if the sites do not fit.
    pub fn synthetic(spec: SyntheticSpec) -> RepairProblem {
        let SyntheticSpec {
            width: d,
            classes: c,
            ..
        } = spec;
        assert!(
            spec.columns >= 1 && spec.columns <= c,
            "columns must be in 1..=classes"
        );
        assert!(
            spec.sites <= d * spec.columns,
            "more sites than weights in those columns"
        );
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let normal = |sd: f32| Normal::new(0.0f32, sd).expect("positive sd");
        let (w, b) = (normal(0.05), normal(0.01));
        let kernel = (0..d * c).map(|_| w.sample(&mut rng)).collect();
        let bias = (0..c).map(|_| b.sample(&mut rng)).collect();
        let mut rows = |n: usize, label: &mut dyn FnMut(&mut ChaCha8Rng) -> u32| {
            let unit = normal(1.0);
            let mut activations = Vec::with_capacity(n * d);
            let mut labels = Vec::with_capacity(n);
            for _ in 0..n {
                activations.extend((0..d).map(|_| {
                    let v: f32 = unit.sample(&mut rng);
                    if rng.random::<bool>() {
                        v.abs()
                    } else {
                        0.0
                    }
                }));
                labels.push(label(&mut rng));
            }
            LabelledActivations {
                activations,
                labels,
            }
        };
        let negatives = rows(spec.negatives, &mut |_| 0);
        let positives = rows(spec.positives, &mut |r| r.random_range(0..c as u32));
        let sites = sample(&mut rng, d * spec.columns, spec.sites)
            .into_iter()
            .map(|k| Site {
                i: k / spec.columns,
                j: k % spec.columns,
            })
            .collect();
        RepairProblem {
            layer: DenseLayer {
                width: d,
                classes: c,
                kernel,
                bias,
            },
            negatives,
            positives,
            sites,
        }
    }
}
