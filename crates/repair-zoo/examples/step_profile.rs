//! Where a training step's time goes, layer by layer, at the zoo's shapes (batch 128 by
//! default): each fused conv block (conv + bias + ReLU, + 2×2 max-pool where the model
//! pools) forward alone, and forward + backward of Σ block(x)·r with the input tracked
//! (as every block but the first is); then the dense head and the loss.
//!
//! `cargo run --release -p repair-zoo --example step_profile [cnn-s|vgg16] [batch]`
//! (`EARLY_REPAIR_CONV=candle` for candle's convolution).

use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};

/// The binaries' allocator and setting (xtask/src/main.rs): without them every step
/// page-faults its freed tensors back in and the per-layer times are inflated.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v2's `mi_option_purge_delay`.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> f64 {
    f();
    let start = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(f());
    }
    start.elapsed().as_secs_f64() * 1e3 / reps as f64
}

fn main() -> candle_core::Result<()> {
    // SAFETY: sets a plain integer option of the allocator.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    let mut args = std::env::args().skip(1);
    let model = args.next().unwrap_or_else(|| "cnn-s".into());
    let batch: usize = args.next().map_or(128, |b| b.parse().expect("batch"));
    // (c_in, c_out, size, pool) of every conv block.
    let blocks: Vec<(usize, usize, usize, bool)> = match model.as_str() {
        "cnn-s" => vec![(3, 32, 32, true), (32, 64, 16, true), (64, 128, 8, true)],
        "vgg16" => {
            let cfg = [
                64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0,
            ];
            let (mut c, mut size, mut out) = (3, 32, Vec::new());
            for (k, &v) in cfg.iter().enumerate() {
                if v > 0 {
                    out.push((c, v, size, cfg.get(k + 1) == Some(&0)));
                    c = v;
                } else {
                    size /= 2;
                }
            }
            out
        }
        other => panic!("model {other}: cnn-s or vgg16"),
    };
    let dev = Device::Cpu;
    // An example program may read the environment; the library never does.
    let backend = match std::env::var("EARLY_REPAIR_CONV").as_deref() {
        Ok("candle") => repair_zoo::ConvBackend::Candle,
        _ => repair_zoo::ConvBackend::Fast,
    };
    println!(
        "{model}, conv backend {:?}, batch {batch}, {} rayon threads",
        backend,
        rayon::current_num_threads()
    );
    println!("{:<28} {:>9} {:>12}", "layer", "fwd ms", "fwd+bwd ms");
    let (mut total_fwd, mut total_both) = (0.0, 0.0);
    let mut report = |name: &str, x: &Var, f: &dyn Fn(&Tensor) -> candle_core::Result<Tensor>| {
        let y = f(x.as_tensor()).unwrap();
        let r = Tensor::randn(0f32, 1.0, y.dims(), &Device::Cpu).unwrap();
        let fwd = time(3, || f(x.as_tensor()).unwrap());
        let both = time(3, || {
            let y = f(x.as_tensor()).unwrap();
            (y * &r).unwrap().sum_all().unwrap().backward().unwrap()
        });
        total_fwd += fwd;
        total_both += both;
        println!("{name:<28} {fwd:>9.1} {both:>12.1}");
    };
    for (k, &(c_in, c_out, size, pool)) in blocks.iter().enumerate() {
        let x = Var::randn(0f32, 1.0, (batch, c_in, size, size), &dev)?;
        let w = Var::randn(0f32, 0.1, (c_out, c_in, 3, 3), &dev)?;
        let b = Var::zeros(c_out, DType::F32, &dev)?;
        let block = |x: &Tensor| match backend {
            repair_zoo::ConvBackend::Fast => {
                repair_zoo::fast_conv::conv_relu(x, &w, Some(&b), 1, 1, pool)
            }
            repair_zoo::ConvBackend::Candle => {
                let y = x
                    .conv2d(&w, 1, 1, 1, 1)?
                    .broadcast_add(&b.reshape((1, c_out, 1, 1))?)?
                    .relu()?;
                if pool {
                    repair_zoo::max_pool2(&y)
                } else {
                    Ok(y)
                }
            }
        };
        let name = format!(
            "conv{} {c_in}→{c_out} {size}×{size}{}",
            k + 1,
            if pool { " +pool" } else { "" }
        );
        report(&name, &x, &block);
    }
    let (flat, hidden) = if model == "cnn-s" {
        (2048, 256)
    } else {
        (512, 4096)
    };
    let x = Var::randn(0f32, 1.0, (batch, flat), &dev)?;
    let w1 = Var::randn(0f32, 0.02, (hidden, flat), &dev)?;
    let w2 = Var::randn(0f32, 0.02, (43, hidden), &dev)?;
    let labels = Tensor::from_vec(
        (0..batch as u32).map(|i| i % 43).collect::<Vec<_>>(),
        batch,
        &dev,
    )?;
    report(&format!("dense {flat}→{hidden}→43 + loss"), &x, &|t| {
        let logits = t.matmul(&w1.t()?)?.relu()?.matmul(&w2.t()?)?;
        candle_nn::loss::cross_entropy(&logits, &labels)
    });
    println!("{:<28} {total_fwd:>9.1} {total_both:>12.1}", "sum");
    Ok(())
}
