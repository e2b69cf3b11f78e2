//! The narrow [`Classifier`] trait: everything repair, fault localisation and metrics
//! need from a model, nothing more.

use std::path::Path;

use candle_core::{Device, Tensor, Var};
use repair_core::DenseLayer;

use crate::error::Result;

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

    /// The device its weights live on.
    fn device(&self) -> &Device;

    /// The parameters an optimiser updates (batch-norm running statistics excluded),
    /// sorted by name so that optimiser state has a stable order.
    fn trainable_vars(&self) -> Vec<(String, Var)>;

    /// A copy of the last layer's weights as `f32` in Keras layout: the transpose of
    /// the (classes, D) candle / PyTorch `Linear` weight, so Keras W_ij is
    /// `weight[j][i]` of the model.
    fn last_layer(&self) -> Result<DenseLayer>;

    /// Replaces the last layer's weights (same width and classes; checked).
    fn set_last_layer(&self, layer: &DenseLayer) -> Result<()>;

    /// Writes every weight (and batch-norm statistic) as safetensors, atomically.
    fn save(&self, path: &Path) -> Result<()>;

    /// Writes the model as [`Classifier::save`] does, with `layer` in place of its last
    /// layer (checked as [`Classifier::set_last_layer`] checks it): a repaired model's
    /// file, the model itself unchanged.
    fn save_with_last_layer(&self, layer: &DenseLayer, path: &Path) -> Result<()>;

    /// Reads weights written by [`Classifier::save`] for the same model; a missing or
    /// mis-shaped tensor is an error naming the file and tensor.
    fn load(&self, path: &Path) -> Result<()>;
}
