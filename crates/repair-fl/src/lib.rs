//! Fault localisation on the last layer, Arachne v1 style: gradient loss × forward
//! impact, Pareto front (reference notes §2).
//!
//! Planned (issue 5). Works on plain `f32` slices of cached penultimate activations and
//! knows nothing of training.
#![deny(missing_docs)]
