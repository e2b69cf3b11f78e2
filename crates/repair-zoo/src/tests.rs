//! Shapes, parameter counts, seeding, last-layer access and weight files of every model.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};

use repair_core::{Arch, DenseLayer};

use crate::{build_model, Classifier, Model, ModelSpec, ZooError};

fn spec(arch: Arch, input: (usize, usize, usize), num_classes: usize, seed: u64) -> ModelSpec {
    ModelSpec {
        arch,
        input,
        num_classes,
        seed,
    }
}

fn model(arch: Arch, input: (usize, usize, usize), classes: usize, seed: u64) -> Model {
    build_model(&spec(arch, input, classes, seed), &Device::Cpu).unwrap()
}

fn images(n: usize, (c, h, w): (usize, usize, usize)) -> Tensor {
    let values: Vec<f32> = (0..n * c * h * w)
        .map(|k| ((k * 37) % 101) as f32 / 100.0)
        .collect();
    Tensor::from_vec(values, (n, c, h, w), &Device::Cpu).unwrap()
}

fn count(m: &Model, prefix: &str) -> usize {
    m.trainable_vars()
        .iter()
        .filter(|(n, _)| n.starts_with(prefix))
        .map(|(_, v)| v.elem_count())
        .sum()
}

#[test]
fn cnn_s_has_the_reference_shape() {
    let m = model(Arch::CnnS, (3, 32, 32), 43, 1);
    // conv 896 + 18,496 + 73,856; Dense 2048→256: 524,544; head 256→43: 11,051.
    assert_eq!(count(&m, "fc"), 2048 * 256 + 256);
    assert_eq!(
        m.parameter_count(),
        896 + 18_496 + 73_856 + 524_544 + 11_051
    );
    let x = images(2, (3, 32, 32));
    assert_eq!(m.logits(&x, false).unwrap().dims(), &[2, 43]);
    assert_eq!(m.penultimate(&x, false).unwrap().dims(), &[2, 256]);
    // 28×28 grey: 28 → 14 → 7 → 3, so 3·3·128 = 1,152 inputs to the dense layer.
    let g = model(Arch::CnnS, (1, 28, 28), 2, 1);
    assert_eq!(count(&g, "fc"), 1_152 * 256 + 256);
    assert_eq!(
        g.logits(&images(3, (1, 28, 28)), false).unwrap().dims(),
        &[3, 2]
    );
    let wide = model(Arch::CnnM, (3, 32, 32), 43, 1);
    assert_eq!(wide.penultimate(&x, false).unwrap().dims(), &[2, 512]);
}

#[test]
fn vgg16_has_the_torchvision_conv_base_and_the_studys_head() {
    let m = model(Arch::Vgg16, (3, 32, 32), 43, 1);
    assert_eq!(count(&m, "features."), 14_714_688);
    assert_eq!(count(&m, "fc"), 512 * 4096 + 4096);
    assert_eq!(count(&m, "head"), 4096 * 43 + 43);
    let x = images(1, (3, 32, 32));
    assert_eq!(m.penultimate(&x, false).unwrap().dims(), &[1, 4096]);
    let head = m.last_layer().unwrap();
    assert_eq!((head.width, head.classes), (4096, 43));
}

#[test]
fn densenet121_has_the_reference_parameter_count() {
    // torchvision densenet121(num_classes=1000): 7,978,856 parameters.
    let m = model(Arch::Densenet121, (3, 32, 32), 1000, 1);
    assert_eq!(m.parameter_count(), 7_978_856);
    let grey = model(Arch::Densenet121, (1, 32, 32), 2, 1);
    let x = images(2, (1, 32, 32));
    assert_eq!(grey.penultimate(&x, true).unwrap().dims(), &[2, 1024]);
    assert_eq!(grey.logits(&x, false).unwrap().dims(), &[2, 2]);
    let too_small = build_model(&spec(Arch::Densenet121, (1, 28, 28), 2, 1), &Device::Cpu);
    assert!(matches!(too_small, Err(ZooError::Unsupported { .. })));
}

#[test]
fn every_model_has_a_gradient_for_every_weight() {
    // DenseNet's 3×3 / 2 stem pool has no backward in candle 0.11; every model must train.
    for (arch, input) in [(Arch::CnnS, (3, 32, 32)), (Arch::Densenet121, (1, 32, 32))] {
        let m = model(arch, input, 3, 1);
        let loss = m
            .logits(&images(2, input), true)
            .unwrap()
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = loss.backward().unwrap();
        for (name, var) in m.trainable_vars() {
            let g = grads
                .get(&var)
                .unwrap_or_else(|| panic!("{arch}: no gradient for {name}"));
            assert!(g
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
                .is_finite());
        }
        // The stem convolution's weights get a gradient through the stem pool.
        let first = if arch == Arch::CnnS {
            "conv1.weight"
        } else {
            "features.conv0.weight"
        };
        let (_, stem) = m
            .trainable_vars()
            .into_iter()
            .find(|(n, _)| n == first)
            .unwrap();
        let g = grads.get(&stem).unwrap().abs().unwrap().sum_all().unwrap();
        assert!(
            g.to_scalar::<f32>().unwrap() > 0.0,
            "{arch}: zero gradient for {first}"
        );
    }
}

