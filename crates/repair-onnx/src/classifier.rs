//! An ONNX classifier as the repair sees it: images in, penultimate activations and
//! logits out, and the graph written again with a new last layer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use candle_onnx::onnx::{tensor_proto::DataType, ModelProto, ValueInfoProto};
use prost::Message;
use repair_core::DenseLayer;

use crate::error::OnnxError;
use crate::graph::{image_input, last_layer_of, LastLayer};
use crate::preprocess::Preprocess;

/// A loaded ONNX image classifier with a repairable last layer.
#[derive(Debug, Clone)]
pub struct OnnxClassifier {
    path: PathBuf,
    model: ModelProto,
    /// The model with the penultimate activations and the logits as its outputs.
    probe: ModelProto,
    last: LastLayer,
    input: String,
}

impl OnnxClassifier {
    /// Reads `path` and finds its last layer; an unsupported graph is an error naming
    /// the op.
    pub fn load(path: &Path) -> Result<Self, OnnxError> {
        let fail = |problem: String| OnnxError::File {
            path: path.to_path_buf(),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let model = ModelProto::decode(bytes.as_slice())
            .map_err(|e| fail(format!("not an ONNX model: {e}")))?;
        let last = last_layer_of(&model).map_err(&fail)?;
        let graph = model.graph.as_ref().expect("last_layer_of checked");
        check_wiring(graph).map_err(&fail)?;
        let input = image_input(graph).map_err(&fail)?;
        let mut probe = model.clone();
        let outputs = &mut probe.graph.as_mut().expect("a graph").output;
        outputs.clear();
        for name in [&last.input, &last.logits] {
            outputs.push(ValueInfoProto {
                name: name.clone(),
                ..ValueInfoProto::default()
            });
        }
        Ok(OnnxClassifier {
            path: path.to_path_buf(),
            model,
            probe,
            last,
            input,
        })
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last layer (Keras layout) and where it is in the graph.
    pub fn last_layer(&self) -> &LastLayer {
        &self.last
    }

    /// Penultimate activations (N × D, row-major) and logits (N × C) of `n` images of
    /// `channels` channels (H × W × C interleaved 0..=255 pixels), through `preprocess`.
    pub fn run(
        &self,
        pixels: &[u8],
        n: usize,
        channels: usize,
        preprocess: &Preprocess,
    ) -> Result<(Vec<f32>, Vec<f32>), OnnxError> {
        let fail = |problem: String| OnnxError::File {
            path: self.path.clone(),
            problem,
        };
        let shape = preprocess.shape(n, channels);
        let input = Tensor::from_vec(preprocess.apply(pixels, channels), &shape, &Device::Cpu)
            .map_err(|e| fail(format!("input of shape {shape:?}: {e}")))?;
        // candle-onnx indexes a node's inputs without checking them, so a node that lacks
        // one panics inside the evaluator: that is this file's fault, reported as such.
        let inputs = HashMap::from([(self.input.clone(), input)]);
        let evaluated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            candle_onnx::simple_eval(&self.probe, inputs)
        }))
        .map_err(|panic| {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            fail(format!(
                "the ONNX evaluator failed on this graph (a node lacking an input or \
                 attribute it needs?): {why}"
            ))
        })?;
        let mut outputs =
            evaluated.map_err(|e| fail(format!("running the model on {shape:?} images: {e}")))?;
        let (width, classes) = (self.last.layer.width, self.last.layer.classes);
        let mut take = |name: &str, columns: usize, what: &str| -> Result<Vec<f32>, OnnxError> {
            let t = outputs
                .remove(name)
                .ok_or_else(|| fail(format!("the model gave no `{name}`")))?;
            if t.dims() != [n, columns] {
                return Err(fail(format!(
                    "the {what} `{name}` has shape {:?}, expected [{n}, {columns}]",
                    t.dims()
                )));
            }
            t.to_dtype(candle_core::DType::F32)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| fail(format!("`{name}`: {e}")))
        };
        let activations = take(&self.last.input, width, "penultimate value")?;
        let logits = take(&self.last.logits, classes, "logits")?;
        if let Some(at) = activations.iter().position(|v| !v.is_finite()) {
            return Err(fail(format!(
                "penultimate activation {} of image {} is {}",
                at % width,
                at / width,
                activations[at]
            )));
        }
        Ok((activations, logits))
    }

    /// The model with `layer` (Keras layout, the last layer's shape) written into its
    /// weight and bias initializers, in their own layout; everything else unchanged.
    pub fn with_layer(&self, layer: &DenseLayer) -> Result<ModelProto, OnnxError> {
        let old = &self.last.layer;
        if (layer.width, layer.classes) != (old.width, old.classes) {
            return Err(OnnxError::File {
                path: self.path.clone(),
                problem: format!(
                    "a {} × {} layer cannot replace the {} × {} last layer",
                    layer.width, layer.classes, old.width, old.classes
                ),
            });
        }
        let mut model = self.model.clone();
        let graph = model.graph.as_mut().expect("a graph");
        let matrix = self.last.op.layout().matrix(layer);
        for t in graph.initializer.iter_mut() {
            let values = if t.name == self.last.weight {
                &matrix
            } else if t.name == self.last.bias {
                &layer.bias
            } else {
                continue;
            };
            t.data_type = DataType::Float as i32;
            t.float_data.clear();
            t.raw_data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        }
        Ok(model)
    }

    /// Writes [`OnnxClassifier::with_layer`] to `path`, atomically.
    pub fn write_with_layer(&self, layer: &DenseLayer, path: &Path) -> Result<(), OnnxError> {
        let bytes = encode_model(&self.with_layer(layer)?);
        repair_core::write_atomic(path, &bytes).map_err(|e| OnnxError::File {
            path: path.to_path_buf(),
            problem: e.to_string(),
        })
    }
}

/// The ONNX (protobuf) bytes of `model`.
pub fn encode_model(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

/// Every input a node names is a graph input, an initializer or an output of a node
/// before it (ONNX graphs are in topological order); empty names are optional inputs
/// left out.
fn check_wiring(graph: &candle_onnx::onnx::GraphProto) -> Result<(), String> {
    let mut known: std::collections::HashSet<&str> = graph
        .input
        .iter()
        .map(|v| v.name.as_str())
        .chain(graph.initializer.iter().map(|t| t.name.as_str()))
        .collect();
    for (k, node) in graph.node.iter().enumerate() {
        if let Some(missing) = node
            .input
            .iter()
            .find(|name| !name.is_empty() && !known.contains(name.as_str()))
        {
            return Err(format!(
                "node {k} ({} `{}`) reads `{missing}`, which no graph input, initializer \
                 or earlier node gives",
                node.op_type, node.name
            ));
        }
        known.extend(node.output.iter().map(String::as_str));
    }
    Ok(())
}
