//! The per-row arithmetic both fitness forms share, so that they differ only in how
//! they obtain the logits.

use repair_core::first_argmax;

/// ln(1e-7): Keras clips probabilities to [1e-7, 1 − 1e-7] before the log.
pub(crate) const LN_P_MIN: f64 = -16.118_095_650_958_32;
/// ln(1 − 1e-7), of the `f64` nearest 1 − 1e-7.
pub(crate) const LN_P_MAX: f64 = -1.000_000_049_473_647_4e-7;

/// Cross-entropy −ln(clip(p_y)) from the log-probability ln p_y.
#[inline]
pub(crate) fn clipped_ce(log_p: f64) -> f64 {
    -log_p.clamp(LN_P_MIN, LN_P_MAX)
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
    fn certainty_is_clipped() {
        let (ce, ok) = row_outcome(&[0.0, 100.0], 1);
        assert!(ok);
        assert!((ce - 1e-7).abs() < 1e-12, "{ce}");
        let (ce, ok) = row_outcome(&[0.0, 100.0], 0);
        assert!(!ok);
        assert!((ce - 16.118_095_650_958_32).abs() < 1e-12, "{ce}");
    }
}
