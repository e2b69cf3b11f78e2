//! The incremental Arachne fitness equals the full recompute: on many random problems,
//! on GTSRB-sized ones, on multi-class ones, and exactly (arg-max ties included) on
//! integer data.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use repair_core::{CrossEntropy, DenseLayer, LabelledActivations as Rows, Site};
use repair_fitness::{ArachneFitness, FitnessDetail, FullFitness, RepairProblem, SyntheticSpec};

fn assert_close(a: FitnessDetail, b: FitnessDetail, what: &str) {
    let rel = |x: f64, y: f64| (x - y).abs() / x.abs().max(y.abs()).max(1e-12);
    assert_eq!(
        (a.n_patched, a.n_intact),
        (b.n_patched, b.n_intact),
        "{what}"
    );
    for (x, y) in [
        (a.fitness, b.fitness),
        (a.loss_neg, b.loss_neg),
        (a.loss_pos, b.loss_pos),
    ] {
        assert!(rel(x, y) < 1e-6, "{what}: {a:?} vs {b:?}");
    }
}

/// Positions near the current weights, far from them, and of the sign-flipped kind a
/// minimum speed produces.
fn positions(problem: &RepairProblem, rng: &mut ChaCha8Rng, n: usize) -> Vec<Vec<f64>> {
    let current = problem.current();
    (0..n)
        .map(|k| {
            let scale = [0.01, 0.3, 3.0][k % 3];
            current
                .iter()
                .map(|w| w + scale * (rng.random::<f64>() * 2.0 - 1.0))
                .collect()
        })
        .collect()
}

#[test]
fn incremental_equals_full_on_many_random_problems() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for case in 0..200 {
        let classes = rng.random_range(2..12);
        let width = rng.random_range(1..40);
        let columns = rng.random_range(1..=classes);
        let spec = SyntheticSpec {
            width,
            classes,
            negatives: rng.random_range(1..20),
            positives: rng.random_range(1..30),
            sites: rng.random_range(1..=(width * columns).min(12)),
            columns,
            seed: case,
        };
        let problem = RepairProblem::synthetic(spec);
        // Both cross-entropies, alternating; positions far from the current weights
        // push some rows' p_y below the clip.
        let loss = [CrossEntropy::Logits, CrossEntropy::Clipped][case as usize % 2];
        let (fast, full) = (
            ArachneFitness::with_loss(&problem, loss).unwrap(),
            FullFitness::with_loss(&problem, loss).unwrap(),
        );
        for x in positions(&problem, &mut rng, 6) {
            let what = format!("case {case} {loss:?} {spec:?}");
            assert_close(
                fast.evaluate(&x).unwrap(),
                full.evaluate(&x).unwrap(),
                &what,
            );
        }
    }
}

#[test]
fn incremental_equals_full_on_gtsrb_sized_problems() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for (width, columns) in [(512, 3), (4096, 3), (4096, 10)] {
        let problem = RepairProblem::synthetic(SyntheticSpec {
            width,
            classes: 43,
            negatives: 60,
            positives: 200,
            sites: 10,
            columns,
            seed: width as u64,
        });
        let (fast, full) = (
            ArachneFitness::new(&problem).unwrap(),
            FullFitness::new(&problem).unwrap(),
        );
        for x in positions(&problem, &mut rng, 6) {
            let what = format!("width {width}, {columns} columns");
            assert_close(
                fast.evaluate(&x).unwrap(),
                full.evaluate(&x).unwrap(),
                &what,
            );
        }
    }
}

/// A multi-class repair: the negatives of three classes at once, the sites in their
/// columns (and one more), on GTSRB-sized problems.
#[test]
fn incremental_equals_full_on_multi_class_problems() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for width in [64, 512] {
        let mut problem = RepairProblem::synthetic(SyntheticSpec {
            width,
            classes: 43,
            negatives: 60,
            positives: 200,
            sites: 12,
            columns: 4,
            seed: 11 + width as u64,
        });
        // The synthetic negatives are all class 0: relabel them 0, 1, 2 in turn.
        for (k, label) in problem.negatives.labels.iter_mut().enumerate() {
            *label = (k % 3) as u32;
        }
        let (fast, full) = (
            ArachneFitness::new(&problem).unwrap(),
            FullFitness::new(&problem).unwrap(),
        );
        for x in positions(&problem, &mut rng, 9) {
            assert_close(
                fast.evaluate(&x).unwrap(),
                full.evaluate(&x).unwrap(),
                &format!("width {width}, negatives of classes 0, 1, 2"),
            );
        }
    }
}

