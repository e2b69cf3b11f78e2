//! A user's ONNX classifier repaired on real PneumoniaMNIST. The test writes
//! the model (repair-onnx's seeded conv net, a Gemm head with transB as PyTorch exports
//! it, then Softmax), repairs class 1, and checks `repaired.onnx`: only the searched
//! weights changed, its logits are the repaired weights' logits, and its predictions on
//! the test set give the test accuracy the report states.
//!
//! Needs the `onnx` feature: `cargo test -p repair-pipeline --features onnx --test onnx`.
#![cfg(feature = "onnx")]

#[path = "../../../fixtures/data_root.rs"]
mod data_root;

use repair_core::{NoProgress, RepairRequest};
use repair_data::{Dataset, Manifest, Split, SplitConfig, SplitPart};
use repair_onnx::Preprocess;
use repair_onnx::{example_conv_net, ExampleHead, OnnxClassifier};
use repair_pipeline::{repair_onnx_model, OnnxRepairInput, REPAIRED_ONNX};

/// Writes `model` as an ONNX file.
fn encode(model: &repair_onnx::proto::ModelProto, path: &std::path::Path) {
    std::fs::write(path, repair_onnx::encode_model(model)).unwrap();
}

/// A 28 × 28 grey model of PneumoniaMNIST on the study's split, its pixels as
/// `preprocess` scales them.
fn pneumonia_input<'a>(
    model: &'a std::path::Path,
    data: &'a std::path::Path,
) -> OnnxRepairInput<'a> {
    OnnxRepairInput {
        model,
        dataset: "pneumonia",
        data,
        split: None,
        split_seed: 42,
        input_size: Some((28, 28)),
        scale: 1.0 / 255.0,
        mean: &[0.5],
        std: &[0.25],
        nhwc: false,
    }
}

fn preprocess() -> Preprocess {
    Preprocess {
        height: 28,
        width: 28,
        scale: 1.0 / 255.0,
        mean: vec![0.5],
        std: vec![0.25],
        nhwc: false,
    }
}

#[test]
fn a_repaired_onnx_model_classifies_as_its_repaired_weights_do() {
    let data = data_root::data_root().join("pneumonia");
    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join("user-model.onnx");
    encode(
        &example_conv_net(1, 28, 2, ExampleHead::GemmTorch, true, 3),
        &model_path,
    );
    let request = RepairRequest {
        particles: 30,
        iterations: 20,
        ..RepairRequest::study(1, 4)
    };
    let input = pneumonia_input(&model_path, &data);
    let out = dir.path().join("out");
    let report = repair_onnx_model(&input, &request, &out, &NoProgress).unwrap();
    assert!(!report.outcome.nothing_to_repair && report.outcome.negatives > 0);
    assert_eq!(report.model.name(), "onnx:user-model");
    assert_eq!(
        report.repaired_checkpoint.as_deref(),
        Some(out.join(REPAIRED_ONNX).as_path())
    );
    for name in [
        "repair.json",
        "weights.csv",
        "class_accuracy.csv",
        "history.csv",
    ] {
        assert!(out.join(name).is_file(), "{name}");
    }

    let before = OnnxClassifier::load(&model_path).unwrap();
    let after = OnnxClassifier::load(&out.join(REPAIRED_ONNX)).unwrap();
    let (old, new) = (&before.last_layer().layer, &after.last_layer().layer);
    let changed: Vec<usize> = (0..old.kernel.len())
        .filter(|&k| old.kernel[k] != new.kernel[k])
        .collect();
    assert!(!changed.is_empty());
    let searched: Vec<usize> = report
        .sites
        .iter()
        .map(|s| s.i * old.classes + s.j)
        .collect();
    assert!(
        changed.iter().all(|k| searched.contains(k)),
        "{changed:?} ⊄ {searched:?}"
    );
    assert_eq!(old.bias, new.bias);

    // The repaired file on the whole test set: its logits are b + a·W of its layer, and
    // its predictions give the report's test accuracy.
    let corpus = Manifest::builtin("pneumonia").unwrap().load(&data).unwrap();
    let split = Split::make(&corpus, &SplitConfig::study("pneumonia", 42)).unwrap();
    let test = split.view(&corpus, SplitPart::Test);
    let pixels: Vec<u8> = (0..test.len())
        .flat_map(|k| test.image(k).to_vec())
        .collect();
    let (activations, logits) = after.run(&pixels, test.len(), 1, &preprocess()).unwrap();
    let mut right = 0;
    for (k, row) in logits.chunks_exact(2).enumerate() {
        let a = &activations[k * new.width..(k + 1) * new.width];
        for (j, &l) in row.iter().enumerate() {
            let dot: f64 = (0..new.width)
                .map(|i| f64::from(a[i]) * f64::from(new.kernel[i * 2 + j]))
                .sum();
            let expected = dot + f64::from(new.bias[j]);
            assert!(
                (f64::from(l) - expected).abs() < 1e-4 * (1.0 + expected.abs()),
                "image {k} class {j}"
            );
        }
        let predicted = if row[1] > row[0] { 1 } else { 0 };
        right += usize::from(predicted == test.label(k));
    }
    let accuracy = right as f64 / test.len() as f64;
    let reported = report.test_after.unwrap().total;
    assert!(
        (accuracy - reported).abs() <= 1.0 / test.len() as f64,
        "{accuracy} vs {reported}"
    );
}

