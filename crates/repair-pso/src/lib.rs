//! Reproducible, parallel particle-swarm optimisation (PSO), with the study-exact
//! Arachne search as a preset and the Arachne last-layer repair fitness as a fast,
//! incremental kernel.
//!
//! * [`Objective`]: what you maximise (one required method; closures qualify).
//! * [`PsoConfig`]: the search as serde data. [`PsoConfig::arachne`] is the search of
//!   the early-repair study (Arachne v1 as re-implemented by jst-qaml; φ = 4.1
//!   constriction, r1, r2 ~ U(0, φ) per particle, position moved before the velocity
//!   update, minimum and maximum speeds, …); [`PsoConfig::canonical`] is textbook
//!   Clerc–Kennedy PSO. Every quirk of the former is a field, so they can be switched
//!   one at a time.
//! * [`run`] / [`run_with`] drive a [`Swarm`]; an [`Observer`] sees every iteration and
//!   can checkpoint [`SwarmState`], which [`Swarm::resume`] continues exactly.
//! * [`RepairProblem`], [`ArachneFitness`] (incremental) and [`FullFitness`] (plain
//!   recompute, the test oracle): (N_patched + 1)/(L_neg + 1) + (N_intact + 1)/(L_pos
//!   + 1) over cached penultimate activations.
//!
//! Every random draw is a function of (seed, particle, iteration) ([`particle_rng`]),
//! and particles are scored in parallel only after all draws are made, so a seed gives
//! the same search on any number of threads.
//!
//! # Example: your own objective
//!
//! ```
//! use repair_pso::{run, PsoConfig};
//!
//! // Maximise −Σ (x_d − d)²: the best position is (0, 1, 2).
//! let objective = |x: &[f64]| -x.iter().enumerate().map(|(d, v)| (v - d as f64).powi(2)).sum::<f64>();
//! let config = PsoConfig {
//!     particles: 30,
//!     iterations: 200,
//!     stall: None, // run all 200 iterations
//!     ..PsoConfig::canonical(vec![0.0; 3], 1.0, 42)
//! };
//! let result = run(config, &objective)?;
//! assert!(result.best_score > -1e-6, "{}", result.best_score);
//! assert!((result.best_position[2] - 2.0).abs() < 1e-3);
//! # Ok::<(), repair_pso::PsoError>(())
//! ```
//!
//! # Example: an Arachne repair search
//!
//! ```
//! use repair_pso::{run, ArachneFitness, PsoConfig, RepairProblem, Rows, Site};
//!
//! // Two penultimate units, two classes; the one negative (label 1) is misclassified.
//! let problem = RepairProblem {
//!     width: 2,
//!     classes: 2,
//!     kernel: vec![1.0, 0.0, 0.0, 0.5], // W[i][j], i = unit, j = class
//!     bias: vec![0.0, 0.0],
//!     negatives: Rows { activations: vec![1.0, 1.0], labels: vec![1] },
//!     positives: Rows { activations: vec![1.0, 0.0], labels: vec![0] },
//!     sites: vec![Site { i: 1, j: 1 }],
//! };
//! let fitness = ArachneFitness::new(&problem).unwrap();
//! let config = PsoConfig::arachne(problem.current(), problem.layer_scale(), 7);
//! let result = run(config, &fitness)?;
//! let detail = fitness.evaluate(&result.best_position).unwrap();
//! assert_eq!((detail.n_patched, detail.n_intact), (1, 1));
//! # Ok::<(), repair_pso::PsoError>(())
//! ```
#![deny(missing_docs)]

mod arachne;
mod config;
mod error;
mod objective;
mod rng;
mod run;
mod swarm;

pub use arachne::{
    check_layer, first_argmax, logits, ArachneFitness, FitnessDetail, FullFitness, RepairProblem,
    Rows, Site, SyntheticSpec,
};
pub use config::{
    constriction, BestSharing, BoundaryPolicy, Bounds, Coefficients, Improvement, Init, LayerScale,
    PsoConfig, Randomness, SpeedLimits, Stall, Topology, UpdateOrder, ZeroVelocity,
};
pub use error::{ProblemError, PsoError};
pub use objective::Objective;
pub use rng::particle_rng;
pub use run::{run, run_with, Observer, SearchResult};
pub use swarm::{IterationRecord, Swarm, SwarmState, Termination};
