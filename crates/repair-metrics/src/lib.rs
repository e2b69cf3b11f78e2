//! Metrics and pattern analysis of the early-repair study (the paper, and the study's
//! notebook `deeptest_paper.ipynb`): confusion matrix, per-class and total accuracy, macro F1;
//! Qual_α = α·Acc_cls + (1 − α)·Acc_total; the converged epoch (lowest validation loss);
//! the pre-/post-/after-convergence pattern of each (run, class, α) with explicit tie
//! and missing-repair policies; Table 1 counts and the early-repair gain with a sign test;
//! balanced accuracy and warnings for repaired models that label almost everything as
//! the repaired class.
//!
//! ```
//! use repair_core::{IncompletePolicy, TiePolicy};
//! use repair_metrics::{classify_pattern, CheckpointQual, Pattern};
//!
//! // Repaired Qual at epochs 1, 5, 10; the run converged at 10.
//! let q = |epoch, qual| CheckpointQual { epoch, qual: Some(qual) };
//! let r = classify_pattern(&[q(1, 0.60), q(5, 0.71), q(10, 0.70)], 10, TiePolicy::Post, IncompletePolicy::Mark);
//! assert_eq!(r.pattern, Pattern::PreConvergence);
//! assert_eq!(r.best_epoch, Some(5));
//! ```
#![deny(missing_docs)]

mod confusion;
mod convergence;
mod error;
#[cfg(feature = "plots")]
mod figures;
mod imbalance;
mod multiclass;
mod pattern;
mod quality;
mod records;
mod regressions;
mod repairs_file;
mod row_checks;
mod stats;
mod summary;
mod tables;
mod variance;

pub use confusion::ConfusionMatrix;
pub use convergence::{converged_epoch, phase, Phase};
pub use error::MetricsError;
#[cfg(feature = "plots")]
pub use figures::{accuracy_figure, pareto_figure, quality_figure, table1_figure};
pub use imbalance::{collapse_warnings, warnings_markdown, CollapseWarning, COLLAPSE_SHARE};
pub use multiclass::{
    compare_run, multiclass_markdown, MulticlassKey, MulticlassOutcome, MulticlassRow, ScoredRepair,
};
pub use pattern::{classify_pattern, CheckpointQual, Pattern, PatternResult};
pub use quality::{qual, qual_multi};
pub use records::{from_csv, to_csv};
pub use regressions::{regression_counts, regressions_line, RegressionCount};
pub use repairs_file::{parse_repairs, read_repairs, read_repairs_from};
pub use row_checks::{problems_message, repair_problems, PROBLEMS_SHOWN};
pub use stats::{
    bootstrap_bca_mean_ci, bootstrap_mean_ci, holm, normal_cdf, normal_quantile, rank_biserial,
    spearman, vargha_delaney_a12, wilcoxon_signed_rank,
};
pub use summary::{
    sign_test, GainSummary, PairedComparison, PatternCounts, GAIN_BOOTSTRAP_SEED, GAIN_RESAMPLES,
};
pub use tables::{
    patterns, quality, table1, table1_markdown, MethodLabel, PatternKey, QualityRow, RepairRow,
    RunPattern, Table1Key, Table1Row, STUDY_METHOD,
};
pub use variance::{variance_markdown, variance_split, VarianceKey, VarianceRow, VarianceSplit};

/// serde, for [`csv_record!`] in other crates.
#[doc(hidden)]
pub use serde as __serde;
