//! Class imbalance made visible. With α = 0.8, Qual rewards a repaired model that
//! labels (almost) everything as the repaired class: the study's RSNA repairs at epoch
//! 1 reached Acc_1 = 1.0 at Acc_total ≈ 0.23, and such a model can still be the "best"
//! one of its run. [`collapse_warnings`] names every best model of that kind instead of
//! letting it pass as a good repair.

use serde::{Deserialize, Serialize};

use crate::tables::{RepairRow, RunPattern};

/// A repaired model that labels at least this share of the test set as the repaired
/// class "labels almost everything" as that class.
pub const COLLAPSE_SHARE: f64 = 0.95;

/// The best repaired model of a (run, class, α) labels almost every test input as the
/// repaired class.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollapseWarning {
    /// Dataset name.
    pub dataset: String,
    /// Model name.
    pub model: String,
    /// Run number.
    pub run: usize,
    /// Repaired class.
    pub target_class: u32,
    /// α whose best repaired model this is.
    pub alpha: f64,
    /// Its checkpoint epoch.
    pub epoch: usize,
    /// Share of the test set it labels as the class.
    pub share_cls: f64,
    /// Its accuracy on the class.
    pub acc_cls: f64,
    /// Its total accuracy.
    pub acc_total: f64,
    /// Its balanced accuracy, when recorded.
    pub balanced_acc: Option<f64>,
}

impl std::fmt::Display for CollapseWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} run {} class {}: the best repaired model for α = {} (epoch {}) labels \
             {:.1} % of the test set as class {} (Acc_{} = {:.3}, Acc_total = {:.3}",
            self.dataset,
            self.model,
            self.run,
            self.target_class,
            self.alpha,
            self.epoch,
            100.0 * self.share_cls,
            self.target_class,
            self.target_class,
            self.acc_cls,
            self.acc_total
        )?;
        if let Some(b) = self.balanced_acc {
            write!(f, ", balanced accuracy {b:.3}")?;
        }
        write!(f, ")")
    }
}

/// One warning per (run, class, α) whose best repaired checkpoint labels at least
/// [`COLLAPSE_SHARE`] of the test set as the repaired class. Rows without a recorded
/// share never warn.
pub fn collapse_warnings(rows: &[RepairRow], patterns: &[RunPattern]) -> Vec<CollapseWarning> {
    patterns
        .iter()
        .filter_map(|p| {
            let epoch = p.result.best_epoch?;
            let key = &p.key;
            let row = rows.iter().find(|r| {
                r.dataset == key.dataset
                    && r.model == key.model
                    && r.run == key.run
                    && r.target_class == key.target_class
                    && r.epoch == epoch
            })?;
            let share = row.repaired_share_cls?;
            (share >= COLLAPSE_SHARE).then(|| CollapseWarning {
                dataset: key.dataset.clone(),
                model: key.model.clone(),
                run: key.run,
                target_class: key.target_class,
                alpha: key.alpha,
                epoch,
                share_cls: share,
                acc_cls: row.repaired_acc_cls,
                acc_total: row.repaired_acc_total,
                balanced_acc: row.repaired_balanced_acc,
            })
        })
        .collect()
}

/// The warnings as a Markdown section for `table1.md` (empty when there are none).
pub fn warnings_markdown(warnings: &[CollapseWarning]) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\n## Warnings: best repaired models that label ≥ {:.0} % of the test set as the repaired class\n\n",
        100.0 * COLLAPSE_SHARE
    );
    for w in warnings {
        s.push_str(&format!("- {w}\n"));
    }
    s
}
