//! Reproducible, parallel differential evolution: the search of Arachne v2 (Sohn, Kang
//! and Yoo, TOSEM 2023; coinse/arachne `search/de_vk.py`), beside `repair-pso`'s swarm,
//! for the study's first open question — does early repair still win with another
//! optimiser? Like the swarm it knows only repair-pso's [`Objective`] trait and returns
//! repair-pso's [`SearchResult`], so a caller swaps one search for the other.
//!
//! * [`DeConfig`]: DE/rand/1/bin as data; [`DeConfig::arachne`] is Arachne v2's preset
//!   (population 100, 100 generations, F ~ U(0.5, 1) per generation, CR 0.7 with one
//!   forced coordinate, the first population ~ Normal(mean, std) of the layer, mutants
//!   clipped to the layer's widened range, a trial kept when it scores ≥ its target,
//!   stop after max(10, generations/10) generations without a change of the best as
//!   `f32`).
//! * [`evolve`]: the search. Every draw is a function of (seed, individual, generation),
//!   and trials are scored together after the draws, so a seed gives the same search on
//!   any number of threads.
//!
//! Where this departs from `de_vk.py`: its generator is NumPy's global state; here each
//! (individual, generation) has its own counter-based stream, which is what makes a
//! search independent of the thread count. The algorithm is the same.
//!
//! ```
//! use repair_de::{evolve, DeConfig, DeInit};
//!
//! // Maximise −Σ (x_d − d)²: the best position is (0, 1, 2).
//! let objective = |x: &[f64]| -x.iter().enumerate().map(|(d, v)| (v - d as f64).powi(2)).sum::<f64>();
//! let config = DeConfig {
//!     population: 30,
//!     generations: 300,
//!     f_min: 0.5,
//!     f_max: 1.0,
//!     crossover: 0.7,
//!     lower: vec![-5.0; 3],
//!     upper: vec![5.0; 3],
//!     init: DeInit::Normal { mean: 0.0, std: 1.0 },
//!     stall: None,
//!     seed: 7,
//! };
//! let result = evolve(&config, &objective)?;
//! assert!(result.best_score > -1e-6, "{}", result.best_score);
//! # Ok::<(), repair_de::DeError>(())
//! ```
#![deny(missing_docs)]

mod config;
mod error;
mod evolve;

pub use config::{DeConfig, DeInit};
pub use error::DeError;
pub use evolve::evolve;
pub use repair_pso::{Objective, SearchResult, Termination};
