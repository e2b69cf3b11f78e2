//! On the CPU the zoo's own convolution and pooling ops give every model the same logits
//! and weight gradients as candle's stock ops (the path CUDA runs). The kernels have
//! layer-by-layer checks of their own; this one covers whole models in train mode, with
//! batch norm, concatenation and the DenseNet pools.

mod common;

use candle_core::Device;
use repair_zoo::{BuildOptions, ConvBackend};

#[test]
fn the_fast_ops_give_whole_models_the_same_logits_and_gradients_as_candles() {
    let mut failures = Vec::new();
    for case in common::CASES {
        let spec = common::spec(case);
        let batch = common::batch(&spec);
        let with = |conv| BuildOptions { conv };
        let fast = common::step(&spec, &Device::Cpu, &with(ConvBackend::Fast), &batch);
        let candle = common::step(&spec, &Device::Cpu, &with(ConvBackend::Candle), &batch);
        let name = format!("{} {:?}", case.0, case.1);
        failures.extend(common::differences(&name, &fast, &candle, 1e-4, 1e-3));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
