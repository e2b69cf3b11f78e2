//! Multi-class repair against repairing each class alone (the study's second open
//! question: "each class may want a different epoch"). Per run, method and α:
//!
//! * the joint repair's best epoch by the multi-class Qual_α (α · mean of the classes'
//!   accuracies + (1 − α) · Acc_total, [`crate::qual_multi`]);
//! * the best single repair by that same Qual: over every class c and epoch, the model
//!   repaired for c alone, scored on all the classes;
//! * each class's own best epoch when repaired alone (by its single-class Qual_α), and
//!   whether the classes disagree on it.
//!
//! Over runs, the joint-minus-best-single gains get a Wilcoxon signed-rank test.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::MetricsError;
use crate::quality::{qual, qual_multi};
use crate::stats::wilcoxon_signed_rank;
use crate::tables::MethodLabel;

/// One repaired model, scored on the test set: a joint repair of all the classes, or a
/// single repair of `repaired_for`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredRepair {
    /// Run number.
    pub run: usize,
    /// Checkpoint epoch.
    pub epoch: usize,
    /// The class repaired alone (`None`: the joint repair).
    pub repaired_for: Option<u32>,
    /// Test accuracy of the repaired model.
    pub acc_total: f64,
    /// Its test accuracy on each class of the multi-class set.
    pub acc_by_class: BTreeMap<u32, f64>,
}

/// Which line of `multiclass.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MulticlassKey {
    /// Dataset name.
    pub dataset: String,
    /// Model name.
    pub model: String,
    /// The single repairs' method (the joint one is `METHOD-joint`).
    pub method: MethodLabel,
    /// Run number.
    pub run: usize,
    /// α.
    pub alpha: f64,
}

/// One line of `multiclass.csv`: a run, method and α.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MulticlassOutcome {
    /// The classes, space-separated.
    pub classes: String,
    /// The joint repair's best epoch by the multi-class Qual.
    pub joint_best_epoch: usize,
    /// Its multi-class Qual.
    pub joint_best_qual: f64,
    /// The best single repair's class.
    pub single_best_class: u32,
    /// Its epoch.
    pub single_best_epoch: usize,
    /// Its multi-class Qual.
    pub single_best_qual: f64,
    /// `joint_best_qual − single_best_qual`.
    pub joint_gain: f64,
    /// Each class's best epoch repaired alone (by its own Qual_α), space-separated in
    /// class order.
    pub class_best_epochs: String,
    /// Whether those epochs differ.
    pub classes_disagree: bool,
}

/// A line of `multiclass.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct MulticlassRow {
    /// Which run, method and α.
    pub key: MulticlassKey,
    /// What it found.
    pub outcome: MulticlassOutcome,
}
crate::csv_record!(MulticlassRow {
    key: MulticlassKey,
    outcome: MulticlassOutcome
});

/// The best of `repairs` by `score`, the earliest epoch (then lowest class) on ties.
fn best<'a>(
    repairs: impl Iterator<Item = &'a ScoredRepair>,
    score: impl Fn(&ScoredRepair) -> Result<f64, MetricsError>,
) -> Result<Option<(&'a ScoredRepair, f64)>, MetricsError> {
    let mut best: Option<(&ScoredRepair, f64)> = None;
    for r in repairs {
        let q = score(r)?;
        if best.is_none_or(|(_, b)| q > b) {
            best = Some((r, q));
        }
    }
    Ok(best)
}

/// One run's comparison for each α. `repairs` holds the joint repairs and the single
/// ones of that run; every one must score every class of `classes`.
pub fn compare_run(
    key: (&str, &str, &MethodLabel, usize),
    classes: &[u32],
    repairs: &[ScoredRepair],
    alphas: &[f64],
) -> Result<Vec<MulticlassRow>, MetricsError> {
    let (dataset, model, method, run) = key;
    let accs = |r: &ScoredRepair| -> Result<Vec<f64>, MetricsError> {
        classes
            .iter()
            .map(|c| {
                r.acc_by_class.get(c).copied().ok_or_else(|| {
                    MetricsError::Invalid(format!(
                        "run {run} epoch {} ({}): no test accuracy of class {c}",
                        r.epoch,
                        r.repaired_for
                            .map_or("joint repair".into(), |f| format!("class {f} alone"))
                    ))
                })
            })
            .collect()
    };
    let mut sorted: Vec<&ScoredRepair> = repairs.iter().collect();
    sorted.sort_by_key(|r| (r.epoch, r.repaired_for));
    let mut out = Vec::new();
    for &alpha in alphas {
        let multi = |r: &ScoredRepair| qual_multi(alpha, &accs(r)?, r.acc_total);
        let joint = best(
            sorted.iter().copied().filter(|r| r.repaired_for.is_none()),
            multi,
        )?;
        let single = best(
            sorted.iter().copied().filter(|r| r.repaired_for.is_some()),
            multi,
        )?;
        let (Some((joint, joint_q)), Some((single, single_q))) = (joint, single) else {
            return Err(MetricsError::Invalid(format!(
                "run {run}: a multi-class comparison needs joint and single repairs"
            )));
        };
        let mut own_best = Vec::new();
        for &c in classes {
            let alone = sorted.iter().copied().filter(|r| r.repaired_for == Some(c));
            let own = |r: &ScoredRepair| qual(alpha, r.acc_by_class[&c], r.acc_total);
            let found = best(alone, own)?.ok_or_else(|| {
                MetricsError::Invalid(format!("run {run}: no single repair of class {c}"))
            })?;
            own_best.push(found.0.epoch);
        }
        let distinct: BTreeSet<usize> = own_best.iter().copied().collect();
        let words = |v: Vec<String>| v.join(" ");
        out.push(MulticlassRow {
            key: MulticlassKey {
                dataset: dataset.to_string(),
                model: model.to_string(),
                method: method.clone(),
                run,
                alpha,
            },
            outcome: MulticlassOutcome {
                classes: words(classes.iter().map(u32::to_string).collect()),
                joint_best_epoch: joint.epoch,
                joint_best_qual: joint_q,
                single_best_class: single.repaired_for.expect("a single repair"),
                single_best_epoch: single.epoch,
                single_best_qual: single_q,
                joint_gain: joint_q - single_q,
                class_best_epochs: words(own_best.iter().map(usize::to_string).collect()),
                classes_disagree: distinct.len() > 1,
            },
        });
    }
    Ok(out)
}

