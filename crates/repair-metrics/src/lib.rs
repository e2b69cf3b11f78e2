//! Metrics and pattern analysis: per-class and total accuracy, RR/BR,
//! Qual_α = α·Acc_cls + (1 − α)·Acc_total, convergence epoch, and the pre/post-convergence
//! pattern of each (run, class, α) (paper §2, reference notes §5.6).
//!
//! Planned (issue 6).
#![deny(missing_docs)]
