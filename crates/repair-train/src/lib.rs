//! Trainer: SGD with momentum 0.9, lr 1e-2 decayed ×0.1 every 10 epochs, batch 128,
//! early stopping on validation loss (patience 5), checkpoints every 5 epochs and at
//! convergence, resumable.
//!
//! Planned (issue 3); the study code's quirks (lr 1e-4, compounding decay, reference
//! notes §5.4) will be documented options.
#![deny(missing_docs)]
