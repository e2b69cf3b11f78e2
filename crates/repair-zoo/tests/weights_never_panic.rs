//! Property test of the checkpoint reader: a safetensors file with
//! a damaged header (the JSON and its length prefix, where a damage is most likely to
//! confuse a reader) or damaged weights loads, or gives an error naming the file —
//! never a panic, and never a model with a NaN weight.

#[path = "../../../fixtures/mutations.rs"]
mod mutations;

use candle_core::Device;
use mutations::{apply, config, mutations, names_file};
use proptest::prelude::*;
use repair_zoo::{build_model, Classifier, ModelSpec};

fn spec() -> ModelSpec {
    ModelSpec {
        arch: repair_core::Arch::CnnS,
        input: (1, 8, 8),
        num_classes: 3,
        seed: 5,
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_damaged_checkpoint(m in mutations(), header in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.safetensors");
        let model = build_model(&spec(), &Device::Cpu).unwrap();
        model.save(&good).unwrap();
        let bytes = std::fs::read(&good).unwrap();
        let header_len = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let damaged = if header {
            let mut head = apply(&bytes[..header_len], &m);
            head.extend_from_slice(&bytes[header_len..]);
            head
        } else {
            let mut body = bytes[..header_len].to_vec();
            body.extend(apply(&bytes[header_len..], &m));
            body
        };
        let path = dir.path().join("epoch-007.safetensors");
        std::fs::write(&path, damaged).unwrap();
        let other = build_model(&spec(), &Device::Cpu).unwrap();
        match other.load(&path) {
            Err(e) => names_file(&e.to_string(), &path)?,
            Ok(()) => {
                let layer = other.last_layer().unwrap();
                prop_assert!(layer.kernel.iter().chain(&layer.bias).all(|v| v.is_finite()));
            }
        }
    }
}
