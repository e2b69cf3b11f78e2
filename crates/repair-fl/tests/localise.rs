//! Fault localisation on hand-computed problems, and the analytic gradient against
//! candle's autograd of the same (clipped) loss.

use candle_core::{DType, Device, Tensor, Var, D};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use repair_core::{CrossEntropy, DenseLayerView, LabelledActivations, Site};
use repair_fl::{
    gradient_loss, Arachne, FaultLocaliser, FlError, GradientTopK, ImpactActivation, RandomSites,
};

fn site(i: usize, j: usize) -> Site {
    Site { i, j }
}

/// One negative of class 1 with a = (1, 2); W = [[1, 0], [0, 0]], b = 0.
/// z = (1, 0), p = (σ, 1 − σ) with σ = e/(e + 1) ≈ 0.7311, p − y = (σ, −σ):
///   GL(0, ·) = σ, GL(1, ·) = 2σ;  FI = |a_i W_ij| = 1 at (0, 0), else 0.
/// Points (GL, FI): (0,0) → (σ, 1), (1,0) → (2σ, 0), (0,1) → (σ, 0), (1,1) → (2σ, 0).
/// Front: (σ, 1) and both copies of (2σ, 0); (σ, 0) is dominated. Ranked by GL with
/// the study's j-outer, i-inner tie order: (1,0), (1,1), (0,0), (0,1).
const KERNEL: [f32; 4] = [1.0, 0.0, 0.0, 0.0];
const BIAS: [f32; 2] = [0.0, 0.0];

fn layer() -> DenseLayerView<'static> {
    DenseLayerView {
        width: 2,
        classes: 2,
        kernel: &KERNEL,
        bias: &BIAS,
    }
}

fn negatives() -> LabelledActivations {
    LabelledActivations {
        activations: vec![1.0, 2.0],
        labels: vec![1],
    }
}

#[test]
fn arachne_finds_the_hand_computed_front_with_duplicates_in_gradient_order() {
    let found = Arachne::default()
        .localise(&layer(), &negatives(), &LabelledActivations::default())
        .unwrap();
    assert_eq!(found.sites, [site(1, 0), site(1, 1), site(0, 0)]);
    let sigma = 1f64.exp() / (1f64.exp() + 1.0);
    let c = &found.candidates;
    assert_eq!(c.len(), 4); // N_g = min(20 · 1, 4)
    assert_eq!(c[3].site, site(0, 1));
    assert!(!c[3].selected);
    assert!((c[0].gradient_loss - 2.0 * sigma).abs() < 1e-12);
    assert!((c[2].gradient_loss - sigma).abs() < 1e-12);
    assert_eq!(c[2].forward_impact, 1.0);
}

#[test]
fn the_gradient_prefilter_keeps_twenty_weights_per_negative() {
    let two = Arachne {
        gradient_factor: 2,
        ..Arachne::default()
    };
    let found = two
        .localise(&layer(), &negatives(), &LabelledActivations::default())
        .unwrap();
    assert_eq!(found.candidates.len(), 2);
    assert_eq!(found.sites, [site(1, 0), site(1, 1)]);
}

#[test]
fn forward_impact_uses_the_mean_activation_or_the_first_as_configured() {
    // A second negative with a = (3, 0): mean ā = (2, 1), first = (1, 2).
    let negatives = LabelledActivations {
        activations: vec![1.0, 2.0, 3.0, 0.0],
        labels: vec![1, 1],
    };
    for (how, expected) in [
        (ImpactActivation::Mean, 2.0),
        (ImpactActivation::First, 1.0),
    ] {
        let fl = Arachne {
            activation: how,
            ..Arachne::default()
        };
        let found = fl
            .localise(&layer(), &negatives, &LabelledActivations::default())
            .unwrap();
        let c = found
            .candidates
            .iter()
            .find(|c| c.site == site(0, 0))
            .unwrap();
        assert_eq!(c.forward_impact, expected, "{how:?}");
    }
}

#[test]
fn the_baselines_pick_top_gradients_or_seeded_random_sites() {
    let top = GradientTopK {
        k: 1,
        loss: CrossEntropy::Logits,
    }
    .localise(&layer(), &negatives(), &LabelledActivations::default())
    .unwrap();
    assert_eq!(top.sites, [site(1, 0)]);
    let random = |seed| {
        RandomSites {
            k: 2,
            seed,
            loss: CrossEntropy::Logits,
        }
        .localise(&layer(), &negatives(), &LabelledActivations::default())
        .unwrap()
        .sites
    };
    assert_eq!(random(1), random(1));
    let a = random(1);
    assert_ne!(a[0], a[1]);
    assert!((2..40).any(|s| random(s) != a), "seeds change the draw");
}

#[test]
fn bad_inputs_are_named() {
    let no_negatives = Arachne::default().localise(
        &layer(),
        &LabelledActivations::default(),
        &LabelledActivations::default(),
    );
    assert_eq!(no_negatives.unwrap_err(), FlError::NoNegatives);
    let bad_label = LabelledActivations {
        activations: vec![1.0, 2.0],
        labels: vec![2],
    };
    let err = Arachne::default()
        .localise(&layer(), &bad_label, &LabelledActivations::default())
        .unwrap_err();
    assert!(
        err.to_string().contains("negatives row 0 has label 2"),
        "{err}"
    );
    let nan = LabelledActivations {
        activations: vec![1.0, f32::NAN],
        labels: vec![1],
    };
    let err = Arachne::default()
        .localise(&layer(), &negatives(), &nan)
        .unwrap_err();
    assert!(err.to_string().contains("positives[1] is NaN"), "{err}");
}

