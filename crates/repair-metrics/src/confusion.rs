//! Confusion matrix and the accuracies derived from it (ER utils.get_metrics:
//! per-class accuracy = the confusion matrix normalised by true class, i.e. recall).

use serde::{Deserialize, Serialize};

use crate::error::MetricsError;

/// Counts of (true class, predicted class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    classes: usize,
    /// Row-major `classes × classes`: `counts[true · classes + predicted]`.
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// Counts `labels` against `predictions`.
    pub fn new(classes: usize, labels: &[u32], predictions: &[u32]) -> Result<Self, MetricsError> {
        if labels.len() != predictions.len() {
            return Err(MetricsError::Length {
                labels: labels.len(),
                predictions: predictions.len(),
            });
        }
        let mut counts = vec![0u64; classes * classes];
        for (k, (&y, &p)) in labels.iter().zip(predictions).enumerate() {
            for c in [y, p] {
                if c as usize >= classes {
                    return Err(MetricsError::UnknownClass {
                        row: k,
                        class: c,
                        classes,
                    });
                }
            }
            counts[y as usize * classes + p as usize] += 1;
        }
        Ok(ConfusionMatrix { classes, counts })
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// How often class `truth` was predicted as `predicted`.
    pub fn count(&self, truth: usize, predicted: usize) -> u64 {
        self.counts[truth * self.classes + predicted]
    }

    fn row_total(&self, c: usize) -> u64 {
        self.counts[c * self.classes..(c + 1) * self.classes]
            .iter()
            .sum()
    }

    fn column_total(&self, c: usize) -> u64 {
        (0..self.classes).map(|t| self.count(t, c)).sum()
    }

    /// Share of all inputs classified correctly.
    pub fn accuracy(&self) -> f64 {
        let total: u64 = self.counts.iter().sum();
        let right: u64 = (0..self.classes).map(|c| self.count(c, c)).sum();
        ratio(right, total)
    }

    /// Recall of each class (Acc_cls in the paper); NaN for a class with no input.
    pub fn per_class_accuracy(&self) -> Vec<f64> {
        (0..self.classes)
            .map(|c| ratio(self.count(c, c), self.row_total(c)))
            .collect()
    }

    /// Mean recall over the classes with at least one input (scikit-learn's
    /// `balanced_accuracy_score`): the accuracy that a model labelling everything as
    /// the majority class cannot inflate — 1/k for k present classes. NaN when empty.
    pub fn balanced_accuracy(&self) -> f64 {
        let recalls: Vec<f64> = self
            .per_class_accuracy()
            .into_iter()
            .filter(|r| !r.is_nan())
            .collect();
        if recalls.is_empty() {
            return f64::NAN;
        }
        recalls.iter().sum::<f64>() / recalls.len() as f64
    }

    /// Share of all inputs predicted as `class` (1.0: the model says `class` to
    /// everything); NaN when empty.
    pub fn predicted_share(&self, class: usize) -> f64 {
        ratio(self.column_total(class), self.counts.iter().sum())
    }

    /// Inputs whose true class is `class`.
    pub fn inputs(&self, class: usize) -> u64 {
        self.row_total(class)
    }

    /// Inputs predicted as `class`.
    pub fn predictions(&self, class: usize) -> u64 {
        self.column_total(class)
    }

    /// Macro F1 over the classes that occur (as truth or prediction), as scikit-learn
    /// with `zero_division=0`.
    pub fn macro_f1(&self) -> f64 {
        let f1: Vec<f64> = (0..self.classes)
            .filter(|&c| self.row_total(c) + self.column_total(c) > 0)
            .map(|c| {
                let tp = self.count(c, c) as f64;
                let denominator = (self.row_total(c) + self.column_total(c)) as f64;
                2.0 * tp / denominator
            })
            .collect();
        f1.iter().sum::<f64>() / f1.len().max(1) as f64
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}
