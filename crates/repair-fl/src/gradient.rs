//! Gradient loss GL(i, j) = |Σ_x ∂CE(x)/∂W_ij| over the negatives (ER arachne.py
//! 107-143), analytically: for softmax + cross-entropy, ∂CE/∂W_ij = a_i (p_j − y_j).
//! Keras clips p_y to [1e-7, 1 − 1e-7] before the log and `clip_by_value` passes no
//! gradient outside that range, so a row whose p_y is clipped contributes nothing.

use repair_core::{DenseLayerView, LabelledActivations};

/// Keras' probability clip.
const P_MIN: f64 = 1e-7;

/// GL for every weight, `width × classes` (index i · classes + j).
pub fn gradient_loss(layer: &DenseLayerView<'_>, negatives: &LabelledActivations) -> Vec<f64> {
    let (d, c) = (layer.width, layer.classes);
    let mut sum = vec![0.0f64; d * c];
    let mut p = vec![0.0; c];
    for (a, &y) in negatives.activations.chunks(d).zip(&negatives.labels) {
        layer.probabilities(a, &mut p);
        let py = p[y as usize];
        if !(P_MIN..=1.0 - P_MIN).contains(&py) {
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
