//! Gradient loss GL(i, j) = |Σ_x ∂CE(x)/∂W_ij| over the negatives (ER arachne.py
//! 107-143), analytically: for softmax + cross-entropy, ∂CE/∂W_ij = a_i (p_j − y_j).
//! With the study's Keras ([`CrossEntropy::Logits`]) every row contributes; with the
//! probability clip ([`CrossEntropy::Clipped`]) `clip_by_value` passes no gradient
//! outside [1e-7, 1 − 1e-7], so a row whose p_y is clipped contributes nothing.

use repair_core::{CrossEntropy, DenseLayerView, LabelledActivations};

/// GL for every weight, `width × classes` (index i · classes + j), of the loss `loss`.
pub fn gradient_loss(
    layer: &DenseLayerView<'_>,
    negatives: &LabelledActivations,
    loss: CrossEntropy,
) -> Vec<f64> {
    let (d, c) = (layer.width, layer.classes);
    let mut sum = vec![0.0f64; d * c];
    let mut p = vec![0.0; c];
    for (a, &y) in negatives.activations.chunks(d).zip(&negatives.labels) {
        layer.probabilities(a, &mut p);
        if !loss.has_gradient(p[y as usize]) {
            continue;
        }
        p[y as usize] -= 1.0; // p − y
        for (i, &ai) in a.iter().enumerate() {
            if ai != 0.0 {
                let row = &mut sum[i * c..(i + 1) * c];
                for (s, &g) in row.iter_mut().zip(&p) {
                    *s += f64::from(ai) * g;
                }
            }
        }
    }
    sum.iter_mut().for_each(|s| *s = s.abs());
    sum
}
