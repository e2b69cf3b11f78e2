//! The cross-entropy of the Arachne fitness and of its gradient loss, in the two forms
//! Keras computes it.
//!
//! The study's Arachne (`repair/arachne/arachne.py`, `_criterion` and the gradient of
//! its FL) calls Keras' categorical cross-entropy on the model's softmax output. Keras
//! 2.x then does not work on the probabilities: it finds the logits behind the softmax
//! and calls `softmax_cross_entropy_with_logits`, which neither clips p_y nor cuts the
//! gradient. Running the study's code on TF/Keras 2.15 shows it: logits (30, 0, 0) with
//! true class 1 give loss 30.0, not −ln 1e-7 = 16.118, and a non-zero gradient.
//! [`CrossEntropy::Logits`] is that form, the `arachne` preset's.
//! [`CrossEntropy::Clipped`] is Keras' generic path on probabilities (p_y clipped to
//! [1e-7, 1 − 1e-7], no gradient outside), which this project used before.

use serde::{Deserialize, Serialize};

/// ln(1e-7): the lower clip of [`CrossEntropy::Clipped`].
pub(crate) const LN_P_MIN: f64 = -16.118_095_650_958_32;
/// ln(1 − 1e-7), of the `f64` nearest 1 − 1e-7.
pub(crate) const LN_P_MAX: f64 = -1.000_000_049_473_647_4e-7;

/// Which cross-entropy a repair uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossEntropy {
    /// −ln p_y from the logits, unclipped: what the study's Keras computes (the default).
    #[default]
    Logits,
    /// −ln clip(p_y, 1e-7, 1 − 1e-7), with no gradient from a row outside the clip.
    Clipped,
}

impl crate::Choice for CrossEntropy {
    const WHAT: &'static str = "cross-entropy";
    const ALL: &'static [Self] = &[CrossEntropy::Logits, CrossEntropy::Clipped];

    fn name(self) -> &'static str {
        match self {
            CrossEntropy::Logits => "logits",
            CrossEntropy::Clipped => "clipped",
        }
    }
}

crate::choice_text!(CrossEntropy);

impl CrossEntropy {
    /// The lower probability bound of the clip.
    pub const P_MIN: f64 = 1e-7;

    /// The loss of a row from ln p_y of its label.
    #[inline]
    pub fn from_log_p(self, log_p: f64) -> f64 {
        match self {
            CrossEntropy::Logits => -log_p,
            CrossEntropy::Clipped => -log_p.clamp(LN_P_MIN, LN_P_MAX),
        }
    }

    /// Whether a row whose label has probability `p_y` contributes to the gradient.
    #[inline]
    pub fn has_gradient(self, p_y: f64) -> bool {
        match self {
            CrossEntropy::Logits => true,
            CrossEntropy::Clipped => (Self::P_MIN..=1.0 - Self::P_MIN).contains(&p_y),
        }
    }
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
    fn logits_30_0_0_with_true_class_1_cost_30_unclipped_and_16_118_clipped() {
        // ln p_1 = 0 − logsumexp(30, 0, 0) = −30 − ln(1 + 2e−30).
        let log_p = -(30.0 + (1.0 + 2.0 * (-30.0f64).exp()).ln());
        assert!((CrossEntropy::Logits.from_log_p(log_p) - 30.0).abs() < 1e-12);
        let clipped = CrossEntropy::Clipped.from_log_p(log_p);
        assert!((clipped - 16.118_095_650_958_32).abs() < 1e-12, "{clipped}");
        let p = log_p.exp();
        assert!(p < 1e-13);
        assert!(CrossEntropy::Logits.has_gradient(p));
        assert!(!CrossEntropy::Clipped.has_gradient(p));
        assert!(!CrossEntropy::Clipped.has_gradient(1.0));
    }
}