/// Small integers throughout: every logit is exact in f64, so arg-max ties (first index
/// wins) are frequent and both forms must count exactly the same rows as correct (the
/// softmax sums still round differently in the last bits).
#[test]
fn both_forms_break_arg_max_ties_the_same_way_on_exact_data() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut ties_seen = 0;
    for case in 0..300 {
        let (width, classes) = (rng.random_range(1..5), rng.random_range(2..6));
        let mut int = |lo: i32, hi: i32| rng.random_range(lo..=hi) as f32;
        let kernel = (0..width * classes).map(|_| int(-1, 1)).collect();
        let bias = (0..classes).map(|_| int(0, 1)).collect();
        let mut rows = |n: usize| {
            let activations = (0..n * width).map(|_| int(0, 2)).collect();
            let labels = (0..n).map(|_| int(0, classes as i32 - 1) as u32).collect();
            Rows {
                activations,
                labels,
            }
        };
        let (negatives, positives) = (rows(5), rows(8));
        let sites: Vec<Site> = (0..width * classes)
            .filter(|_| rng.random_bool(0.4))
            .map(|k| Site {
                i: k / classes,
                j: k % classes,
            })
            .collect();
        if sites.is_empty() {
            continue;
        }
        let problem = RepairProblem {
            layer: DenseLayer {
                width,
                classes,
                kernel,
                bias,
            },
            negatives,
            positives,
            sites,
        };
        let (fast, full) = (
            ArachneFitness::new(&problem).unwrap(),
            FullFitness::new(&problem).unwrap(),
        );
        for _ in 0..4 {
            let x: Vec<f64> = (0..problem.sites.len())
                .map(|_| rng.random_range(-2..=2) as f64)
                .collect();
            let (a, b) = (fast.evaluate(&x).unwrap(), full.evaluate(&x).unwrap());
            assert_eq!(
                (a.n_patched, a.n_intact),
                (b.n_patched, b.n_intact),
                "case {case}"
            );
            assert!(
                (a.fitness - b.fitness).abs() < 1e-12,
                "case {case}: {a:?} vs {b:?}"
            );
            ties_seen += count_ties(&problem, &x);
        }
    }
    assert!(
        ties_seen > 100,
        "only {ties_seen} tied rows: the test lost its point"
    );
}

/// Rows whose patched logits have a tied maximum.
fn count_ties(problem: &RepairProblem, x: &[f64]) -> usize {
    let kernel = problem.patched_kernel(x).unwrap();
    let c = problem.layer.classes;
    [&problem.negatives, &problem.positives]
        .iter()
        .flat_map(|rows| rows.activations.chunks(problem.layer.width))
        .filter(|a| {
            let z: Vec<f32> = (0..c)
                .map(|j| {
                    problem.layer.bias[j]
                        + a.iter()
                            .enumerate()
                            .map(|(i, v)| v * kernel[i * c + j])
                            .sum::<f32>()
                })
                .collect();
            let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            z.iter().filter(|&&v| v == max).count() > 1
        })
        .count()
}

#[test]
fn the_fitness_formula_matches_a_hand_computed_case() {
    // One negative (label 1) and one positive (label 0), two classes, width 1.
    // Logits: z = a·W + b with W = [[0, 0]] → z = (0, 0) for both rows: p = ½ each,
    // argmax ties → class 0. Negative wrong, positive right; L = ln 2 for both.
    let problem = RepairProblem {
        layer: DenseLayer {
            width: 1,
            classes: 2,
            kernel: vec![0.0, 0.0],
            bias: vec![0.0, 0.0],
        },
        negatives: Rows {
            activations: vec![1.0],
            labels: vec![1],
        },
        positives: Rows {
            activations: vec![1.0],
            labels: vec![0],
        },
        sites: vec![Site { i: 0, j: 1 }],
    };
    let fast = ArachneFitness::new(&problem).unwrap();
    let ln2 = std::f64::consts::LN_2;
    let at_zero = fast.evaluate(&[0.0]).unwrap();
    assert_eq!((at_zero.n_patched, at_zero.n_intact), (0, 1));
    assert!((at_zero.fitness - (1.0 / (1.0 + ln2) + 2.0 / (1.0 + ln2))).abs() < 1e-12);
    // W_01 = 1: z = (0, 1) for both rows; negative right, positive wrong.
    let at_one = fast.evaluate(&[1.0]).unwrap();
    let l_right = (1.0 + (-1f64).exp()).ln();
    let l_wrong = 1.0 + l_right;
    assert_eq!((at_one.n_patched, at_one.n_intact), (1, 0));
    assert!((at_one.fitness - (2.0 / (1.0 + l_right) + 1.0 / (1.0 + l_wrong))).abs() < 1e-12);
}

