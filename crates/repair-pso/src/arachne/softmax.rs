//! The per-row arithmetic both fitness forms share, so that they differ only in how
//! they obtain the logits.

/// ln(1e-7): Keras clips probabilities to [1e-7, 1 − 1e-7] before the log.
pub(crate) const LN_P_MIN: f64 = -16.118_095_650_958_32;
/// ln(1 − 1e-7), of the `f64` nearest 1 − 1e-7.
pub(crate) const LN_P_MAX: f64 = -1.000_000_049_473_647_4e-7;

/// Cross-entropy −ln(clip(p_y)) from the log-probability ln p_y.
#[inline]
pub(crate) fn clipped_ce(log_p: f64) -> f64 {
    -log_p.clamp(LN_P_MIN, LN_P_MAX)
}

/// Logits b + a·W of one row, accumulated in `f64` from the `f32` inputs (kernel
/// `width × classes`, Keras layout): the arithmetic of the fitness, so callers that
/// classify rows (repair sets, RR, BR) agree with it bit for bit.
pub fn logits(activations: &[f32], kernel: &[f32], bias: &[f32], out: &mut [f64]) {
    let classes = bias.len();
    for (o, &b) in out.iter_mut().zip(bias) {
        *o = f64::from(b);
    }
    for (i, &a) in activations.iter().enumerate() {
        if a == 0.0 {
            continue; // exact: the kernel is finite (ReLU outputs are often 0)
        }
        let a = f64::from(a);
        let w = &kernel[i * classes..(i + 1) * classes];
        for (o, &w) in out.iter_mut().zip(w) {
            *o += a * f64::from(w);
        }
    }
}

/// Index of the largest logit, the first on ties (numpy's / Keras' argmax).
pub fn first_argmax(z: &[f64]) -> usize {
    let mut best = 0;
    for (j, &v) in z.iter().enumerate().skip(1) {
        if v > z[best] {
            best = j;
        }
    }
    best
}

/// (clipped cross-entropy, correctly classified) of one row's logits.
pub(crate) fn row_outcome(z: &[f64], label: usize) -> (f64, bool) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
    (
        clipped_ce(z[label] - m - sum.ln()),
        first_argmax(z) == label,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clip_constants_are_the_logs_of_keras_bounds() {
        assert_eq!(LN_P_MIN, 1e-7f64.ln());
        assert_eq!(LN_P_MAX, (1.0 - 1e-7f64).ln());
    }

    #[test]
    fn ties_go_to_the_first_index_and_certainty_is_clipped() {
        assert_eq!(first_argmax(&[1.0, 3.0, 3.0]), 1);
        let (ce, ok) = row_outcome(&[0.0, 100.0], 1);
        assert!(ok);
        assert!((ce - 1e-7).abs() < 1e-12, "{ce}");
        let (ce, ok) = row_outcome(&[0.0, 100.0], 0);
        assert!(!ok);
        assert!((ce - 16.118_095_650_958_32).abs() < 1e-12, "{ce}");
    }
}