#[test]
fn a_model_of_the_wrong_dataset_or_graph_is_refused_by_name() {
    let data = data_root::data_root().join("pneumonia");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("three.onnx");
    encode(
        &example_conv_net(1, 28, 3, ExampleHead::MatMulAdd, false, 1),
        &path,
    );
    let input = pneumonia_input(&path, &data);
    let e = repair_onnx_model(&input, &RepairRequest::study(1, 0), dir.path(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("three.onnx") && e.contains("the model has 3 classes, dataset pneumonia has 2"),
        "{e}"
    );
    // Preprocessing flags that cannot fit the dataset are refused before any image is read.
    encode(
        &example_conv_net(1, 28, 2, ExampleHead::GemmTorch, false, 1),
        &path,
    );
    let nowhere = dir.path().join("no-such-data");
    let bad = OnnxRepairInput {
        data: &nowhere,
        mean: &[0.5, 0.5],
        ..input
    };
    let e = repair_onnx_model(&bad, &RepairRequest::study(1, 0), dir.path(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(e.contains("mean: 2 values for 1 channels"), "{e}");
}

/// The repair seed on which a 4 × 2 swarm ends below the example model (seeded 1) for
/// class 0 (found by trying model seeds, classes and repair seeds: the first that does).
const WORSE_SEED: u64 = 0;

/// The safeguard on the ONNX path: where the unguarded search ends below the model,
/// `repaired.onnx` carries the model's own last layer and the report says so.
#[test]
fn an_onnx_model_whose_search_ends_below_it_is_written_back_unchanged() {
    let data = data_root::data_root().join("pneumonia");
    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join("user-model.onnx");
    encode(
        &example_conv_net(1, 28, 2, ExampleHead::GemmTorch, true, 1),
        &model_path,
    );
    let input = pneumonia_input(&model_path, &data);
    let request = |keep_worse| RepairRequest {
        particles: 4,
        iterations: 2,
        keep_worse,
        ..RepairRequest::study(0, WORSE_SEED)
    };
    let worse = repair_onnx_model(
        &input,
        &request(true),
        &dir.path().join("worse"),
        &NoProgress,
    )
    .unwrap();
    let (before, after) = (
        worse.outcome.fitness_before.unwrap(),
        worse.outcome.fitness_after.unwrap(),
    );
    assert!(after.fitness < before.fitness, "{before:?} → {after:?}");
    let out = dir.path().join("out");
    let report = repair_onnx_model(&input, &request(false), &out, &NoProgress).unwrap();
    assert!(report.outcome.kept_original);
    assert_eq!(report.test_after, report.test_before);
    let original = OnnxClassifier::load(&model_path).unwrap();
    let written = OnnxClassifier::load(&out.join(REPAIRED_ONNX)).unwrap();
    assert_eq!(written.last_layer().layer, original.last_layer().layer);
}
