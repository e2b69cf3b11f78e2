//! One repair of a classifier's last layer, by method, on plain `f32` activations.
//!
//! [`repair_layer`] is the study's unit of work on a checkpoint's cached repair set:
//! the repair sets and the positives (the study's `sample_from_file`), then [`solve`]
//! (FL and the search of the configured method: the study's Arachne PSO, Arachne v2's
//! DE, Li Calsi et al.'s adaptive repair, or the NeuRecover-like history method), then
//! RR and BR on the whole repair set. [`solve`] alone is what a user with their own
//! negatives and positives calls (`xtask repair --problem`, the Python package).
//!
//! No tensor library: the pipeline (candle) gives it activations, the Python package
//! numpy arrays.
//!
//! ```
//! use repair_core::{NoProgress, RepairRequest};
//! use repair_fitness::{RepairProblem, SyntheticSpec};
//! use repair_method::{solve, RepairSettings, Sets};
//!
//! // A seeded problem: a 16-wide layer, 4 classes, its faulty weights at 4 sites.
//! let problem = RepairProblem::synthetic(SyntheticSpec {
//!     width: 16, classes: 4, negatives: 10, positives: 40, sites: 4, columns: 2, seed: 1,
//! });
//! let request = RepairRequest { particles: 10, iterations: 5, ..RepairRequest::study(0, 1) };
//! let settings = RepairSettings::requested(&request)?;
//! let sets = Sets { negatives: problem.negatives.clone(), positives: problem.positives.clone() };
//! let solved = solve(&problem.layer, sets, Some(problem.sites.clone()), &settings, None, &NoProgress)?;
//! assert_eq!(solved.sites, problem.sites);
//! assert_eq!(solved.score.evaluations, 10 * 6); // the first swarm, then 5 iterations
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod error;
mod outcome;
mod problem_file;
mod repair;
mod sampling;
mod settings;
mod solve;

pub use error::{MethodError, Result};
pub use outcome::{RepairOutcome, Timings, WeightChange};
pub use problem_file::{
    layer_bytes, problem_bytes, problem_tensors_path, read_problem, ProblemFile,
};
pub use repair::{first_repeated, repair_layer, repair_layer_with};
pub use settings::{LocaliserChoice, RepairSettings, Strategy};
pub use solve::{predict, solve, RepairScore, Sets, Solved};
