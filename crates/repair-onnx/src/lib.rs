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
pub use preprocess::Preprocess;

/// Whether this build reads ONNX models (the `onnx` feature).
pub const ENABLED: bool = cfg!(feature = "onnx");
