//! Convergence as the paper defines it: the epoch of the lowest validation loss. (The
//! study's code repaired the last saved checkpoint instead; with its frozen learning
//! rate the two were practically the same model: its `dataset/train.py`.)

use serde::{Deserialize, Serialize};

/// The epoch with the lowest validation loss; the first on ties. `None` when empty or
/// when every loss is NaN.
pub fn converged_epoch(val_loss: &[(usize, f64)]) -> Option<usize> {
    val_loss
        .iter()
        .filter(|(_, l)| !l.is_nan())
        .fold(None, |best: Option<(usize, f64)>, &(e, l)| match best {
            Some((_, b)) if b <= l => best,
            _ => Some((e, l)),
        })
        .map(|(e, _)| e)
}

/// Where a checkpoint lies relative to convergence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before the converged epoch.
    Before,
    /// The converged epoch itself.
    At,
    /// After it (repaired only on request).
    After,
}

/// The phase of `epoch` for a run that converged at `converged`.
pub fn phase(epoch: usize, converged: usize) -> Phase {
    match epoch.cmp(&converged) {
        std::cmp::Ordering::Less => Phase::Before,
        std::cmp::Ordering::Equal => Phase::At,
        std::cmp::Ordering::Greater => Phase::After,
    }
}