/// ln Σ_j e^(z_j) − z_y, computed plainly in `f64` (the hand computation).
fn ce(z: &[f64], y: usize) -> f64 {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - z[y]
}

/// Negatives whose p_y is far below Keras' clip of 1e-7 (e^−30 and e^−60): the study's
/// Keras charges their full logit gap, so the fitness sees a search narrow the gap long
/// before a row flips; the clipped form saw a flat 16.118 for every such row.
#[test]
fn rows_far_below_the_clip_cost_their_logit_gap_unless_clipped() {
    // Width 1, 3 classes, W = [[30, 0, 0]], b = 0; the site is W_01.
    let problem = RepairProblem {
        layer: DenseLayer {
            width: 1,
            classes: 3,
            kernel: vec![30.0, 0.0, 0.0],
            bias: vec![0.0; 3],
        },
        negatives: Rows {
            activations: vec![1.0, 2.0],
            labels: vec![1, 2],
        },
        positives: Rows {
            activations: vec![1.0],
            labels: vec![0],
        },
        sites: vec![Site { i: 0, j: 1 }],
    };
    for x in [0.0, 10.0, 29.0, 31.0] {
        // Logits of a = 1 and a = 2 with W_01 = x.
        let (z1, z2) = ([30.0, x, 0.0], [60.0, 2.0 * x, 0.0]);
        let neg = [ce(&z1, 1), ce(&z2, 2)];
        let pos = ce(&z1, 0);
        let patched = usize::from(x > 30.0);
        let intact = usize::from(x < 30.0);
        let clip = |l: f64| l.clamp(-(1.0 - 1e-7f64).ln(), -(1e-7f64).ln());
        let cases = [
            (CrossEntropy::Logits, (neg[0] + neg[1]) / 2.0, pos),
            (
                CrossEntropy::Clipped,
                (clip(neg[0]) + clip(neg[1])) / 2.0,
                clip(pos),
            ),
        ];
        for (loss, loss_neg, loss_pos) in cases {
            let expected = (patched as f64 + 1.0) / (loss_neg + 1.0)
                + (intact as f64 + 1.0) / (loss_pos + 1.0);
            let fast = ArachneFitness::with_loss(&problem, loss).unwrap();
            let full = FullFitness::with_loss(&problem, loss).unwrap();
            for detail in [fast.evaluate(&[x]).unwrap(), full.evaluate(&[x]).unwrap()] {
                assert_eq!(
                    (detail.n_patched, detail.n_intact),
                    (patched, intact),
                    "{loss:?} {x}"
                );
                assert!(
                    (detail.loss_neg - loss_neg).abs() < 1e-12 * loss_neg.max(1.0),
                    "{loss:?} at {x}: L_neg {} vs {loss_neg}",
                    detail.loss_neg
                );
                assert!((detail.fitness - expected).abs() < 1e-12, "{loss:?} at {x}");
            }
        }
    }
    // At W_01 = 0 the unclipped L_neg is (30 + 60)/2 = 45, the clipped one 16.118.
    let logits = ArachneFitness::new(&problem)
        .unwrap()
        .evaluate(&[0.0])
        .unwrap();
    assert!((logits.loss_neg - 45.0).abs() < 1e-9, "{logits:?}");
    let clipped = ArachneFitness::with_loss(&problem, CrossEntropy::Clipped).unwrap();
    let clipped = clipped.evaluate(&[0.0]).unwrap();
    assert!(
        (clipped.loss_neg - 16.118_095_650_958_32).abs() < 1e-9,
        "{clipped:?}"
    );
    // Narrowing the gap of the first row (x 0 → 10 → 29) lowers the unclipped loss only.
    let at = |x: f64, f: &ArachneFitness| f.evaluate(&[x]).unwrap().loss_neg;
    let fast = ArachneFitness::new(&problem).unwrap();
    assert!(at(10.0, &fast) < at(0.0, &fast) && at(29.0, &fast) < at(10.0, &fast));
    let flat = ArachneFitness::with_loss(&problem, CrossEntropy::Clipped).unwrap();
    assert_eq!(at(10.0, &flat), at(0.0, &flat));
}
