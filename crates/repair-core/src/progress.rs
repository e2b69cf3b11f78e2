//! The progress observer of long work (argmin's observers, burn's renderer objects):
//! libraries report through it, the command line draws bars from it, and tests pass
//! [`NoProgress`]. No library draws anything itself.

/// Told how far a long piece of work has come. Every method has a no-op default.
pub trait Progress: Sync {
    /// A stage of `total` steps begins: `what` names it (`activations`, `epoch 3/30`,
    /// `search`).
    fn begin(&self, what: &str, total: u64) {
        let _ = (what, total);
    }

    /// `steps` more steps of the current stage are done; `status` is a short summary
    /// to show beside the bar (`loss 0.41 acc 0.87`, `best 54.3`).
    fn advance(&self, steps: u64, status: Option<&str>) {
        let _ = (steps, status);
    }

    /// The current stage ended.
    fn end(&self) {}

    /// A line worth keeping in the log (an epoch's summary).
    fn line(&self, text: &str) {
        let _ = text;
    }
}

/// Reports nothing: what tests and embedding programs pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
