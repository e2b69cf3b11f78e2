//! The narrow [`Classifier`] trait: everything repair, fault localisation and metrics
//! need from a model, nothing more.

use std::path::Path;

use candle_core::Tensor;

use crate::error::Result;

/// The last dense layer: `logits = a · Wᵀ + b` for penultimate activations `a`.
///
/// `weight` has the candle / PyTorch layout **(classes, D)**; the study's Keras kernel
/// is its transpose (D, classes), so Keras weight (i, j) is `weight[j][i]` here.
#[derive(Debug, Clone)]
pub struct LastLayer {
    /// (classes, D) `f32`.
    pub weight: Tensor,
    /// (classes) `f32`.
    pub bias: Tensor,
}

/// A trained or training image classifier whose last layer can be read and replaced.
pub trait Classifier {
    /// Short model name (`cnn-s`, `vgg16`, ...).
    fn name(&self) -> &str;

    /// Number of classes (width of the logits).
    fn num_classes(&self) -> usize;

    /// Logits (N, classes) for images (N, C, H, W). `train` switches dropout and batch
    /// statistics (batch norm updates its running statistics in training mode).
    fn logits(&self, images: &Tensor, train: bool) -> Result<Tensor>;

    /// The input of the last dense layer, (N, D).
    fn penultimate(&self, images: &Tensor, train: bool) -> Result<Tensor>;

    /// A copy of the last layer's weights.
    fn last_layer(&self) -> Result<LastLayer>;

    /// Replaces the last layer's weights (same shapes; checked).
    fn set_last_layer(&self, layer: &LastLayer) -> Result<()>;

    /// Writes every weight (and batch-norm statistic) as safetensors, atomically.
    fn save(&self, path: &Path) -> Result<()>;

    /// Reads weights written by [`Classifier::save`] for the same model; a missing or
    /// mis-shaped tensor is an error naming the file and tensor.
    fn load(&self, path: &Path) -> Result<()>;
}
