//! Every model computes the same logits and weight gradients on CUDA as on the CPU.
//!
//! The two devices run different code: on the CPU the zoo's fast convolution and its
//! pooling custom ops, on CUDA candle's stock kernels plus `avg_pool2` and
//! `max_pool_strided` (DenseNet's pools, which candle 0.11 cannot differentiate there).
//! `fast_matches_candle.rs` runs the same cases with candle's ops on the CPU. Built only
//! with `--features cuda`, and then it needs a GPU:
//! `cargo test -p repair-zoo --features cuda --test cuda_matches_cpu`.
#![cfg(feature = "cuda")]

mod common;

use candle_core::Device;

#[test]
fn every_model_gives_the_same_logits_and_gradients_on_cuda_as_on_the_cpu() {
    let cuda = Device::new_cuda(0).expect("a CUDA GPU (this test is built with --features cuda)");
    let mut failures = Vec::new();
    for case in common::CASES {
        let spec = common::spec(case);
        let batch = common::batch(&spec);
        let cpu = common::step(&spec, &Device::Cpu, &BuildOptions::default(), &batch);
        let gpu = common::step(&spec, &cuda, &BuildOptions::default(), &batch);
        let name = format!("{} {:?}", case.0, case.1);
        failures.extend(common::differences(&name, &cpu, &gpu, 1e-3, 1e-3));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