#[test]
fn the_same_seed_builds_the_same_weights() {
    let a = model(Arch::CnnS, (3, 32, 32), 10, 7);
    let b = model(Arch::CnnS, (3, 32, 32), 10, 7);
    let c = model(Arch::CnnS, (3, 32, 32), 10, 8);
    let x = images(2, (3, 32, 32));
    let logits = |m: &Model| {
        m.logits(&x, false)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    };
    assert_eq!(logits(&a), logits(&b));
    assert_ne!(logits(&a), logits(&c));
}

#[test]
fn the_last_layer_round_trips_in_keras_layout_and_drives_the_logits() {
    let m = model(Arch::CnnS, (3, 32, 32), 5, 3);
    let x = images(2, (3, 32, 32));
    let a = m.penultimate(&x, false).unwrap().to_vec2::<f32>().unwrap();
    let layer = m.last_layer().unwrap();
    assert_eq!((layer.width, layer.classes), (256, 5));
    // logits = b + a·W with W in Keras (D, classes) layout.
    let logits = m.logits(&x, false).unwrap().to_vec2::<f32>().unwrap();
    for (row, z) in a.iter().zip(&logits) {
        let mut expected = [0.0f64; 5];
        repair_core::logits(row, &layer.kernel, &layer.bias, &mut expected);
        for (e, &z) in expected.iter().zip(z) {
            assert!((e - f64::from(z)).abs() < 1e-5, "{e} vs {z}");
        }
    }
    let zero = DenseLayer {
        kernel: vec![0.0; 256 * 5],
        bias: vec![1., 2., 3., 4., 5.],
        ..layer.clone()
    };
    m.set_last_layer(&zero).unwrap();
    assert_eq!(
        m.logits(&x, false).unwrap().to_vec2::<f32>().unwrap()[1],
        vec![1., 2., 3., 4., 5.]
    );
    assert_eq!(m.last_layer().unwrap(), zero);
    // The copy taken before is unaffected by the replacement.
    assert_ne!(layer.bias, vec![1., 2., 3., 4., 5.]);
    let wrong = DenseLayer {
        width: 256,
        classes: 4,
        kernel: vec![0.0; 256 * 4],
        bias: vec![0.0; 4],
    };
    let err = m.set_last_layer(&wrong).unwrap_err().to_string();
    assert!(
        err.contains("must be 256 × 5 (Keras layout), got 256 × 4"),
        "{err}"
    );
}

#[test]
fn a_model_saved_with_another_last_layer_writes_it_and_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repaired.safetensors");
    // DenseNet's head is `classifier`, the others' `head`; both are written in place.
    for (arch, input) in [(Arch::CnnS, (3, 32, 32)), (Arch::Densenet121, (1, 32, 32))] {
        let m = model(arch, input, 3, 4);
        let own = m.last_layer().unwrap();
        let repaired = DenseLayer {
            bias: vec![7., 8., 9.],
            ..own.clone()
        };
        m.save_with_last_layer(&repaired, &path).unwrap();
        assert_eq!(m.last_layer().unwrap(), own, "{arch}");
        let back = model(arch, input, 3, 5);
        back.load(&path).unwrap();
        assert_eq!(back.last_layer().unwrap(), repaired, "{arch}");
        let wrong = DenseLayer {
            bias: vec![0.0; 2],
            classes: 2,
            kernel: vec![0.0; own.width * 2],
            ..own.clone()
        };
        let e = m
            .save_with_last_layer(&wrong, &path)
            .unwrap_err()
            .to_string();
        assert!(e.contains("got"), "{arch}: {e}");
    }
}

