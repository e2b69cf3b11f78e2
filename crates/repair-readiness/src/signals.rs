//! What is known of a training run at the end of each epoch, split by who may read it.
//!
//! [`EpochSignals`] holds what a stop rule may use: the validation loss, the checkpoint's
//! and its repair's accuracies on the *selection set* (the validation split), the repair's
//! own numbers on the repair set (RR, BR, negatives, fitness, FL sites) and how far the
//! last layer moved. [`EpochOutcome`] holds the test-set accuracies, which only the
//! evaluation reads: a rule is handed `&[EpochSignals]` and nothing else, so it cannot
//! look at the test set (the paper's Qual_α is reported on the test set; choosing on it
//! would be choosing on the data the choice is judged by).

use repair_core::SetCorrectness;
use repair_core::Site;
use serde::{Deserialize, Serialize};

use crate::error::ReadinessError;

/// α of Qual_α = α · Acc_cls + (1 − α) · Acc_total (the paper's quality), checked once to
/// lie in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Alpha(f64);

impl Alpha {
    /// α, or an error naming the value when it is outside [0, 1].
    pub fn new(alpha: f64) -> Result<Self, ReadinessError> {
        if (0.0..=1.0).contains(&alpha) {
            Ok(Alpha(alpha))
        } else {
            Err(ReadinessError::Alpha(alpha))
        }
    }

    /// The value.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// Accuracy of the repaired class and of all inputs on one set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Accuracy (recall) of the class.
    pub cls: f64,
    /// Accuracy over all inputs.
    pub total: f64,
}

impl Accuracy {
    /// Qual_α of these accuracies ([`repair_metrics::qual`]).
    pub fn qual(&self, alpha: Alpha) -> f64 {
        repair_metrics::qual(alpha.get(), self.cls, self.total).expect("α is checked by Alpha")
    }
}

/// One epoch as a stop rule sees it: nothing here comes from the test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochSignals {
    /// 1-based epoch.
    pub epoch: usize,
    /// Validation loss after the epoch (what early stopping watches).
    pub val_loss: f64,
    /// The checkpoint on the selection set.
    pub base: Accuracy,
    /// Its repair on the selection set.
    pub repaired: Accuracy,
    /// Repair rate on the negatives of the repair set.
    pub rr: f64,
    /// Break rate on the correctly classified repair inputs.
    pub br: f64,
    /// Misclassified repair inputs of the class.
    pub negatives: usize,
    /// Fitness of the checkpoint's weights (the Arachne fitness; higher is better),
    /// none when there was nothing to repair.
    pub fitness_before: Option<f64>,
    /// Fitness of the repaired weights.
    pub fitness_after: Option<f64>,
    /// The localised weights.
    pub sites: Vec<Site>,
    /// ‖W_t − W_{t−1}‖ / ‖W_{t−1}‖ of the last layer (kernel and bias together), none
    /// at the first epoch.
    pub layer_change: Option<f64>,
    /// The repair did not beat the checkpoint's layer and returned it: the "repaired"
    /// model is the checkpoint itself, still a legal pick (absent in records from before
    /// the safeguard, and in experiments that keep worse repairs: false).
    #[serde(default)]
    pub kept_original: bool,
    /// How many selection images the accuracies count (none in records from before
    /// they were kept): the standard errors of the selection estimates follow from them.
    #[serde(default)]
    pub selection_images: Option<ImageCounts>,
}

/// Images of a set: of the repaired class, and in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageCounts {
    /// Images of the class.
    pub class: usize,
    /// All images.
    pub total: usize,
}

impl EpochSignals {
    /// Repaired minus base Qual_α on the selection set.
    pub fn gain(&self, alpha: Alpha) -> f64 {
        self.repaired.qual(alpha) - self.base.qual(alpha)
    }

    /// The standard error of the repaired selection Qual_α, from the binomial standard
    /// errors of its two accuracies (the class's images are among all images; their
    /// covariance is left out, which overstates the error a little): none without image
    /// counts.
    pub fn repaired_qual_se(&self, alpha: Alpha) -> Option<f64> {
        let n = self.selection_images?;
        let var = |p: f64, n: usize| {
            if n == 0 {
                0.0
            } else {
                p * (1.0 - p) / n as f64
            }
        };
        let a = alpha.get();
        Some(
            (a * a * var(self.repaired.cls, n.class)
                + (1.0 - a) * (1.0 - a) * var(self.repaired.total, n.total))
            .sqrt(),
        )
    }
}

/// One epoch on the test set: for the evaluation and the oracle only.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochOutcome {
    /// 1-based epoch.
    pub epoch: usize,
    /// The checkpoint on the test set.
    pub base: Accuracy,
    /// Its repair on the test set.
    pub repaired: Accuracy,
}

