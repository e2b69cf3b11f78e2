//! A stride-1 convolution as one matrix product over an im2col matrix built from tensor
//! ops (pad, narrow, stack), so that candle's autograd differentiates it with two more
//! matrix products and copies: what the zoo's models run on CUDA.
//!
//! Why: candle 0.11's `conv2d` backward computes the input gradient with a direct
//! `conv_transpose2d` kernel, and computes it even for the input image. Under Nsight
//! Compute (`ncu --metrics gpu__time_duration.sum`, one H200) that kernel took 48 % of a
//! VGG16 training step at batch 128 and candle's `im2col` kernel 17 %, cuBLAS's GEMMs
//! 10 %. Here both gradients are cuBLAS GEMMs, and a 1×1 convolution (half of
//! DenseNet's) needs no im2col at all. Strided convolutions keep candle's `conv2d`.

use candle_core::{Result, Tensor};

/// `conv2d(x, kernel, padding, stride 1) + bias`: x (N, C, H, W), kernel (O, C, k, k),
/// bias (O). The im2col matrix is laid out (C·k·k, N·H'·W') so that the product is one
/// GEMM (O × C·k·k times C·k·k × N·H'·W') and so are both of its gradients.
pub fn conv2d(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    padding: usize,
) -> Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let (c_out, c_in, k, k_w) = kernel.dims4()?;
    if c != c_in || k != k_w || h + 2 * padding < k || w + 2 * padding < k {
        candle_core::bail!(
            "conv2d: input {:?} and kernel {:?} with padding {padding}",
            x.dims(),
            kernel.dims()
        );
    }
    let (oh, ow) = (h + 2 * padding + 1 - k, w + 2 * padding + 1 - k);
    // Channels first, so that every (channel, tap) row of the im2col matrix is one
    // contiguous run over the batch and the positions.
    let x = x.permute((1, 0, 2, 3))?;
    let x = if padding > 0 {
        x.pad_with_zeros(2, padding, padding)?
            .pad_with_zeros(3, padding, padding)?
    } else {
        x
    };
    let cols = if k == 1 {
        x.contiguous()?.reshape((c, n * oh * ow))?
    } else {
        let mut taps = Vec::with_capacity(k * k);
        for ky in 0..k {
            for kx in 0..k {
                taps.push(x.narrow(2, ky, oh)?.narrow(3, kx, ow)?);
            }
        }
        // (C, k·k, N, H', W'): row c·k·k + ky·k + kx, as the kernel's (C, k, k) flattens.
        Tensor::stack(&taps, 1)?.reshape((c * k * k, n * oh * ow))?
    };
    let ys = kernel.reshape((c_out, c * k * k))?.matmul(&cols)?;
    let ys = match bias {
        Some(b) => ys.broadcast_add(&b.reshape((c_out, 1))?)?,
        None => ys,
    };
    ys.reshape((c_out, n, oh, ow))?
        .permute((1, 0, 2, 3))?
        .contiguous()
}

#[cfg(test)]
mod tests {
    use candle_core::Var;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use crate::fast_conv::tests::{random, relative_error};

    /// Forward and the gradients of input, kernel and bias against candle's `conv2d`,
    /// through Σ y·r with random r (a misrouted gradient shows).
    #[test]
    fn forward_and_every_gradient_match_candles_conv2d() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        // (batch, c_in, c_out, h, w, k, padding, bias): 1×1, 3×3 with and without padding,
        // 5×5, odd and non-square sizes, a map smaller than the kernel but padded.
        let cases = [
            (2, 3, 4, 5, 7, 1, 0, true),
            (3, 4, 5, 8, 8, 3, 1, true),
            (2, 2, 3, 6, 5, 3, 0, false),
            (1, 3, 2, 7, 9, 5, 2, true),
            (2, 5, 3, 2, 1, 3, 1, false),
        ];
        for (b, c_in, c_out, h, w, k, padding, with_bias) in cases {
            let x = Var::from_tensor(&random(&mut rng, &[b, c_in, h, w])).unwrap();
            let kernel = Var::from_tensor(&random(&mut rng, &[c_out, c_in, k, k])).unwrap();
            let bias = Var::from_tensor(&random(&mut rng, &[c_out])).unwrap();
            let ours = super::conv2d(&x, &kernel, with_bias.then_some(&*bias), padding).unwrap();
            let theirs = x.conv2d(&kernel, padding, 1, 1, 1).unwrap();
            let theirs = if with_bias {
                theirs
                    .broadcast_add(&bias.reshape((1, c_out, 1, 1)).unwrap())
                    .unwrap()
            } else {
                theirs
            };
            let case = format!("{b}×{c_in}×{h}×{w}, {c_out}×{k}×{k}, padding {padding}");
            assert!(relative_error(&ours, &theirs) < 1e-5, "{case}: forward");
            let r = random(&mut rng, theirs.dims());
            let backward =
                |y: &candle_core::Tensor| (y * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let (g_ours, g_theirs) = (backward(&ours), backward(&theirs));
            let mut vars = vec![("input", &x), ("kernel", &kernel)];
            if with_bias {
                vars.push(("bias", &bias));
            }
            for (name, var) in vars {
                let e = relative_error(g_ours.get(var).unwrap(), g_theirs.get(var).unwrap());
                assert!(e < 1e-5, "{case}: {name} gradient off by {e:.2e}");
            }
        }
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let x = random(&mut rng, &[1, 3, 4, 4]);
        let wrong_channels = random(&mut rng, &[2, 4, 3, 3]);
        assert!(super::conv2d(&x, &wrong_channels, None, 1).is_err());
        let too_big = random(&mut rng, &[2, 3, 7, 7]);
        assert!(super::conv2d(&x, &too_big, None, 1).is_err());
    }
}
