//! From a tidy `repairs.csv` (one row per run × checkpoint × target class, written by
//! `cargo xtask experiment` or any tool with the same columns) to `quality.csv`, the
//! patterns and Table 1.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::MetricsError;
use repair_core::{IncompletePolicy, TiePolicy};

use crate::pattern::{classify_pattern, CheckpointQual, PatternResult};
use crate::quality::qual;
use crate::summary::{GainSummary, PairedComparison, PatternCounts};

/// One repair: a row of `repairs.csv`. The study's released columns (names, run, class,
/// epochs and the four accuracies) are required; every other one is optional and may be
/// empty, so other tools' files read. Unknown columns are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepairRow {
    /// Dataset name.
    pub dataset: String,
    /// Model name.
    pub model: String,
    /// The repair method (`arachne`, the study's, in files from before the column).
    #[serde(default)]
    pub method: MethodLabel,
    /// Run number.
    pub run: usize,
    /// Training seed of the run; empty in other tools' files (the study's released
    /// data has no seeds).
    #[serde(default)]
    pub seed: Option<u64>,
    /// The search's own seed when it is not the problem's (`repair_seeds` > 1: the
    /// repeats of a repair); empty for the study's one repair per unit.
    #[serde(default)]
    pub search_seed: Option<u64>,
    /// Repaired class.
    pub target_class: u32,
    /// Checkpoint epoch.
    pub epoch: usize,
    /// The run's converged epoch (lowest validation loss).
    pub converged_epoch: usize,
    /// Test accuracy of the checkpoint.
    pub base_acc_total: f64,
    /// Test accuracy of the class at the checkpoint.
    pub base_acc_cls: f64,
    /// Test accuracy after repair.
    pub repaired_acc_total: f64,
    /// Test accuracy of the class after repair.
    pub repaired_acc_cls: f64,
    /// Repair rate (share of the negatives fixed); empty where a tool did not record it
    /// (the study's RSNA runs).
    #[serde(default)]
    pub rr: Option<f64>,
    /// Break rate (share of the correct repair inputs broken).
    #[serde(default)]
    pub br: Option<f64>,
    /// Weights searched.
    #[serde(default)]
    pub n_sites: Option<usize>,
    /// Fitness of the repaired model: the search's best, or the original's when the
    /// repair kept the original (a guarded repair that did not beat it).
    #[serde(default)]
    pub fitness: Option<f64>,
    /// Objective evaluations.
    #[serde(default)]
    pub evaluations: Option<u64>,
    /// Repair wall time, ms.
    #[serde(default)]
    pub repair_ms: Option<f64>,
    /// Balanced accuracy (mean per-class recall) of the checkpoint on the test set;
    /// empty in files from before it was recorded.
    #[serde(default)]
    pub base_balanced_acc: Option<f64>,
    /// Balanced accuracy after repair.
    #[serde(default)]
    pub repaired_balanced_acc: Option<f64>,
    /// Share of the test set the checkpoint labels as the target class.
    #[serde(default)]
    pub base_share_cls: Option<f64>,
    /// Share of the test set the repaired model labels as the target class (near 1: it
    /// says the class to almost everything, see [`crate::collapse_warnings`]).
    #[serde(default)]
    pub repaired_share_cls: Option<f64>,
    /// Accuracy of the checkpoint on the selection set (the validation split, on which
    /// a choice between checkpoints may be made; the test set stays for reporting).
    /// Empty in files from before it was recorded.
    #[serde(default)]
    pub selection_base_acc_total: Option<f64>,
    /// Accuracy of the class on the selection set at the checkpoint.
    #[serde(default)]
    pub selection_base_acc_cls: Option<f64>,
    /// Selection-set accuracy after repair.
    #[serde(default)]
    pub selection_repaired_acc_total: Option<f64>,
    /// Selection-set accuracy of the class after repair.
    #[serde(default)]
    pub selection_repaired_acc_cls: Option<f64>,
    /// Negatives of the repair (misclassified repair inputs of the class).
    #[serde(default)]
    pub negatives: Option<usize>,
    /// Fitness of the checkpoint's own weights (`fitness` is the repaired one's).
    #[serde(default)]
    pub fitness_before: Option<f64>,
}

/// The method of a `repairs.csv` without the `method` column: the study's.
pub const STUDY_METHOD: &str = "arachne";

