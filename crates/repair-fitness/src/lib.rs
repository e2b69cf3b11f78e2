//! The repair objective of Arachne on the last dense layer, over cached penultimate
//! activations and plain `f32` slices (no tensor library):
//!
//! fitness = (N_patched + 1)/(L_neg + 1) + (N_intact + 1)/(L_pos + 1)
//!
//! where N counts the negatives now correct (patched) and the positives still correct
//! (intact), and L is the mean cross-entropy of each set (the study's Arachne,
//! `arachne.py` of the early-repair code, lines 764-765), by default unclipped from the
//! logits as the study's Keras computes it ([`repair_core::CrossEntropy`]; the probability
//! clip is `CrossEntropy::Clipped`).
//!
//! * [`RepairProblem`]: the layer, the two sets of rows and the localised sites — what
//!   fault localisation hands to a search.
//! * [`ArachneFitness`]: the hot loop, O(rows × (sites + touched columns)) per position,
//!   vectorised across rows (AVX-512 / AVX2 / baseline chosen at run time).
//! * [`FullFitness`]: the plain full recompute, the oracle the incremental form is
//!   tested against.
//! * [`RegressionControlled`]: Arachne's fitness with a price per broken positive (the
//!   `history` method's regression control, after NeuRecover).
//!
//! Both implement [`repair_pso::Objective`]: this crate is the seam where a search
//! method (PSO today) meets the repair problem, and the search knows nothing of it.
//!
//! ```
//! use repair_core::{DenseLayer, LabelledActivations, Site};
//! use repair_fitness::{ArachneFitness, RepairProblem};
//! use repair_pso::{run, PsoConfig};
//!
//! // Two penultimate units, two classes; the one negative (label 1) is misclassified.
//! let problem = RepairProblem {
//!     layer: DenseLayer::new(2, 2, vec![1.0, 0.0, 0.0, 0.5], vec![0.0, 0.0])?,
//!     negatives: LabelledActivations { activations: vec![1.0, 1.0], labels: vec![1] },
//!     positives: LabelledActivations { activations: vec![1.0, 0.0], labels: vec![0] },
//!     sites: vec![Site { i: 1, j: 1 }],
//! };
//! let fitness = ArachneFitness::new(&problem)?;
//! let config = PsoConfig::arachne(problem.current(), problem.layer_scale(), 7);
//! let result = run(config, &fitness).expect("a valid search");
//! let detail = fitness.evaluate(&result.best_position)?;
//! assert_eq!((detail.n_patched, detail.n_intact), (1, 1));
//! # Ok::<(), repair_core::ProblemError>(())
//! ```
#![deny(missing_docs)]

mod fastmath;
mod full;
mod incremental;
mod problem;
mod regression;
mod softmax;
mod synthetic;

pub use full::FullFitness;
pub use incremental::ArachneFitness;
pub use problem::{FitnessDetail, RepairProblem};
pub use regression::RegressionControlled;
pub use synthetic::SyntheticSpec;
