//! The seam between a model family and [`crate::Model`]: everything up to the
//! penultimate activations. Each architecture file implements it; `model.rs` only
//! holds boxes of it, so the two never import each other.

use candle_core::Tensor;

/// Everything up to (and including) the penultimate activations.
pub(crate) trait Backbone: Send + Sync {
    /// (N, C, H, W) images → (N, D) penultimate activations.
    fn features(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor>;
}
