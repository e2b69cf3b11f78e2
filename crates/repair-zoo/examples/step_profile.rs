//! Where a training step's time goes, op by op, at the zoo's shapes: each op's forward
//! alone, and forward + backward of Σ op(x)·r (so backward ≈ the difference).
//!
//! `cargo run --release -p repair-zoo --example step_profile [batch]`
//! (`EARLY_REPAIR_CONV=candle` for candle's convolution).

use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};

fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> f64 {
    f();
    let start = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(f());
    }
    start.elapsed().as_secs_f64() * 1e3 / reps as f64
}

fn main() -> candle_core::Result<()> {
    let batch: usize = std::env::args()
        .nth(1)
        .map_or(128, |b| b.parse().expect("batch"));
    let dev = Device::Cpu;
    println!(
        "conv backend {:?}, batch {batch}, {} rayon threads",
        repair_zoo::conv_backend(),
        rayon::current_num_threads()
    );
    println!("{:<34} {:>10} {:>12}", "op", "fwd ms", "fwd+bwd ms");
    let report = |name: &str, x: &Var, f: &dyn Fn(&Tensor) -> candle_core::Result<Tensor>| {
        let y = f(x.as_tensor()).unwrap();
        let r = Tensor::randn(0f32, 1.0, y.dims(), &Device::Cpu).unwrap();
        let fwd = time(3, || f(x.as_tensor()).unwrap());
        let both = time(3, || {
            let y = f(x.as_tensor()).unwrap();
            (y * &r).unwrap().sum_all().unwrap().backward().unwrap()
        });
        println!("{name:<34} {fwd:>10.1} {both:>12.1}");
    };
    // cnn-s: (c_in, c_out, size) of its three blocks.
    for (c_in, c_out, size) in [(3, 32, 32), (32, 64, 16), (64, 128, 8)] {
        let x = Var::randn(0f32, 1.0, (batch, c_in, size, size), &dev)?;
        let w = Var::randn(0f32, 0.1, (c_out, c_in, 3, 3), &dev)?;
        let b = Var::zeros(c_out, DType::F32, &dev)?;
        let conv = |x: &Tensor| match repair_zoo::conv_backend() {
            repair_zoo::ConvBackend::Fast => {
                repair_zoo::fast_conv::conv2d(x, w.as_tensor(), Some(b.as_tensor()), 1, 1)
            }
            repair_zoo::ConvBackend::Candle => x
                .conv2d(w.as_tensor(), 1, 1, 1, 1)?
                .broadcast_add(&b.reshape((1, c_out, 1, 1))?),
        };
        report(&format!("conv {c_in}→{c_out} {size}×{size}"), &x, &conv);
        let y = Var::randn(0f32, 1.0, (batch, c_out, size, size), &dev)?;
        report(&format!("relu {c_out}×{size}×{size}"), &y, &|t| t.relu());
        report(&format!("max_pool2d {c_out}×{size}×{size}"), &y, &|t| {
            t.max_pool2d(2)
        });
    }
    let x = Var::randn(0f32, 1.0, (batch, 2048), &dev)?;
    let w = Var::randn(0f32, 0.02, (256, 2048), &dev)?;
    report("linear 2048→256", &x, &|t| t.matmul(&w.t()?));
    let logits = Var::randn(0f32, 1.0, (batch, 43), &dev)?;
    let labels = Tensor::from_vec(
        (0..batch as u32).map(|i| i % 43).collect::<Vec<_>>(),
        batch,
        &dev,
    )?;
    report("cross_entropy 43", &logits, &|t| {
        candle_nn::loss::cross_entropy(t, &labels)
    });
    Ok(())
}
