//! Particle-swarm optimisation with the study-exact Arachne preset (reference notes §3)
//! and an incremental last-layer fitness kernel.
//!
//! Planned (issue 4). This crate deliberately depends on no tensor library, so that it
//! stays a light import for other Rust projects.
#![deny(missing_docs)]
