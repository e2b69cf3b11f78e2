//! `cargo xtask bench train`: training throughput of a zoo model
//! ([`repair_pipeline::bench_train_step`]). The last line is `images/s: <number>`.

use repair_pipeline::bench_train_step;

use crate::flags::BenchCommand;
use crate::progress::{compute, Bars};

/// Runs one bench subcommand.
pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    let BenchCommand::Train {
        model,
        batch,
        steps,
        device,
    } = command;
    let bars = Bars::default();
    let bench = bench_train_step(model, batch, steps, &compute(&device, &bars)?)?;
    println!(
        "{model}: {steps} steps of batch {batch} in {:.2} s",
        bench.secs
    );
    println!("images/s: {:.1}", bench.images_per_s);
    Ok(())
}