/// A repair method's name as `repairs.csv` holds it; the default (a file from before
/// the column, or a row built with `..Default::default()`) is the study's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MethodLabel(pub String);

impl Default for MethodLabel {
    fn default() -> Self {
        MethodLabel(STUDY_METHOD.to_string())
    }
}

impl MethodLabel {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for MethodLabel {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MethodLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for MethodLabel {
    fn from(name: &str) -> Self {
        MethodLabel(name.to_string())
    }
}

/// What identifies a repair: (dataset, model, method, run, epoch, class, search seed).
pub type RepairKey<'a> = (&'a str, &'a str, &'a str, usize, usize, u32, Option<u64>);

impl RepairRow {
    /// What identifies a repair.
    pub fn key(&self) -> RepairKey<'_> {
        (
            &self.dataset,
            &self.model,
            self.method.as_str(),
            self.run,
            self.epoch,
            self.target_class,
            self.search_seed,
        )
    }
}

/// One line of `quality.csv`: Qual_α of a checkpoint before and after repair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityRow {
    /// Dataset name.
    pub dataset: String,
    /// Model name.
    pub model: String,
    /// The repair method.
    pub method: MethodLabel,
    /// Run number.
    pub run: usize,
    /// Repaired class.
    pub target_class: u32,
    /// Checkpoint epoch.
    pub epoch: usize,
    /// Converged epoch.
    pub converged_epoch: usize,
    /// α.
    pub alpha: f64,
    /// Qual_α of the checkpoint.
    pub base_qual: f64,
    /// Qual_α of the repaired checkpoint.
    pub repaired_qual: f64,
}

/// Qual_α of every row for every α.
pub fn quality(rows: &[RepairRow], alphas: &[f64]) -> Result<Vec<QualityRow>, MetricsError> {
    let mut out = Vec::with_capacity(rows.len() * alphas.len());
    for r in rows {
        for &alpha in alphas {
            out.push(QualityRow {
                dataset: r.dataset.clone(),
                model: r.model.clone(),
                method: r.method.clone(),
                run: r.run,
                target_class: r.target_class,
                epoch: r.epoch,
                converged_epoch: r.converged_epoch,
                alpha,
                base_qual: qual(alpha, r.base_acc_cls, r.base_acc_total)?,
                repaired_qual: qual(alpha, r.repaired_acc_cls, r.repaired_acc_total)?,
            });
        }
    }
    Ok(out)
}

/// Which pattern a row of `patterns.csv` is: one (dataset, model, run, class, α).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternKey {
    /// Dataset name.
    pub dataset: String,
    /// Model name.
    pub model: String,
    /// The repair method.
    pub method: MethodLabel,
    /// Run number.
    pub run: usize,
    /// Repaired class.
    pub target_class: u32,
    /// α.
    pub alpha: f64,
    /// Converged epoch.
    pub converged_epoch: usize,
}

/// The pattern of one (dataset, model, run, class, α); a line of `patterns.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPattern {
    /// Which run, class and α.
    pub key: PatternKey,
    /// Classification and numbers.
    pub result: PatternResult,
}
crate::csv_record!(RunPattern {
    key: PatternKey,
    result: PatternResult
});

/// Classifies every (dataset, model, method, run, class, α). A class is expected to have
/// a repair at every epoch any class of its run has with that method; a missing one is a
/// gap for the `incomplete` policy (the notebook's "incomplete repair" check).
pub fn patterns(
    rows: &[RepairRow],
    alphas: &[f64],
    ties: TiePolicy,
    incomplete: IncompletePolicy,
) -> Result<Vec<RunPattern>, MetricsError> {
    type RunKey = (String, String, MethodLabel, usize);
    let mut run_epochs: BTreeMap<RunKey, BTreeSet<usize>> = BTreeMap::new();
    let mut by_class: BTreeMap<(RunKey, u32), Vec<&RepairRow>> = BTreeMap::new();
    for r in rows {
        let key = (r.dataset.clone(), r.model.clone(), r.method.clone(), r.run);
        run_epochs.entry(key.clone()).or_default().insert(r.epoch);
        by_class.entry((key, r.target_class)).or_default().push(r);
    }
    let mut out = Vec::new();
    for ((key, class), repairs) in by_class {
        let converged = repairs[0].converged_epoch;
        for &alpha in alphas {
            let mut checkpoints = Vec::new();
            for &epoch in &run_epochs[&key] {
                let qual = match repairs.iter().find(|r| r.epoch == epoch) {
                    Some(r) => Some(qual(alpha, r.repaired_acc_cls, r.repaired_acc_total)?),
                    None => None,
                };
                checkpoints.push(CheckpointQual { epoch, qual });
            }
            out.push(RunPattern {
                key: PatternKey {
                    dataset: key.0.clone(),
                    model: key.1.clone(),
                    method: key.2.clone(),
                    run: key.3,
                    target_class: class,
                    alpha,
                    converged_epoch: converged,
                },
                result: classify_pattern(&checkpoints, converged, ties, incomplete),
            });
        }
    }
    Ok(out)
}

