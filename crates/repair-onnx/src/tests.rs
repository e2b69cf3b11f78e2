//! The example conv net through the classifier: the layer found where it is, the
//! activations are what that layer multiplies, a repaired layer written back gives the
//! repaired weights' logits, and unsupported graphs are named.

use prost::Message;
use repair_core::DenseLayer;

use crate::example::{example_conv_net, ExampleHead};
use crate::{OnnxClassifier, Preprocess};

fn preprocess(side: usize) -> Preprocess {
    Preprocess {
        height: side,
        width: side,
        scale: 1.0 / 255.0,
        mean: vec![0.5],
        std: vec![0.25],
        nhwc: false,
    }
}

fn pixels(n: usize, per_image: usize) -> Vec<u8> {
    (0..n * per_image).map(|k| (k * 37 % 256) as u8).collect()
}

/// b + a·W per row, in f64 then rounded (as the repair's own logits).
fn logits_of(layer: &DenseLayer, activations: &[f32]) -> Vec<f32> {
    let (d, c) = (layer.width, layer.classes);
    activations
        .chunks_exact(d)
        .flat_map(|a| {
            (0..c).map(move |j| {
                let dot: f64 = (0..d)
                    .map(|i| f64::from(a[i]) * f64::from(layer.kernel[i * c + j]))
                    .sum();
                (dot + f64::from(layer.bias[j])) as f32
            })
        })
        .collect()
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-4 * (1.0 + y.abs()))
}

#[test]
fn the_repaired_file_gives_the_repaired_weights_logits_for_both_heads() {
    let dir = tempfile::tempdir().unwrap();
    for (head, softmax) in [
        (ExampleHead::GemmTorch, false),
        (ExampleHead::MatMulAdd, true),
    ] {
        let path = dir.path().join("model.onnx");
        let model = example_conv_net(1, 8, 3, head, softmax, 5);
        std::fs::write(&path, model.encode_to_vec()).unwrap();
        let onnx = OnnxClassifier::load(&path).unwrap();
        let last = onnx.last_layer();
        assert_eq!(
            (last.layer.width, last.layer.classes, last.softmax),
            (8 * 4 * 4, 3, softmax)
        );
        assert_eq!(last.input, "features");
        let (activations, logits) = onnx.run(&pixels(5, 64), 5, 1, &preprocess(8)).unwrap();
        assert!(
            close(&logits, &logits_of(&last.layer, &activations)),
            "{head:?}"
        );
        // A changed layer, written back and read again.
        let mut repaired = last.layer.clone();
        repaired.kernel[7] += 0.5;
        repaired.kernel[100] -= 0.25;
        repaired.bias[2] += 0.1;
        let out = dir.path().join("repaired.onnx");
        onnx.write_with_layer(&repaired, &out).unwrap();
        let again = OnnxClassifier::load(&out).unwrap();
        assert_eq!(again.last_layer().layer, repaired);
        let (same, new_logits) = again.run(&pixels(5, 64), 5, 1, &preprocess(8)).unwrap();
        assert_eq!(same, activations);
        assert!(
            close(&new_logits, &logits_of(&repaired, &activations)),
            "{head:?}"
        );
        assert!(!close(&new_logits, &logits));
    }
}

#[test]
fn unsupported_graphs_are_named_by_their_op() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.onnx");
    let fails = |model: &crate::proto::ModelProto| {
        std::fs::write(&path, model.encode_to_vec()).unwrap();
        OnnxClassifier::load(&path).unwrap_err().to_string()
    };
    let mut relu_last = example_conv_net(1, 8, 3, ExampleHead::GemmTorch, false, 1);
    let graph = relu_last.graph.as_mut().unwrap();
    graph.node.truncate(2); // Conv, Relu
    graph.output[0].name = "relu".into();
    let e = fails(&relu_last);
    assert!(
        e.contains("model.onnx") && e.contains("a `Relu` node (`relu`)"),
        "{e}"
    );
    let mut scaled = example_conv_net(1, 8, 3, ExampleHead::GemmTorch, false, 1);
    let gemm = scaled.graph.as_mut().unwrap().node.last_mut().unwrap();
    gemm.attribute.push(crate::proto::AttributeProto {
        name: "alpha".into(),
        r#type: crate::proto::attribute_proto::AttributeType::Float as i32,
        f: 2.0,
        ..Default::default()
    });
    assert!(fails(&scaled).contains("alpha = 2"));
    let mut computed = example_conv_net(1, 8, 3, ExampleHead::GemmTorch, false, 1);
    computed
        .graph
        .as_mut()
        .unwrap()
        .initializer
        .retain(|t| t.name != "dense.b");
    assert!(fails(&computed).contains("the bias `dense.b` of the last Gemm is computed"));
    std::fs::write(&path, b"not onnx at all").unwrap();
    let e = OnnxClassifier::load(&path).unwrap_err().to_string();
    assert!(e.contains("not an ONNX model"), "{e}");
    // The wrong input size is the model's error, named.
    std::fs::write(
        &path,
        example_conv_net(1, 8, 3, ExampleHead::GemmTorch, false, 1).encode_to_vec(),
    )
    .unwrap();
    let onnx = OnnxClassifier::load(&path).unwrap();
    let e = onnx
        .run(&pixels(2, 100), 2, 1, &preprocess(10))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("model.onnx") && e.contains("running the model on [2, 1, 10, 10] images"),
        "{e}"
    );
}

#[test]
fn a_graph_with_a_dangling_or_missing_node_input_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.onnx");
    // A node reading a value nothing gives: refused when the file is read.
    let mut dangling = example_conv_net(1, 8, 3, ExampleHead::GemmTorch, false, 1);
    dangling.graph.as_mut().unwrap().node[1].input[0] = "nowhere".into();
    std::fs::write(&path, dangling.encode_to_vec()).unwrap();
    let e = OnnxClassifier::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("model.onnx") && e.contains("node 1 (Relu") && e.contains("`nowhere`"),
        "{e}"
    );
    // A Conv that lacks its weight input: the evaluator would index past its inputs.
    let mut lacking = example_conv_net(1, 8, 3, ExampleHead::GemmTorch, false, 1);
    lacking.graph.as_mut().unwrap().node[0].input.truncate(1);
    std::fs::write(&path, lacking.encode_to_vec()).unwrap();
    let outcome =
        OnnxClassifier::load(&path).and_then(|onnx| onnx.run(&pixels(2, 64), 2, 1, &preprocess(8)));
    let e = outcome.unwrap_err().to_string();
    assert!(e.contains("model.onnx"), "{e}");
}
