//! Reproducible, parallel particle-swarm optimisation (PSO), with the study-exact
//! Arachne search as a preset. A pure optimiser, as argmin's solvers are: it knows only
//! the [`Objective`] trait. The Arachne repair fitness that it searches in early-repair
//! lives in the `repair-fitness` crate, which implements that trait.
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
#![deny(missing_docs)]

mod config;
mod error;
mod objective;
mod rng;
mod run;
mod swarm;

pub use config::{
    constriction, BestSharing, BoundaryPolicy, Bounds, Coefficients, Improvement, Init, LayerScale,
    PsoConfig, Randomness, SpeedLimits, Stall, Topology, UpdateOrder, ZeroVelocity,
};
pub use error::PsoError;
pub use objective::Objective;
pub use rng::particle_rng;
pub use run::{run, run_with, Observer, SearchResult};
pub use swarm::{IterationRecord, Swarm, SwarmState, Termination};