#[test]
fn weights_save_and_load_exactly_and_mismatches_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt").join("model.safetensors");
    let a = model(Arch::Densenet121, (1, 32, 32), 2, 1);
    let x = images(2, (1, 32, 32));
    a.logits(&x, true).unwrap(); // moves the batch-norm running statistics
    a.save(&path).unwrap();
    let b = model(Arch::Densenet121, (1, 32, 32), 2, 2);
    b.load(&path).unwrap();
    let out = |m: &Model| m.logits(&x, false).unwrap().to_vec2::<f32>().unwrap();
    assert_eq!(out(&a), out(&b));

    let cnn = model(Arch::CnnS, (3, 32, 32), 43, 1);
    let cnn_path = dir.path().join("cnn.safetensors");
    cnn.save(&cnn_path).unwrap();
    let other_classes = model(Arch::CnnS, (3, 32, 32), 10, 1);
    let err = other_classes.load(&cnn_path).unwrap_err().to_string();
    assert!(
        err.contains("cnn.safetensors")
            && err.contains("`head.bias` has shape [43], the model needs [10]"),
        "{err}"
    );
    let err = model(Arch::CnnM, (3, 32, 32), 43, 1)
        .load(&cnn_path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("has shape"), "{err}");
    let err = b.load(&cnn_path).unwrap_err().to_string();
    assert!(err.contains("is missing"), "{err}");
    let err = a
        .load(&dir.path().join("none.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("none.safetensors") && err.contains("not a readable safetensors"),
        "{err}"
    );
}

#[test]
fn an_imagenet_vgg16_file_with_torchvision_names_loads_into_the_conv_base() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(Arch::Vgg16, (3, 32, 32), 43, 1);
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for (index, cin, cout) in crate::vgg::conv_layers(3) {
        let w = Tensor::full(index as f32, (cout, cin, 3, 3), &Device::Cpu).unwrap();
        tensors.insert(format!("features.{index}.weight"), w);
        tensors.insert(
            format!("features.{index}.bias"),
            Tensor::full(-1f32, cout, &Device::Cpu).unwrap(),
        );
    }
    // torchvision files also hold the ImageNet classifier; it is ignored.
    tensors.insert(
        "classifier.6.bias".into(),
        Tensor::zeros(1000, DType::F32, &Device::Cpu).unwrap(),
    );
    let path = dir.path().join("vgg16_imagenet.safetensors");
    candle_core::safetensors::save(&tensors, &path).unwrap();
    let fc_before = m.vars().data().lock().unwrap()["fc.bias"]
        .to_vec1::<f32>()
        .unwrap();
    m.load_pretrained_vgg16(&path).unwrap();
    let data = m.vars().data().lock().unwrap();
    assert_eq!(
        data["features.28.weight"]
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()[0],
        28.0
    );
    assert_eq!(data["features.0.bias"].to_vec1::<f32>().unwrap()[0], -1.0);
    assert_eq!(data["fc.bias"].to_vec1::<f32>().unwrap(), fc_before);
    drop(data);

    tensors.remove("features.17.bias");
    let missing = dir.path().join("missing.safetensors");
    candle_core::safetensors::save(&tensors, &missing).unwrap();
    let err = m.load_pretrained_vgg16(&missing).unwrap_err().to_string();
    assert!(
        err.contains("missing.safetensors") && err.contains("`features.17.bias` is missing"),
        "{err}"
    );

    tensors.insert(
        "features.17.bias".into(),
        Tensor::zeros(256, DType::F32, &Device::Cpu).unwrap(),
    );
    let misshaped = dir.path().join("misshaped.safetensors");
    candle_core::safetensors::save(&tensors, &misshaped).unwrap();
    let err = m.load_pretrained_vgg16(&misshaped).unwrap_err().to_string();
    assert!(
        err.contains("`features.17.bias` has shape [256], the model needs [512]"),
        "{err}"
    );
}

#[test]
fn a_checkpoint_with_a_nan_or_infinite_weight_is_refused_naming_file_and_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.safetensors");
    let cnn = model(Arch::CnnS, (3, 32, 32), 43, 1);
    cnn.save(&good).unwrap();
    let tensors = candle_core::safetensors::load(&good, &Device::Cpu).unwrap();
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    for (name, bad_value) in [
        (names[0], f32::NAN),
        (&"head.bias".to_string(), f32::INFINITY),
    ] {
        let mut poisoned = tensors.clone();
        let t = &tensors[name];
        let mut values = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let middle = values.len() / 2;
        values[middle] = bad_value;
        poisoned.insert(
            name.clone(),
            Tensor::from_vec(values, t.shape(), &Device::Cpu).unwrap(),
        );
        let path = dir.path().join("poisoned.safetensors");
        candle_core::safetensors::save(&poisoned, &path).unwrap();
        let err = model(Arch::CnnS, (3, 32, 32), 43, 2)
            .load(&path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("poisoned.safetensors")
                && err.contains(&format!("tensor `{name}` has 1 NaN or infinite values")),
            "{err}"
        );
    }
    model(Arch::CnnS, (3, 32, 32), 43, 2).load(&good).unwrap();
}
