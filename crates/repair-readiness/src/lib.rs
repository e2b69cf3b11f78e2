//! When to repair. The early-repair study shows that the best repaired model often comes
//! from a checkpoint before convergence, and leaves open *which* checkpoint, since a
//! repaired model's test quality cannot be seen during training; its conclusion asks
//! for "an online method to determine if a model is ready for repair during training".
//! This crate is that method and its evaluation, on plain numbers (no tensor library):
//!
//! - [`EpochSignals`]: what is known at the end of an epoch from training, the
//!   validation split (the *selection set*) and the repair set — never the test set;
//! - [`ReadinessRule`]: "continue" or "stop, and use epoch e ≤ t", from epochs 1..=t
//!   only — [`Converged`] (early stopping on validation loss, the field's practice),
//!   [`BestRepaired`], [`Significant`] (best-repaired counting only gains beyond the
//!   selection set's noise), and [`Saturated`] (repair gain saturated and FL sites
//!   settled);
//! - [`evaluate`] / [`summarise`]: every rule simulated epoch by epoch over a dense grid
//!   against the oracle (best repaired *test* Qual, for evaluation only) and
//!   `converged`: regret, epochs trained, bootstrap interval, Wilcoxon test;
//! - [`gain_shares`]: the honest yardstick — the cross-fitted oracle (choose the best
//!   epoch on half the test images, score it on the other half) and each rule's share
//!   of the gain achievable over `converged`, from per-image test correctness;
//! - [`signal_rows`] / [`correlations`] / [`tracking`]: `readiness.csv`, which signals
//!   tell the test gain of repair, and how far selection Qual follows test Qual.
//!
//! ```
//! use repair_readiness::{rule_named, Alpha};
//! let rule = rule_named("best-repaired:3").unwrap();
//! assert_eq!(rule.name(), "best-repaired(p=3)");
//! assert!(Alpha::new(1.5).is_err());
//! ```
#![deny(missing_docs)]

mod cross_fit;
mod error;
mod evaluate;
#[cfg(feature = "plots")]
mod figures;
mod rule;
mod signal_table;
mod signals;

pub use cross_fit::{cross_fit, gain_shares, halvings, CrossFit, CrossFitOptions, GainShare};
pub use error::ReadinessError;
pub use evaluate::{
    evaluate, oracle, simulate, summarise, CaseResult, Pick, RuleOutcome, RuleSummary, GOOD_ENOUGH,
};
#[cfg(feature = "plots")]
pub use figures::{correlation_figure, picks_figure};
pub use rule::{
    rule_named, rule_of, BestRepaired, Converged, Decision, ReadinessRule, Saturated, Significant,
    Smoothed,
};
pub use signal_table::{
    correlations, signal_rows, tracking, Correlation, SignalPoint, SignalRow, Tracking,
    TrackingValue, SIGNALS, TREND_WINDOW,
};
pub use signals::{
    jaccard, relative_change, val_loss_trend, Accuracy, Alpha, EpochOutcome, EpochSignals,
    ImageCounts, RepairSeries, SeriesKey,
};
