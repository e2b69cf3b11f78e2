//! What an experiment folder says, read from the files `repair-experiment` writes:
//!
//! * [`write_report`]: Qual_α of every repair, the early/late patterns, Table 1 with its
//!   paired statistics, and the figures, from any `repairs.csv` (the study's ten
//!   columns suffice); [`StudyReport`] is the experiment's report stage;
//! * [`verify_experiment`]: a finished folder checked against its config (a row per
//!   run × checkpoint × class, Qual recomputed, Table 1 counts, checkpoints, figures);
//! * [`readiness_series`] / [`write_readiness`]: the repair-readiness evaluation of a
//!   dense experiment (the `repair_readiness` rules against the oracle and `converged`).
//!
//! ```
//! use std::path::Path;
//!
//! use repair_core::defaults::PAPER_ALPHAS;
//! use repair_core::{IncompletePolicy, TiePolicy};
//! use repair_report::{write_report, ReportOptions};
//!
//! let options = ReportOptions {
//!     alphas: PAPER_ALPHAS.to_vec(),
//!     ties: TiePolicy::Post,
//!     incomplete: IncompletePolicy::Mark,
//! };
//! // A report reads at least one `repairs.csv`.
//! let refused = write_report(&[], &options, Path::new("report")).unwrap_err();
//! assert_eq!(refused.to_string(), "no repairs.csv to report on");
//! ```
#![deny(missing_docs)]

mod readiness_report;
mod study_report;
mod verify;
mod verify_files;

pub use readiness_report::{
    readiness_folder, readiness_series, write_readiness, ReadinessOptions, ReadinessSummary,
};
pub use study_report::{
    write_report, ReportOptions, ReportSummary, StudyReport, VARIANCE_CSV, WARNINGS_CSV,
};
pub use verify::{verify_experiment, Verified};