/// Which repair series: one (dataset, model, run, class).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    /// Dataset name.
    pub dataset: String,
    /// Model name.
    pub model: String,
    /// Run number.
    pub run: usize,
    /// Training seed.
    pub seed: u64,
    /// Repaired class.
    pub target_class: u32,
}

/// Every epoch of one run repaired for one class: the dense grid a rule is simulated on.
#[derive(Debug, Clone, PartialEq)]
pub struct RepairSeries {
    /// Which run and class.
    pub key: SeriesKey,
    /// What rules see, epochs 1, 2, …, T.
    pub signals: Vec<EpochSignals>,
    /// The same epochs on the test set.
    pub test: Vec<EpochOutcome>,
    /// The same epochs' per-image test correctness (the class, and which images each
    /// repair gets right), for the cross-fitted oracle; none for a folder written before
    /// per-image correctness files. Evaluation only, as `test`.
    pub test_bits: Option<Vec<SetCorrectness>>,
}

impl RepairSeries {
    /// A series, checked: epochs 1, 2, …, T with no gap (a rule is simulated epoch by
    /// epoch, as in training), the same epochs on both sides, finite values.
    pub fn new(
        key: SeriesKey,
        signals: Vec<EpochSignals>,
        test: Vec<EpochOutcome>,
    ) -> Result<Self, ReadinessError> {
        let fail = |problem: String| ReadinessError::Series {
            series: format!(
                "{} {} run {} class {}",
                key.dataset, key.model, key.run, key.target_class
            ),
            problem,
        };
        if signals.is_empty() {
            return Err(fail("no epoch".into()));
        }
        if signals.len() != test.len() {
            return Err(fail(format!(
                "{} epochs of signals but {} of test results",
                signals.len(),
                test.len()
            )));
        }
        for (k, (s, t)) in signals.iter().zip(&test).enumerate() {
            if s.epoch != k + 1 || t.epoch != k + 1 {
                return Err(fail(format!(
                    "epoch {} where {} was expected: the readiness evaluation needs a repair \
                     of every epoch's checkpoint (the `dense` profiles)",
                    if s.epoch != k + 1 { s.epoch } else { t.epoch },
                    k + 1
                )));
            }
            if !s.val_loss.is_finite() {
                return Err(fail(format!(
                    "epoch {}: the validation loss is not finite",
                    k + 1
                )));
            }
            let rates = [
                s.base.cls,
                s.base.total,
                s.repaired.cls,
                s.repaired.total,
                s.rr,
                s.br,
                t.base.cls,
                t.base.total,
                t.repaired.cls,
                t.repaired.total,
            ];
            // NaN fails the range check too.
            if !rates.iter().all(|v| (0.0..=1.0).contains(v)) {
                return Err(fail(format!(
                    "epoch {}: an accuracy or rate is not in [0, 1]",
                    k + 1
                )));
            }
        }
        Ok(RepairSeries {
            key,
            signals,
            test,
            test_bits: None,
        })
    }

    /// The series with its per-image test bits, checked: one set per epoch, the same
    /// images and class in each, and the accuracies they count those of `test`.
    pub fn with_test_bits(mut self, bits: Vec<SetCorrectness>) -> Result<Self, ReadinessError> {
        let fail = |problem: String| ReadinessError::Series {
            series: format!(
                "{} {} run {} class {}",
                self.key.dataset, self.key.model, self.key.run, self.key.target_class
            ),
            problem,
        };
        if bits.len() != self.test.len() {
            return Err(fail(format!(
                "{} epochs of test bits for {} epochs",
                bits.len(),
                self.test.len()
            )));
        }
        for (k, (b, t)) in bits.iter().zip(&self.test).enumerate() {
            if b.class != bits[0].class {
                return Err(fail(format!(
                    "epoch {}: its test images or class differ from epoch 1's",
                    k + 1
                )));
            }
            let (cls, total) = b.accuracy(&b.repaired);
            if (cls - t.repaired.cls).abs() > 1e-9 || (total - t.repaired.total).abs() > 1e-9 {
                return Err(fail(format!(
                    "epoch {}: the bits count Acc_cls {cls}, Acc_total {total}; the results \
                     say {}, {}",
                    k + 1,
                    t.repaired.cls,
                    t.repaired.total
                )));
            }
        }
        self.test_bits = Some(bits);
        Ok(self)
    }

    /// The last trained epoch.
    pub fn last_epoch(&self) -> usize {
        self.signals.len()
    }
}

/// Least-squares slope of the validation loss over the last `window` epochs seen
/// (per epoch; negative while it still falls), none with fewer than two.
pub fn val_loss_trend(seen: &[EpochSignals], window: usize) -> Option<f64> {
    let tail = &seen[seen.len().saturating_sub(window.max(2))..];
    if tail.len() < 2 {
        return None;
    }
    let n = tail.len() as f64;
    let mean_x = tail.iter().map(|s| s.epoch as f64).sum::<f64>() / n;
    let mean_y = tail.iter().map(|s| s.val_loss).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for s in tail {
        let dx = s.epoch as f64 - mean_x;
        sxy += dx * (s.val_loss - mean_y);
        sxx += dx * dx;
    }
    Some(sxy / sxx)
}

