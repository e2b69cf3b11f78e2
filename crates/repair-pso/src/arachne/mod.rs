//! The study's repair objective on the last dense layer (reference notes §3.4):
//! fitness = (N_patched + 1)/(L_neg + 1) + (N_intact + 1)/(L_pos + 1), over cached
//! penultimate activations, in a plain full-recompute form (the test oracle) and an
//! incremental form (the hot loop).

mod fastmath;
mod full;
mod incremental;
mod problem;
mod softmax;
mod synthetic;

pub use full::FullFitness;
pub use incremental::ArachneFitness;
pub use problem::{check_layer, FitnessDetail, RepairProblem, Rows, Site};
pub use softmax::{first_argmax, logits};
pub use synthetic::SyntheticSpec;
