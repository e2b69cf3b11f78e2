//! ONNX image classifiers for repair: any ONNX model whose output comes from
//! a final `Gemm` (or `MatMul` + `Add`), optionally followed by a `Softmax`, run by
//! `candle-onnx`'s evaluator. `OnnxClassifier` gives the penultimate activations (the
//! input of that last op) and the last layer in Keras layout, and writes the same graph
//! with the repaired initializers (`repaired.onnx`). A graph of any other shape is an
//! error naming the op.
//!
//! Behind the `onnx` feature: `candle-onnx`'s protobuf build needs `protoc` (`apt-get
//! install protobuf-compiler`), which a fresh machine lacks, so the default build leaves
//! it out, as repair-data does candle-datasets. Measured on 2 cores from empty target
//! folders: `cargo build -p xtask` 554 s, with `--features onnx` 604 s (~40 crates,
//! +50 s); turning the feature on in a built tree rebuilds candle (3 min 20 s).
//!
//! [`Preprocess`] (how the pixels reach the model) is in every build:
//!
//! ```
//! use repair_onnx::Preprocess;
//!
//! // PyTorch's ImageNet normalisation, for a 3-channel model of 32 × 32 inputs.
//! let p = Preprocess {
//!     height: 32,
//!     width: 32,
//!     scale: 1.0 / 255.0,
//!     mean: vec![0.485, 0.456, 0.406],
//!     std: vec![0.229, 0.224, 0.225],
//!     nhwc: false,
//! };
//! assert!(p.validate(3).is_ok());
//! let e = p.validate(1).unwrap_err().to_string();
//! assert!(e.contains("3 values for 1 channels"));
//! ```
#![deny(missing_docs)]

#[cfg(feature = "onnx")]
mod classifier;
#[cfg(feature = "onnx")]
mod error;
#[cfg(feature = "onnx")]
mod example;
#[cfg(feature = "onnx")]
mod graph;
mod preprocess;
#[cfg(all(test, feature = "onnx"))]
mod tests;

#[cfg(feature = "onnx")]
pub use candle_onnx::onnx as proto;
#[cfg(feature = "onnx")]
pub use classifier::{encode_model, OnnxClassifier};
#[cfg(feature = "onnx")]
pub use error::OnnxError;
#[cfg(feature = "onnx")]
pub use example::{example_conv_net, ExampleHead};
#[cfg(feature = "onnx")]
pub use graph::{last_layer_of, LastLayer, LastOp};
pub use preprocess::{BadPreprocess, Preprocess};

/// Whether this build reads ONNX models (the `onnx` feature).
pub const ENABLED: bool = cfg!(feature = "onnx");
