//! The fast convolution against candle's own (forward, input and kernel gradients) on
//! random shapes, strides, paddings and batch sizes; the first layer's skipped input
//! gradient; thread-count independence.

use candle_core::{backprop::GradStore, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::kernels::{self, Geometry};

fn random(rng: &mut ChaCha8Rng, dims: &[usize]) -> Tensor {
    let n: usize = dims.iter().product();
    let data: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    Tensor::from_vec(data, dims, &Device::Cpu).unwrap()
}

/// max |a − b| / max(1, max |b|): the relative error of `a` against reference `b`.
fn relative_error(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    let scale = b
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
        .max(1.0);
    let diff = (a - b).unwrap().abs().unwrap().max_all().unwrap();
    diff.to_scalar::<f32>().unwrap() / scale
}

struct Case {
    batch: usize,
    c_in: usize,
    c_out: usize,
    h: usize,
    w: usize,
    k: usize,
    stride: usize,
    padding: usize,
    bias: bool,
}

/// (output, grads) of Σ y·r for y = conv(x, kernel) + bias through `conv`.
fn run(
    case: &Case,
    x: &Var,
    kernel: &Var,
    bias: &Var,
    r: &Tensor,
    fast: bool,
) -> (Tensor, GradStore) {
    let y = if fast {
        super::conv2d(
            x.as_tensor(),
            kernel.as_tensor(),
            case.bias.then(|| bias.as_tensor()),
            case.stride,
            case.padding,
        )
        .unwrap()
    } else {
        let y = x.conv2d(kernel, case.padding, case.stride, 1, 1).unwrap();
        if case.bias {
            y.broadcast_add(&bias.reshape((1, case.c_out, 1, 1)).unwrap())
                .unwrap()
        } else {
            y
        }
    };
    let grads = (&y * r).unwrap().sum_all().unwrap().backward().unwrap();
    (y, grads)
}

/// A random case; `fits_candle` keeps (size + 2·padding − k) a multiple of the stride,
/// since candle's own backward gets the input gradient's shape wrong otherwise (its
/// `conv_transpose2d` has no output padding).
fn random_case(rng: &mut ChaCha8Rng, fits_candle: bool) -> Case {
    let k = [1, 2, 3, 5][rng.random_range(0..4)];
    let padding = rng.random_range(0..=k / 2 + 1);
    let stride = rng.random_range(1..4);
    let mut size = || loop {
        let n = rng.random_range(k.max(2)..13);
        if !fits_candle || (n + 2 * padding - k) % stride == 0 {
            return n;
        }
    };
    let (h, w) = (size(), size());
    Case {
        batch: rng.random_range(1..6),
        c_in: rng.random_range(1..6),
        c_out: rng.random_range(1..9),
        h,
        w,
        k,
        stride,
        padding,
        bias: rng.random_bool(0.5),
    }
}

#[test]
fn forward_and_both_gradients_match_candle_on_random_shapes() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut cases = vec![
        // The zoo's shapes, small batch: cnn-s first layer, a VGG 2×2 block, 1×1.
        Case {
            batch: 4,
            c_in: 3,
            c_out: 32,
            h: 32,
            w: 32,
            k: 3,
            stride: 1,
            padding: 1,
            bias: true,
        },
        Case {
            batch: 3,
            c_in: 64,
            c_out: 16,
            h: 2,
            w: 2,
            k: 3,
            stride: 1,
            padding: 1,
            bias: true,
        },
        Case {
            batch: 2,
            c_in: 8,
            c_out: 5,
            h: 7,
            w: 9,
            k: 1,
            stride: 1,
            padding: 0,
            bias: false,
        },
        // DenseNet's stem (7×7, stride 2, padding 3) on a 29×29 input.
        Case {
            batch: 2,
            c_in: 1,
            c_out: 6,
            h: 29,
            w: 29,
            k: 7,
            stride: 2,
            padding: 3,
            bias: false,
        },
        // Same-size maps smaller than the kernel (DenseNet's last block at 1×1; a 1×3
        // strip; a 5×5 kernel on 2×1): taps that see no pixel at all.
        Case {
            batch: 3,
            c_in: 4,
            c_out: 5,
            h: 1,
            w: 1,
            k: 3,
            stride: 1,
            padding: 1,
            bias: true,
        },
        Case {
            batch: 2,
            c_in: 2,
            c_out: 3,
            h: 1,
            w: 3,
            k: 3,
            stride: 1,
            padding: 1,
            bias: false,
        },
        Case {
            batch: 2,
            c_in: 3,
            c_out: 2,
            h: 2,
            w: 1,
            k: 5,
            stride: 1,
            padding: 2,
            bias: true,
        },
    ];
    for _ in 0..20 {
        cases.push(random_case(&mut rng, true));
    }
    for case in &cases {
        let x =
            Var::from_tensor(&random(&mut rng, &[case.batch, case.c_in, case.h, case.w])).unwrap();
        let kernel =
            Var::from_tensor(&random(&mut rng, &[case.c_out, case.c_in, case.k, case.k])).unwrap();
        let bias = Var::from_tensor(&random(&mut rng, &[case.c_out])).unwrap();
        let out = |n: usize| (n + 2 * case.padding - case.k) / case.stride + 1;
        let r = random(
            &mut rng,
            &[case.batch, case.c_out, out(case.h), out(case.w)],
        );
        let (y_ref, g_ref) = run(case, &x, &kernel, &bias, &r, false);
        let (y, g) = run(case, &x, &kernel, &bias, &r, true);
        let shape = format!(
            "batch {} c {}→{} {}×{} k {} stride {} padding {}",
            case.batch, case.c_in, case.c_out, case.h, case.w, case.k, case.stride, case.padding
        );
        assert!(relative_error(&y, &y_ref) < 1e-4, "forward, {shape}");
        for (name, var) in [("input", &x), ("kernel", &kernel)] {
            let got = g
                .get(var)
                .unwrap_or_else(|| panic!("no {name} gradient, {shape}"));
            let want = g_ref.get(var).unwrap();
            assert!(relative_error(got, want) < 1e-4, "{name} gradient, {shape}");
        }
        if case.bias {
            assert!(
                relative_error(g.get(&bias).unwrap(), g_ref.get(&bias).unwrap()) < 1e-4,
                "bias gradient, {shape}"
            );
        }
    }
}