/// `multiclass.md`: per (dataset, method, α), over runs, how often the joint repair
/// beats the best single one, its mean gain with a Wilcoxon signed-rank p, and how often
/// the classes repaired alone prefer different epochs.
pub fn multiclass_markdown(rows: &[MulticlassRow]) -> String {
    let mut groups: BTreeMap<(String, String, u64), Vec<&MulticlassRow>> = BTreeMap::new();
    for r in rows {
        let k = &r.key;
        groups
            .entry((k.dataset.clone(), k.method.to_string(), k.alpha.to_bits()))
            .or_default()
            .push(r);
    }
    let mut s = String::from(
        "| dataset | method | α | classes | runs | joint better / worse / equal | joint − best single (mean) | Wilcoxon p | classes prefer different epochs |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for ((dataset, method, alpha), rs) in groups {
        let gains: Vec<f64> = rs.iter().map(|r| r.outcome.joint_gain).collect();
        let count = |f: &dyn Fn(f64) -> bool| gains.iter().filter(|&&g| f(g)).count();
        s.push_str(&format!(
            "| {dataset} | {method} | {} | {} | {} | {} / {} / {} | {:+.4} | {:.3} | {} / {} |\n",
            f64::from_bits(alpha),
            rs[0].outcome.classes,
            rs.len(),
            count(&|g| g > 0.0),
            count(&|g| g < 0.0),
            count(&|g| g == 0.0),
            gains.iter().sum::<f64>() / gains.len() as f64,
            wilcoxon_signed_rank(&gains),
            rs.iter().filter(|r| r.outcome.classes_disagree).count(),
            rs.len()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(epoch: usize, repaired_for: Option<u32>, total: f64, accs: [f64; 2]) -> ScoredRepair {
        ScoredRepair {
            run: 1,
            epoch,
            repaired_for,
            acc_total: total,
            acc_by_class: [(3, accs[0]), (7, accs[1])].into_iter().collect(),
        }
    }

    #[test]
    fn the_joint_repair_is_compared_with_the_best_single_one_on_the_same_qual() {
        let repairs = [
            // Joint: epoch 2 is best (α = 0.5: 0.5 · 0.7 + 0.5 · 0.9 = 0.8).
            scored(1, None, 0.8, [0.5, 0.5]),
            scored(2, None, 0.9, [0.6, 0.8]),
            // Class 3 alone is best at epoch 1 by its own Qual (0.5 · 0.9 + 0.5 · 0.85),
            // class 7 alone at epoch 2; the best single by the multi-class Qual is class
            // 7 at epoch 2: 0.5 · (0.4 + 0.9)/2 + 0.5 · 0.9 = 0.775.
            scored(1, Some(3), 0.85, [0.9, 0.2]),
            scored(2, Some(3), 0.88, [0.7, 0.3]),
            scored(1, Some(7), 0.8, [0.3, 0.7]),
            scored(2, Some(7), 0.9, [0.4, 0.9]),
        ];
        let method = MethodLabel::default();
        let rows = compare_run(("gtsrb", "cnn-s", &method, 1), &[3, 7], &repairs, &[0.5]).unwrap();
        let o = &rows[0].outcome;
        assert_eq!(
            (o.joint_best_epoch, o.single_best_class, o.single_best_epoch),
            (2, 7, 2)
        );
        assert!((o.joint_best_qual - 0.8).abs() < 1e-12);
        assert!((o.single_best_qual - 0.775).abs() < 1e-12);
        assert!((o.joint_gain - 0.025).abs() < 1e-12);
        assert_eq!(o.class_best_epochs, "1 2");
        assert!(o.classes_disagree);
        assert_eq!(o.classes, "3 7");
        let md = multiclass_markdown(&rows);
        assert!(
            md.contains("| gtsrb | arachne | 0.5 | 3 7 | 1 | 1 / 0 / 0 | +0.0250 |"),
            "{md}"
        );
        // A repair without a class's accuracy is named.
        let mut broken = repairs.to_vec();
        broken[1].acc_by_class.remove(&7);
        let e = compare_run(("gtsrb", "cnn-s", &method, 1), &[3, 7], &broken, &[0.5])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("epoch 2 (joint repair): no test accuracy of class 7"),
            "{e}"
        );
    }
}
