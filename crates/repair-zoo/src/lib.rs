//! Model zoo: candle image classifiers whose last dense layer can be read and replaced.
//!
//! * [`Classifier`] is the narrow trait repair, fault localisation and metrics use:
//!   logits, penultimate activations (the input of the last dense layer), the last
//!   layer's W and b, and safetensors save / load.
//! * [`build_model`] builds a [`Model`] by name from a [`ModelSpec`]: `cnn-s`, `cnn-m`
//!   (small CPU CNNs), `vgg16` (the study's GTSRB model, its `model/vgg16/model.py`) and
//!   `densenet121` (the study's RSNA model). Initial weights are drawn from the spec's
//!   seed, independently of candle's unseedable CPU generator.
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use repair_zoo::{build_model, Classifier, ModelSpec};
//! # fn main() -> Result<(), repair_zoo::ZooError> {
//! let spec = ModelSpec { arch: repair_core::Arch::CnnS, input: (3, 32, 32), num_classes: 43, seed: 1 };
//! let model = build_model(&spec, &Device::Cpu)?;
//! let images = Tensor::zeros((2, 3, 32, 32), candle_core::DType::F32, &Device::Cpu)?;
//! assert_eq!(model.logits(&images, false)?.dims(), &[2, 43]);
//! assert_eq!(model.penultimate(&images, false)?.dims(), &[2, 256]);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod backbone;
mod classifier;
mod cnn;
mod conv;
mod densenet;
mod error;
pub mod fast_conv;
mod model;
mod pool;
mod seeded;
mod vgg;

#[cfg(test)]
mod tests;

pub use classifier::Classifier;
pub use conv::ConvBackend;
pub use error::{Result, ZooError};
pub use model::{build_model, build_model_with, BuildOptions, Model, ModelSpec};
pub use pool::{avg_pool2, max_pool2, max_pool_strided};