/// |A ∩ B| / |A ∪ B| of two site sets; none when both are empty (nothing localised).
pub fn jaccard(a: &[Site], b: &[Site]) -> Option<f64> {
    let a: std::collections::BTreeSet<&Site> = a.iter().collect();
    let b: std::collections::BTreeSet<&Site> = b.iter().collect();
    let union = a.union(&b).count();
    (union > 0).then(|| a.intersection(&b).count() as f64 / union as f64)
}

/// ‖new − old‖₂ / ‖old‖₂ over two equally long weight vectors (the last layer's kernel
/// and bias, concatenated); none when `old` is all zeros or the lengths differ.
pub fn relative_change(old: &[f32], new: &[f32]) -> Option<f64> {
    if old.len() != new.len() {
        return None;
    }
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (&o, &n) in old.iter().zip(new) {
        diff += (f64::from(n) - f64::from(o)).powi(2);
        norm += f64::from(o).powi(2);
    }
    (norm > 0.0).then(|| (diff / norm).sqrt())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An epoch with the given validation loss and repaired selection accuracies (base
    /// 0.1 lower), for the rule tests.
    pub(crate) fn epoch(epoch: usize, val_loss: f64, repaired_cls: f64) -> EpochSignals {
        EpochSignals {
            epoch,
            val_loss,
            base: Accuracy {
                cls: (repaired_cls - 0.1).max(0.0),
                total: 0.8,
            },
            repaired: Accuracy {
                cls: repaired_cls,
                total: 0.8,
            },
            rr: 0.5,
            br: 0.01,
            negatives: 10,
            fitness_before: Some(1.0),
            fitness_after: Some(2.0),
            sites: vec![Site { i: 0, j: 0 }],
            layer_change: None,
            kept_original: false,
            selection_images: None,
        }
    }

    #[test]
    fn the_trend_is_the_slope_of_the_last_epochs() {
        let seen: Vec<_> = [3.0, 2.0, 1.5, 1.25]
            .iter()
            .enumerate()
            .map(|(k, &l)| epoch(k + 1, l, 0.5))
            .collect();
        assert_eq!(val_loss_trend(&seen[..1], 3), None);
        assert_eq!(val_loss_trend(&seen[..2], 3), Some(-1.0));
        // Epochs 2..4: losses 2, 1.5, 1.25 → slope −0.375.
        assert!((val_loss_trend(&seen, 3).unwrap() + 0.375).abs() < 1e-12);
    }

    #[test]
    fn jaccard_and_relative_change_by_hand() {
        let (a, b) = (
            [Site { i: 0, j: 1 }, Site { i: 2, j: 3 }],
            [Site { i: 2, j: 3 }, Site { i: 4, j: 5 }],
        );
        assert_eq!(jaccard(&a, &b), Some(1.0 / 3.0));
        assert_eq!(jaccard(&[], &[]), None);
        assert_eq!(relative_change(&[3.0, 4.0], &[3.0, 4.5]), Some(0.1));
        assert_eq!(relative_change(&[0.0], &[1.0]), None);
    }

    #[test]
    fn a_series_with_a_gap_or_a_bad_value_is_refused_naming_it() {
        let key = SeriesKey {
            dataset: "gtsrb".into(),
            model: "cnn-s".into(),
            run: 2,
            seed: 7,
            target_class: 27,
        };
        let outcome = |e| EpochOutcome {
            epoch: e,
            base: Accuracy {
                cls: 0.5,
                total: 0.8,
            },
            repaired: Accuracy {
                cls: 0.6,
                total: 0.8,
            },
        };
        let gap = RepairSeries::new(
            key.clone(),
            vec![epoch(1, 1.0, 0.5), epoch(3, 1.0, 0.5)],
            vec![outcome(1), outcome(3)],
        )
        .unwrap_err()
        .to_string();
        assert!(
            gap.contains("run 2 class 27") && gap.contains("epoch 3 where 2"),
            "{gap}"
        );
        let mut nan = epoch(1, f64::NAN, 0.5);
        let e = RepairSeries::new(key.clone(), vec![nan.clone()], vec![outcome(1)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("validation loss is not finite"), "{e}");
        nan.val_loss = 1.0;
        for bad in [1.5, f64::NAN] {
            nan.repaired.cls = bad;
            let e = RepairSeries::new(key.clone(), vec![nan.clone()], vec![outcome(1)])
                .unwrap_err()
                .to_string();
            assert!(e.contains("not in [0, 1]"), "{e}");
        }
    }
}
