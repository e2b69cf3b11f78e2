//! The paper's quality metric Qual_{α,cls}(M) = α · Acc_cls(M) + (1 − α) · Acc_total(M)
//! on the test set (notebook `calc_common_accuracy`): α = 1 cares only for the class,
//! α = 0 only for overall accuracy. The paper reports α ∈ {0.2, 0.5, 0.8}.
//!
//! For a repair of several classes at once (the paper's second open question) the class
//! term is their mean: Qual_α = α · mean_c Acc_c + (1 − α) · Acc_total, which is the
//! paper's Qual for one class.

use crate::error::MetricsError;

/// Qual_α from the two accuracies.
pub fn qual(alpha: f64, acc_cls: f64, acc_total: f64) -> Result<f64, MetricsError> {
    if !(0.0..=1.0).contains(&alpha) {
        return Err(MetricsError::Alpha(alpha));
    }
    // An accuracy is a share: NaN or anything outside [0, 1] would give a Qual that
    // means nothing (NaN compares false everywhere a best checkpoint is picked).
    for (what, accuracy) in [("acc_cls", acc_cls), ("acc_total", acc_total)] {
        if !(0.0..=1.0).contains(&accuracy) {
            return Err(MetricsError::Invalid(format!(
                "{what} = {accuracy}: an accuracy is a share from 0 to 1"
            )));
        }
    }
    Ok(alpha * acc_cls + (1.0 - alpha) * acc_total)
}

/// Qual_α of a multi-class repair: α · (mean of `class_accs`) + (1 − α) · `acc_total`.
pub fn qual_multi(alpha: f64, class_accs: &[f64], acc_total: f64) -> Result<f64, MetricsError> {
    if class_accs.is_empty() {
        return Err(MetricsError::Invalid(
            "a multi-class Qual needs at least one class accuracy".into(),
        ));
    }
    let mean = class_accs.iter().sum::<f64>() / class_accs.len() as f64;
    qual(alpha, mean, acc_total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accuracy_that_is_not_a_share_is_refused_by_name() {
        for (cls, total, says) in [
            (f64::NAN, 0.5, "acc_cls = NaN"),
            (0.5, 1.5, "acc_total = 1.5"),
            (-0.1, 0.5, "acc_cls = -0.1"),
        ] {
            let e = qual(0.5, cls, total).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains("share from 0 to 1"), "{e}");
        }
    }

    #[test]
    fn the_multi_class_qual_is_the_mean_class_term_and_the_paper_s_for_one_class() {
        assert_eq!(
            qual_multi(0.5, &[0.8], 0.9).unwrap(),
            qual(0.5, 0.8, 0.9).unwrap()
        );
        // α = 0.2: 0.2 · (0.5 + 0.7 + 0.9)/3 + 0.8 · 0.95 = 0.14 + 0.76.
        let q = qual_multi(0.2, &[0.5, 0.7, 0.9], 0.95).unwrap();
        assert!((q - 0.90).abs() < 1e-12, "{q}");
        assert!(qual_multi(0.2, &[], 0.9).is_err());
        assert!(qual_multi(1.5, &[0.5], 0.9).is_err());
    }
}
