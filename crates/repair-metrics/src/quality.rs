//! The paper's quality metric Qual_{α,cls}(M) = α · Acc_cls(M) + (1 − α) · Acc_total(M)
//! on the test set (notebook `calc_common_accuracy`): α = 1 cares only for the class,
//! α = 0 only for overall accuracy. The paper reports α ∈ {0.2, 0.5, 0.8}.

use crate::error::MetricsError;

/// The paper's α values.
pub const PAPER_ALPHAS: [f64; 3] = [0.2, 0.5, 0.8];

/// Qual_α from the two accuracies.
pub fn qual(alpha: f64, acc_cls: f64, acc_total: f64) -> Result<f64, MetricsError> {
    if !(0.0..=1.0).contains(&alpha) {
        return Err(MetricsError::Alpha(alpha));
    }
    Ok(alpha * acc_cls + (1.0 - alpha) * acc_total)
}