/// Direct loops in f64: y = conv(x, w) + b and, for Σ y·r, the gradients of x, w, b.
fn direct(g: &Geometry, x: &[f32], w: &[f32], b: &[f32], r: &[f32]) -> [Vec<f64>; 4] {
    let mut y = vec![0f64; g.batch * g.c_out * g.ho * g.wo];
    let (mut dx, mut dw, mut db) = (
        vec![0f64; x.len()],
        vec![0f64; w.len()],
        vec![0f64; b.len()],
    );
    for n in 0..g.batch {
        for o in 0..g.c_out {
            for oy in 0..g.ho {
                for ox in 0..g.wo {
                    let yi = ((n * g.c_out + o) * g.ho + oy) * g.wo + ox;
                    y[yi] = f64::from(b[o]);
                    db[o] += f64::from(r[yi]);
                    for c in 0..g.c_in {
                        for ky in 0..g.k {
                            for kx in 0..g.k {
                                let iy = (oy * g.stride + ky) as isize - g.pad as isize;
                                let ix = (ox * g.stride + kx) as isize - g.pad as isize;
                                if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize {
                                    continue;
                                }
                                let xi = ((n * g.c_in + c) * g.h + iy as usize) * g.w + ix as usize;
                                let wi = ((o * g.c_in + c) * g.k + ky) * g.k + kx;
                                y[yi] += f64::from(x[xi]) * f64::from(w[wi]);
                                dx[xi] += f64::from(r[yi]) * f64::from(w[wi]);
                                dw[wi] += f64::from(r[yi]) * f64::from(x[xi]);
                            }
                        }
                    }
                }
            }
        }
    }
    [y, dx, dw, db]
}

#[test]
fn strides_that_do_not_divide_the_size_match_direct_loops() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let values = |rng: &mut ChaCha8Rng, n: usize| -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    };
    // DenseNet's stem on 28×28 (27 is odd: candle's backward cannot do it), then random.
    let mut shapes = vec![((2, 1, 28, 28), (4, 1, 7, 7), 2, 3)];
    for _ in 0..20 {
        let c = random_case(&mut rng, false);
        shapes.push((
            (c.batch, c.c_in, c.h, c.w),
            (c.c_out, c.c_in, c.k, c.k),
            c.stride,
            c.padding,
        ));
    }
    for (xd, kd, stride, pad) in shapes {
        let g = Geometry::new(xd, kd, stride, pad).unwrap();
        let x = values(&mut rng, xd.0 * xd.1 * xd.2 * xd.3);
        let w = values(&mut rng, kd.0 * kd.1 * kd.2 * kd.3);
        let b = values(&mut rng, kd.0);
        let r = values(&mut rng, g.batch * g.c_out * g.ho * g.wo);
        let got = [
            kernels::forward(&g, &x, &w, Some(&b)),
            kernels::input_grad(&g, &r, &w),
            kernels::kernel_grad(&g, &x, &r),
        ];
        let want = direct(&g, &x, &w, &b, &r);
        for (name, (got, want)) in ["forward", "input gradient", "kernel gradient"]
            .iter()
            .zip(got.iter().zip(&want))
        {
            let scale = want.iter().fold(1f64, |m, v| m.max(v.abs()));
            let err = got
                .iter()
                .zip(want.iter())
                .fold(0f64, |m, (a, b)| m.max((f64::from(*a) - b).abs()));
            assert!(
                err / scale < 1e-4,
                "{name} {g:?}: relative error {}",
                err / scale
            );
        }
    }
}

