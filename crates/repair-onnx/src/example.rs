//! A small seeded ONNX conv net built from candle-onnx's protobuf types — what the tests
//! write as "a user's model", and a template of the graphs this crate reads: images
//! (N, C, S, S) → Conv 3×3 (8 filters, pad 1) → Relu → MaxPool 2×2 → Flatten →
//! Gemm → logits, or with `MatMul` + `Add` in place of the Gemm, and an optional
//! Softmax after it.

use candle_onnx::onnx::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto, type_proto,
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};

/// How the example's last layer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExampleHead {
    /// `Gemm` with `transB = 1` (PyTorch's export of `nn.Linear`).
    GemmTorch,
    /// `MatMul` + `Add` (Keras / tf2onnx's export of `Dense`).
    MatMulAdd,
}

/// The conv net for `channels`-channel `side × side` images and `classes` classes,
/// weights from a seeded xorshift stream (no dependency needed for a fixture).
pub fn example_conv_net(
    channels: usize,
    side: usize,
    classes: usize,
    head: ExampleHead,
    softmax: bool,
    seed: u64,
) -> ModelProto {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = |scale: f32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
    };
    let filters = 8;
    let width = filters * (side / 2) * (side / 2);
    let mut values = |n: usize, scale: f32| (0..n).map(|_| uniform(scale)).collect::<Vec<f32>>();
    let conv_w = values(filters * channels * 9, 0.5);
    let conv_b = values(filters, 0.1);
    let dense_w = values(width * classes, 0.2);
    let dense_b = values(classes, 0.1);
    let mut nodes = vec![
        node(
            "Conv",
            &["x", "conv.w", "conv.b"],
            "conv",
            vec![ints("pads", &[1, 1, 1, 1]), ints("strides", &[1, 1])],
        ),
        node("Relu", &["conv"], "relu", vec![]),
        node(
            "MaxPool",
            &["relu"],
            "pool",
            vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])],
        ),
        node("Flatten", &["pool"], "features", vec![int("axis", 1)]),
    ];
    let (dense_dims, head_nodes) = match head {
        ExampleHead::GemmTorch => (
            vec![classes, width],
            vec![node(
                "Gemm",
                &["features", "dense.w", "dense.b"],
                "logits",
                vec![int("transB", 1)],
            )],
        ),
        ExampleHead::MatMulAdd => (
            vec![width, classes],
            vec![
                node("MatMul", &["features", "dense.w"], "product", vec![]),
                node("Add", &["product", "dense.b"], "logits", vec![]),
            ],
        ),
    };
    // The Keras-layout values are generated; the Gemm stores their transpose.
    let stored = match head {
        ExampleHead::GemmTorch => {
            let mut t = vec![0.0; dense_w.len()];
            for i in 0..width {
                for j in 0..classes {
                    t[j * width + i] = dense_w[i * classes + j];
                }
            }
            t
        }
        ExampleHead::MatMulAdd => dense_w,
    };
    nodes.extend(head_nodes);
    let mut output = "logits";
    if softmax {
        nodes.push(node(
            "Softmax",
            &["logits"],
            "probabilities",
            vec![int("axis", 1)],
        ));
        output = "probabilities";
    }
    let graph = GraphProto {
        name: "example".into(),
        node: nodes,
        initializer: vec![
            tensor("conv.w", &[filters, channels, 3, 3], &conv_w),
            tensor("conv.b", &[filters], &conv_b),
            tensor("dense.w", &dense_dims, &stored),
            tensor("dense.b", &[classes], &dense_b),
        ],
        input: vec![value("x", &[None, Some(channels), Some(side), Some(side)])],
        output: vec![value(output, &[None, Some(classes)])],
        ..GraphProto::default()
    };
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        producer_name: "repair-onnx example".into(),
        graph: Some(graph),
        ..ModelProto::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: output.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute,
        ..NodeProto::default()
    }
}

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: values.to_vec(),
        ..AttributeProto::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..AttributeProto::default()
    }
}

fn tensor(name: &str, dims: &[usize], values: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..TensorProto::default()
    }
}

fn value(name: &str, dims: &[Option<usize>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| tensor_shape_proto::Dimension {
            value: Some(match d {
                Some(v) => tensor_shape_proto::dimension::Value::DimValue(*v as i64),
                None => tensor_shape_proto::dimension::Value::DimParam("N".into()),
            }),
            ..tensor_shape_proto::Dimension::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..TypeProto::default()
        }),
        ..ValueInfoProto::default()
    }
}
