//! The per-row arithmetic both fitness forms share, so that they differ only in how
//! they obtain the logits.

use repair_core::{first_argmax, CrossEntropy};

/// (cross-entropy in the form `loss`, correctly classified) of one row's logits.
pub(crate) fn row_outcome(z: &[f64], label: usize, loss: CrossEntropy) -> (f64, bool) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
    (
        loss.from_log_p(z[label] - m - sum.ln()),
        first_argmax(z) == label,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certainty_costs_nothing_and_a_sure_mistake_its_logit_gap_unless_clipped() {
        let (ce, ok) = row_outcome(&[0.0, 100.0], 1, CrossEntropy::Logits);
        assert!(ok && ce < 1e-40, "{ce}");
        let (ce, ok) = row_outcome(&[0.0, 100.0], 1, CrossEntropy::Clipped);
        assert!(ok && (ce - 1e-7).abs() < 1e-12, "{ce}");
        let (ce, ok) = row_outcome(&[0.0, 100.0], 0, CrossEntropy::Logits);
        assert!(!ok && (ce - 100.0).abs() < 1e-12, "{ce}");
        let (ce, _) = row_outcome(&[0.0, 100.0], 0, CrossEntropy::Clipped);
        assert!((ce - 16.118_095_650_958_32).abs() < 1e-12, "{ce}");
    }
}
