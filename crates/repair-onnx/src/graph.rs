//! Where the last dense layer of an ONNX classifier is: the op that makes the graph's
//! one output (through an optional final `Softmax`) must be a `Gemm` or an `Add` of a
//! `MatMul` and a bias, with the weight and bias stored as initializers.

use std::collections::HashMap;

use candle_onnx::onnx::{GraphProto, ModelProto, NodeProto, TensorProto};
use repair_core::DenseLayer;
use repair_core::Layout;

/// The op of the last layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastOp {
    /// `Gemm(A, B, C)`; `trans_b`: B is (classes, width), PyTorch's layout.
    Gemm {
        /// The `transB` attribute.
        trans_b: bool,
    },
    /// `Add(MatMul(A, B), C)`, B (width, classes).
    MatMulAdd,
}

impl LastOp {
    /// The layout of its weight: (classes, width) for `Gemm` with `transB`, else
    /// (width, classes).
    pub fn layout(self) -> Layout {
        match self {
            LastOp::Gemm { trans_b: true } => Layout::Torch,
            _ => Layout::Keras,
        }
    }
}

/// The last dense layer of a graph.
#[derive(Debug, Clone, PartialEq)]
pub struct LastLayer {
    /// Which op.
    pub op: LastOp,
    /// The value the layer multiplies: the penultimate activations.
    pub input: String,
    /// The value it makes: the logits.
    pub logits: String,
    /// The weight's initializer.
    pub weight: String,
    /// The bias's initializer.
    pub bias: String,
    /// Whether a `Softmax` follows (the output is probabilities; repair works on logits).
    pub softmax: bool,
    /// The layer, Keras layout.
    pub layer: DenseLayer,
}

/// Finds the last layer of `model`; an error names the op that is in its place.
pub fn last_layer_of(model: &ModelProto) -> Result<LastLayer, String> {
    let graph = model.graph.as_ref().ok_or("no graph in the model")?;
    let [output] = &graph.output[..] else {
        return Err(format!(
            "the graph has {} outputs; an image classifier has one (its logits or probabilities)",
            graph.output.len()
        ));
    };
    let producer: HashMap<&str, &NodeProto> = graph
        .node
        .iter()
        .flat_map(|n| n.output.iter().map(move |o| (o.as_str(), n)))
        .collect();
    let made_by = |value: &str| {
        producer
            .get(value)
            .copied()
            .ok_or_else(|| format!("the value `{value}` is made by no node"))
    };
    let mut node = made_by(&output.name)?;
    let softmax = node.op_type == "Softmax";
    if softmax {
        node = made_by(first_input(node)?)?;
    }
    let initializer = |name: &str, role: &str| -> Result<&TensorProto, String> {
        graph
            .initializer
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| {
                format!(
                    "the {role} `{name}` of the last {} is computed, not stored: only a layer whose weights are initializers can be repaired",
                    node.op_type
                )
            })
    };
    let (op, input, weight, bias) = match node.op_type.as_str() {
        "Gemm" => {
            for (name, want) in [("alpha", 1.0), ("beta", 1.0)] {
                let value = attribute(node, name).map_or(1.0, |a| a.f);
                if value != want {
                    return Err(format!(
                        "the last Gemm `{}` has {name} = {value}; only alpha = beta = 1 is supported",
                        node.name
                    ));
                }
            }
            if attribute(node, "transA").is_some_and(|a| a.i != 0) {
                return Err(format!("the last Gemm `{}` has transA = 1; only 0 is supported", node.name));
            }
            let [a, b, c] = &node.input[..] else {
                return Err(format!(
                    "the last Gemm `{}` has {} inputs; a dense layer has 3 (A, B, C)",
                    node.name,
                    node.input.len()
                ));
            };
            let trans_b = attribute(node, "transB").is_some_and(|a| a.i != 0);
            (LastOp::Gemm { trans_b }, a.clone(), b.clone(), c.clone())
        }
        "Add" => {
            let [x, y] = &node.input[..] else {
                return Err(format!("the last Add `{}` has {} inputs", node.name, node.input.len()));
            };
            // One side a MatMul of the activations and a stored weight, the other the bias.
            let is_matmul = |v: &str| producer.get(v).is_some_and(|n| n.op_type == "MatMul");
            let (product, bias) = match (is_matmul(x), is_matmul(y)) {
                (true, false) => (x, y),
                (false, true) => (y, x),
                _ => {
                    return Err(format!(
                        "the last op is an Add (`{}`) but not of a MatMul and a bias",
                        node.name
                    ))
                }
            };
            let matmul = made_by(product)?;
            let [a, b] = &matmul.input[..] else {
                return Err(format!("the MatMul `{}` has {} inputs", matmul.name, matmul.input.len()));
            };
            (LastOp::MatMulAdd, a.clone(), b.clone(), bias.clone())
        }
        other => {
            return Err(format!(
                "the output comes from a `{other}` node (`{}`), not a Gemm or MatMul + Add: only a final dense layer (optionally followed by Softmax) can be repaired",
                node.name
            ))
        }
    };
    let (w, b) = (initializer(&weight, "weight")?, initializer(&bias, "bias")?);
    let layer = dense_layer(op, w, b)?;
    Ok(LastLayer {
        op,
        input,
        logits: node.output[0].clone(),
        weight,
        bias,
        softmax,
        layer,
    })
}

fn first_input(node: &NodeProto) -> Result<&str, String> {
    node.input
        .first()
        .map(String::as_str)
        .ok_or_else(|| format!("the {} `{}` has no input", node.op_type, node.name))
}

fn attribute<'a>(node: &'a NodeProto, name: &str) -> Option<&'a candle_onnx::onnx::AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

/// The f32 values of an initializer.
pub(crate) fn floats(t: &TensorProto) -> Result<Vec<f32>, String> {
    let tensor =
        candle_onnx::eval::get_tensor(t, &t.name).map_err(|e| format!("{}: {e}", t.name))?;
    tensor
        .to_dtype(candle_core::DType::F32)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(|e| format!("initializer `{}`: {e}", t.name))
}

/// The Keras-layout layer of the weight and bias initializers.
fn dense_layer(op: LastOp, w: &TensorProto, b: &TensorProto) -> Result<DenseLayer, String> {
    let dims: Vec<usize> = w.dims.iter().map(|&d| d as usize).collect();
    let [rows, columns] = dims[..] else {
        return Err(format!(
            "the weight `{}` has shape {dims:?}, not a matrix",
            w.name
        ));
    };
    op.layout()
        .layer(&floats(w)?, [rows, columns], floats(b)?)
        .map_err(|e| format!("the last layer (`{}`, `{}`): {e}", w.name, b.name))
}

/// The graph's one input that is not an initializer: the images.
pub(crate) fn image_input(graph: &GraphProto) -> Result<String, String> {
    let stored: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<&str> = graph
        .input
        .iter()
        .map(|i| i.name.as_str())
        .filter(|n| !stored.contains(n))
        .collect();
    match inputs[..] {
        [one] => Ok(one.to_string()),
        _ => Err(format!(
            "the graph has {} inputs besides its initializers ({inputs:?}); an image classifier has one",
            inputs.len()
        )),
    }
}