#[test]
fn an_input_that_tracks_nothing_gets_no_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let image = random(&mut rng, &[2, 3, 8, 8]);
    let kernel = Var::from_tensor(&random(&mut rng, &[4, 3, 3, 3])).unwrap();
    let y = super::conv2d(&image, kernel.as_tensor(), None, 1, 1).unwrap();
    let grads = y.sum_all().unwrap().backward().unwrap();
    assert!(grads.get(&image).is_none());
    assert!(grads.get(&kernel).is_some());
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // 9 images: 5 chunks of 2, so 1 and 4 threads run the GEMMs inside the chunks on one
    // thread each, and 16 threads split the GEMMs themselves too.
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let g = Geometry::new((9, 16, 12, 12), (24, 16, 3, 3), 1, 1).unwrap();
    let data = |rng: &mut ChaCha8Rng, n: usize| -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    };
    let x = data(&mut rng, 9 * 16 * 144);
    let kernel = data(&mut rng, 24 * 16 * 9);
    let dy = data(&mut rng, 9 * 24 * 144);
    let all = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                (
                    kernels::forward(&g, &x, &kernel, None),
                    kernels::input_grad(&g, &dy, &kernel),
                    kernels::kernel_grad(&g, &x, &dy),
                )
            })
    };
    let one = all(1);
    assert!(one == all(4), "results differ between 1 and 4 threads");
    assert!(one == all(16), "results differ between 1 and 16 threads");
}

