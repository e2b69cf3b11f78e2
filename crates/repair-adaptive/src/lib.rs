//! Adaptive search-based repair of the last dense layer (Li Calsi, Duran, Zhang, Arcaini
//! and Ishikawa, "Adaptive Search-Based Repair of Deep Neural Networks", GECCO '23;
//! jst-qaml/adaptiveRepair): the search starts on the fault-localised sites, and when it
//! stagnates, fault localisation runs again on the best layer so far and the search
//! continues on the new sites, keeping the weights already changed.
//!
//! It drives the other crates through their seams only — a [`repair_fl::FaultLocaliser`]
//! for the sites, [`repair_fitness::ArachneFitness`] for the score, and
//! `repair-pso`'s swarm — on plain `f32` activations, like the rest of the repair core.
//!
//! * [`AdaptiveConfig`]: window w, threshold τ, most phases, the iteration budget.
//! * [`adaptive_repair`]: the search; [`AdaptiveResult`] keeps every phase (its sites,
//!   why it ended) and every iteration with its phase.
//! * [`next_sets`]: the repair sets a phase hands to the next.
//!
//! ```
//! use repair_adaptive::AdaptiveConfig;
//!
//! // Li Calsi et al.'s defaults: w = 10, τ = 0.005, at most 10 localisations.
//! let config = AdaptiveConfig::default();
//! assert_eq!((config.window, config.max_phases), (10, 10));
//! assert!(AdaptiveConfig { window: 0, ..config }.validate().is_err());
//! ```
#![deny(missing_docs)]

mod config;
mod error;
mod search;
mod sets;

pub use config::AdaptiveConfig;
pub use error::AdaptiveError;
pub use search::{
    adaptive_repair, phase_seed, AdaptiveProblem, AdaptiveResult, AdaptiveStop, PhaseEnd,
    PhaseRecord, SwarmFor,
};
pub use sets::next_sets;