/// Which row of Table 1: a dataset, a method and α.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table1Key {
    /// Dataset name.
    pub dataset: String,
    /// The repair method.
    pub method: MethodLabel,
    /// α.
    pub alpha: f64,
}

/// One row of Table 1 (and of `table1.csv`): a dataset, a method and α.
#[derive(Debug, Clone, PartialEq)]
pub struct Table1Row {
    /// The dataset and α.
    pub key: Table1Key,
    /// Pattern counts over runs × classes.
    pub counts: PatternCounts,
    /// The gain of the best early repair over repairing the converged model.
    pub gain: GainSummary,
    /// The same comparison as paired tests and effect sizes.
    pub paired: PairedComparison,
}
crate::csv_record!(Table1Row {
    key: Table1Key,
    counts: PatternCounts,
    gain: GainSummary,
    paired: PairedComparison
});

/// Table 1 from the patterns, ordered by dataset, method (the study's first) and α.
pub fn table1(patterns: &[RunPattern]) -> Vec<Table1Row> {
    // (dataset, (not the study's method, method), α bits).
    type Cell = (String, (bool, MethodLabel), u64);
    let mut groups: BTreeMap<Cell, Vec<&RunPattern>> = BTreeMap::new();
    for p in patterns {
        let method = (p.key.method.as_str() != STUDY_METHOD, p.key.method.clone());
        groups
            .entry((p.key.dataset.clone(), method, p.key.alpha.to_bits()))
            .or_default()
            .push(p);
    }
    let mut rows: Vec<Table1Row> = groups
        .into_iter()
        .map(|((dataset, (_, method), alpha), ps)| {
            // (best early Qual, converged Qual) of every (run, class) with both.
            let pairs: Vec<(f64, f64)> = ps
                .iter()
                .filter_map(|p| {
                    let c = p.result.converged_qual?;
                    Some((c + p.result.early_gain?, c))
                })
                .collect();
            Table1Row {
                key: Table1Key {
                    dataset,
                    method,
                    alpha: f64::from_bits(alpha),
                },
                counts: PatternCounts::of(ps.iter().map(|p| &p.result)),
                gain: GainSummary::of(
                    &ps.iter()
                        .filter_map(|p| p.result.early_gain)
                        .collect::<Vec<_>>(),
                ),
                paired: PairedComparison::of(&pairs),
            }
        })
        .collect();
    // One family: every (dataset, method, α) cell of the table.
    PairedComparison::holm_adjust(rows.iter_mut().map(|r| &mut r.paired));
    rows
}

/// Table 1 as Markdown, with the gain columns the study lacks.
pub fn table1_markdown(rows: &[Table1Row]) -> String {
    let mut s = String::from(
        "| dataset | method | α | pre-convergence | post-convergence | after-convergence | incomplete | early gain (mean ± std) | early better / worse | sign test p | gain BCa 95 % CI | Wilcoxon p (Holm) | rank-biserial r | Â12 |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let c = &r.counts;
        let g = &r.gain;
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:+.4} ± {:.4} (n = {}) | {} / {} | {:.3} | [{:+.4}, {:+.4}] | {:.3} ({:.3}) | {:+.2} | {:.2} |\n",
            r.key.dataset,
            r.key.method,
            r.key.alpha,
            c.pre,
            c.post,
            c.after,
            c.incomplete,
            g.mean,
            g.std,
            g.n,
            g.positive,
            g.negative,
            g.sign_test_p,
            r.paired.gain_ci_low,
            r.paired.gain_ci_high,
            r.paired.wilcoxon_p,
            r.paired.wilcoxon_p_holm,
            r.paired.rank_biserial,
            r.paired.a12
        ));
    }
    s
}