#[test]
fn impossible_shapes_are_errors() {
    let x = Tensor::zeros((1, 3, 4, 4), candle_core::DType::F32, &Device::Cpu).unwrap();
    let wrong_channels =
        Tensor::zeros((2, 4, 3, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
    let e = super::conv2d(&x, &wrong_channels, None, 1, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("fast conv"), "{e}");
    let too_big = Tensor::zeros((2, 3, 7, 7), candle_core::DType::F32, &Device::Cpu).unwrap();
    let e = super::conv2d(&x, &too_big, None, 1, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not fit"), "{e}");
    let f64_input = x.to_dtype(candle_core::DType::F64).unwrap();
    assert!(super::conv2d(&f64_input, &wrong_channels, None, 1, 1).is_err());
}

use crate::pool::max_pool2;

/// Why the tests (and the zoo) do not use candle's pooling gradient: in candle 0.11 the
/// winner of a 2×2 window gets ¼ of the gradient instead of all of it. If this test fails,
/// candle fixed it.
#[test]
fn candles_max_pool2d_gradient_is_a_quarter_of_the_true_one() {
    let x =
        Var::from_tensor(&Tensor::new(&[[[[1f32, 2.], [3., 4.]]]], &Device::Cpu).unwrap()).unwrap();
    let grad = |y: Tensor| {
        let g = y.sum_all().unwrap().backward().unwrap();
        g.get(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    };
    assert_eq!(grad(x.max_pool2d(2).unwrap()), [0.0, 0.0, 0.0, 0.25]);
    assert_eq!(
        grad(max_pool2(x.as_tensor()).unwrap()),
        [0.0, 0.0, 0.0, 1.0]
    );
    let fused = super::conv_relu(
        x.as_tensor(),
        &Tensor::ones((1, 1, 1, 1), candle_core::DType::F32, &Device::Cpu).unwrap(),
        None,
        1,
        0,
        true,
    )
    .unwrap();
    assert_eq!(grad(fused), [0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn the_fused_block_matches_candles_conv_relu_and_pool() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let mut cases = vec![
        (
            true,
            Case {
                batch: 3,
                c_in: 3,
                c_out: 8,
                h: 32,
                w: 32,
                k: 3,
                stride: 1,
                padding: 1,
                bias: true,
            },
        ),
        (
            true,
            Case {
                batch: 2,
                c_in: 16,
                c_out: 4,
                h: 2,
                w: 2,
                k: 3,
                stride: 1,
                padding: 1,
                bias: true,
            },
        ),
        (
            false,
            Case {
                batch: 2,
                c_in: 4,
                c_out: 6,
                h: 9,
                w: 7,
                k: 3,
                stride: 1,
                padding: 1,
                bias: false,
            },
        ),
    ];
    for _ in 0..16 {
        let mut case = random_case(&mut rng, true);
        // With padding ≥ k some outputs see only padding, all equal to the bias: exact
        // ties, where PyTorch's first-position rule and the reference's max reduction
        // (every tied position) rightly differ.
        case.padding = case.padding.min(case.k - 1);
        if !(case.h + 2 * case.padding - case.k).is_multiple_of(case.stride)
            || !(case.w + 2 * case.padding - case.k).is_multiple_of(case.stride)
        {
            case.stride = 1;
        }
        cases.push((rng.random_bool(0.6), case));
    }
    for (pool, case) in &cases {
        let x =
            Var::from_tensor(&random(&mut rng, &[case.batch, case.c_in, case.h, case.w])).unwrap();
        let kernel =
            Var::from_tensor(&random(&mut rng, &[case.c_out, case.c_in, case.k, case.k])).unwrap();
        let bias = Var::from_tensor(&random(&mut rng, &[case.c_out])).unwrap();
        let candle = |x: &Tensor| {
            let mut y = x.conv2d(&kernel, case.padding, case.stride, 1, 1).unwrap();
            if case.bias {
                y = y
                    .broadcast_add(&bias.reshape((1, case.c_out, 1, 1)).unwrap())
                    .unwrap();
            }
            y = y.relu().unwrap();
            if *pool {
                y = max_pool2(&y).unwrap();
            }
            y
        };
        let fast = |x: &Tensor| {
            super::conv_relu(
                x,
                &kernel,
                case.bias.then(|| bias.as_tensor()),
                case.stride,
                case.padding,
                *pool,
            )
            .unwrap()
        };
        let shape = format!(
            "pool {pool} batch {} c {}→{} {}×{} k {} stride {} padding {}",
            case.batch, case.c_in, case.c_out, case.h, case.w, case.k, case.stride, case.padding
        );
        let want = candle(x.as_tensor());
        if want.elem_count() == 0 {
            continue;
        }
        let got = fast(x.as_tensor());
        assert!(relative_error(&got, &want) < 1e-4, "forward, {shape}");
        let r = random(&mut rng, want.dims());
        let g_ref = (&want * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let g = (&got * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let mut vars = vec![("input", &x), ("kernel", &kernel)];
        if case.bias {
            vars.push(("bias", &bias));
        }
        for (name, var) in vars {
            let got = g
                .get(var)
                .unwrap_or_else(|| panic!("no {name} gradient, {shape}"));
            assert!(
                relative_error(got, g_ref.get(var).unwrap()) < 1e-4,
                "{name} gradient, {shape}"
            );
        }
    }
}

#[test]
fn max_pool_with_overlapping_windows_matches_direct_loops() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for &(b, c, h, w, window, stride) in &[
        (2, 3, 9, 9, 3, 2),
        (1, 2, 8, 11, 3, 2),
        (3, 1, 6, 6, 2, 2),
        (1, 4, 7, 5, 3, 1),
    ] {
        let x = Var::from_tensor(&random(&mut rng, &[b, c, h, w])).unwrap();
        let y = super::max_pool(x.as_tensor(), window, stride).unwrap();
        let (oh, ow) = ((h - window) / stride + 1, (w - window) / stride + 1);
        assert_eq!(y.dims(), [b, c, oh, ow]);
        let r = random(&mut rng, &[b, c, oh, ow]);
        let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let xs = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let rs = r.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let ys = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let mut want_dx = vec![0f32; xs.len()];
        for p in 0..b * c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let (mut best, mut at) = (f32::NEG_INFINITY, 0);
                    for ky in 0..window {
                        for kx in 0..window {
                            let k = p * h * w + (oy * stride + ky) * w + ox * stride + kx;
                            if xs[k] > best {
                                (best, at) = (xs[k], k);
                            }
                        }
                    }
                    let o = (p * oh + oy) * ow + ox;
                    assert_eq!(ys[o], best);
                    want_dx[at] += rs[o];
                }
            }
        }
        let dx = grads
            .get(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for (g, w) in dx.iter().zip(&want_dx) {
            assert!((g - w).abs() < 1e-6, "{g} vs {w}");
        }
    }
}
