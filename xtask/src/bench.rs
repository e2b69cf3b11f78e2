//! `cargo xtask bench train`: training throughput of a zoo model, for comparing every
//! later speed-up against the same baseline. The last line is `images/s: <number>`.

use std::time::Instant;

use candle_core::Tensor;
use repair_train::{train_step, SgdConfig, SgdMomentum};
use repair_zoo::{build_model, ModelSpec};

use crate::flags::BenchCommand;

/// Runs one bench subcommand.
pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    let BenchCommand::Train {
        model,
        batch,
        steps,
        device,
    } = command;
    let device = crate::train::device(&device)?;
    let spec = ModelSpec {
        arch: model.clone(),
        input: (3, 32, 32),
        num_classes: 43,
        seed: 1,
    };
    let net = build_model(&spec, &device)?;
    let mut sgd = SgdMomentum::new(
        net.trainable_vars(),
        SgdConfig {
            lr: 1e-2,
            momentum: 0.9,
        },
    );
    let images = Tensor::rand(0f32, 1f32, (batch, 3, 32, 32), &device)?;
    let labels: Vec<u32> = (0..batch).map(|i| (i % 43) as u32).collect();
    let labels = Tensor::from_vec(labels, batch, &device)?;
    train_step(&net, &mut sgd, &images, &labels)?; // warm-up
    device.synchronize()?;
    let start = Instant::now();
    for _ in 0..steps {
        train_step(&net, &mut sgd, &images, &labels)?;
    }
    device.synchronize()?;
    let secs = start.elapsed().as_secs_f64();
    println!("{model}: {steps} steps of batch {batch} in {secs:.2} s");
    println!("images/s: {:.1}", (steps * batch) as f64 / secs);
    Ok(())
}