/// Σ_x −ln softmax(a W + b)_y, with Keras' probability clip when `clip`, differentiated
/// by candle.
fn autograd(layer: &DenseLayerView<'_>, rows: &LabelledActivations, clip: bool) -> Vec<f64> {
    let dev = Device::Cpu;
    let (d, c, n) = (layer.width, layer.classes, rows.len());
    let f64s = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    let w = Var::from_vec(f64s(layer.kernel), (d, c), &dev).unwrap();
    let b = Tensor::from_vec(f64s(layer.bias), c, &dev).unwrap();
    let a = Tensor::from_vec(f64s(&rows.activations), (n, d), &dev).unwrap();
    let y = Tensor::from_vec(rows.labels.clone(), (n, 1), &dev).unwrap();
    let z = a.matmul(w.as_tensor()).unwrap().broadcast_add(&b).unwrap();
    let z = z.broadcast_sub(&z.max_keepdim(D::Minus1).unwrap()).unwrap();
    let e = z.exp().unwrap();
    let p = e.broadcast_div(&e.sum_keepdim(D::Minus1).unwrap()).unwrap();
    let log_py = if clip {
        p.gather(&y, 1)
            .unwrap()
            .clamp(1e-7, 1.0 - 1e-7)
            .unwrap()
            .log()
            .unwrap()
    } else {
        // log-softmax from the logits, as Keras' softmax_cross_entropy_with_logits.
        let lse = e.sum_keepdim(D::Minus1).unwrap().log().unwrap();
        z.gather(&y, 1).unwrap().broadcast_sub(&lse).unwrap()
    };
    let loss = log_py.neg().unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let g = grads
        .get(w.as_tensor())
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    g.flatten_all().unwrap().to_vec1::<f64>().unwrap()
}

#[test]
fn the_analytic_gradient_loss_equals_candle_autograd_with_and_without_the_clip() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let (d, c, n) = (16, 5, 12);
    let kernel: Vec<f32> = (0..d * c).map(|_| rng.random_range(-1.0..1.0)).collect();
    let bias: Vec<f32> = (0..c).map(|_| rng.random_range(-0.5..0.5)).collect();
    let mut activations: Vec<f32> = (0..n * d).map(|_| rng.random_range(0.0..1.0)).collect();
    let labels: Vec<u32> = (0..n).map(|_| rng.random_range(0..c as u32)).collect();
    // Blow up two rows so that their p_y falls below the clip (no gradient there).
    for r in [3, 7] {
        activations[r * d..(r + 1) * d]
            .iter_mut()
            .for_each(|a| *a *= 60.0);
    }
    let layer = DenseLayerView {
        width: d,
        classes: c,
        kernel: &kernel,
        bias: &bias,
    };
    let rows = LabelledActivations {
        activations,
        labels,
    };
    let mut p = vec![0.0; c];
    let clipped = (0..n)
        .filter(|&r| {
            layer.probabilities(&rows.activations[r * d..(r + 1) * d], &mut p);
            p[rows.labels[r] as usize] < 1e-7
        })
        .count();
    assert!(clipped >= 1, "the test must exercise the clip");
    for (loss, clip) in [(CrossEntropy::Logits, false), (CrossEntropy::Clipped, true)] {
        let analytic = gradient_loss(&layer, &rows, loss);
        let autograd = autograd(&layer, &rows, clip);
        for (k, (x, y)) in analytic.iter().zip(&autograd).enumerate() {
            assert!(
                (x - y.abs()).abs() < 1e-9 * (1.0 + x),
                "{loss:?} weight {k}: {x} vs {y}"
            );
        }
        let differs = analytic != gradient_loss(&layer, &rows, CrossEntropy::Clipped);
        assert_eq!(
            differs,
            loss == CrossEntropy::Logits,
            "the clipped rows matter"
        );
    }
}

/// Logits (30, 0, 0) with true class 1: p_1 ≈ e^−30 ≈ 9.4e−14, far below Keras' clip.
/// Unclipped (the study's Keras): ∂CE/∂W_0j = a (p_j − y_j) ≈ (1, −1, e^−30), so GL is
/// ≈ (1, 1, 9.4e−14). Clipped: the row passes no gradient at all.
#[test]
fn a_row_far_below_the_clip_still_has_a_gradient_as_in_the_studys_keras() {
    let kernel = [30.0, 0.0, 0.0];
    let bias = [0.0; 3];
    let layer = DenseLayerView {
        width: 1,
        classes: 3,
        kernel: &kernel,
        bias: &bias,
    };
    let rows = LabelledActivations {
        activations: vec![1.0],
        labels: vec![1],
    };
    let e30 = (-30.0f64).exp();
    let p = [
        1.0 / (1.0 + 2.0 * e30),
        e30 / (1.0 + 2.0 * e30),
        e30 / (1.0 + 2.0 * e30),
    ];
    let gl = gradient_loss(&layer, &rows, CrossEntropy::Logits);
    let expected = [p[0], 1.0 - p[1], p[2]];
    for (g, x) in gl.iter().zip(expected) {
        assert!((g - x).abs() <= 1e-12 * x, "{gl:?} vs {expected:?}");
    }
    assert_eq!(
        gradient_loss(&layer, &rows, CrossEntropy::Clipped),
        [0.0; 3]
    );
    // So the study's FL localises this negative; the clipped form finds nothing to rank.
    let found = Arachne::default()
        .localise(&layer, &rows, &LabelledActivations::default())
        .unwrap();
    assert!(found.candidates.iter().any(|c| c.gradient_loss > 0.5));
}
