//! Pooling built from reshapes, slices and reductions, so that its gradient comes from
//! candle's autograd of those ops, on any device. candle 0.11's own pooling ops are
//! wrong or missing in backward: `max_pool2d(2)` hands a window's maximum a quarter of
//! the gradient, `max_pool2d_with_stride(3, 2)` has no backward at all, and
//! `avg_pool2d(2)` on an odd side gives the dropped last row and column a gradient.
//! On the CPU the zoo's models pool inside the [`fast_conv`](crate::fast_conv) ops;
//! these are candle's path (`EARLY_REPAIR_CONV=candle`) and CUDA's.

use candle_core::{Tensor, D};

/// A 2×2 max-pool (stride 2, odd sizes floored) as a reshape and a max reduction. It
/// stands in for candle 0.11's `max_pool2d(2)`, whose backward gives a window's maximum
/// only a quarter of the output gradient (a test in `fast_conv` pins this); the max
/// reduction's gradient is right.
pub fn max_pool2(xs: &Tensor) -> candle_core::Result<Tensor> {
    windows2(xs)?.max(D::Minus1)
}

/// A 2×2 average pool (stride 2, odd sizes floored, as PyTorch and Keras do): the last
/// row/column of an odd side is dropped before pooling, so it gets no gradient (candle
/// 0.11's `avg_pool2d` backward upsamples to the full input and gives it one).
pub fn avg_pool2(xs: &Tensor) -> candle_core::Result<Tensor> {
    windows2(xs)?.mean(D::Minus1)
}

/// Refuses a pooling window that is empty, has no stride, or does not fit `h × w`
/// (shared with [`fast_conv::max_pool`](crate::fast_conv::max_pool)).
pub(crate) fn check_window(
    window: usize,
    stride: usize,
    h: usize,
    w: usize,
) -> candle_core::Result<()> {
    if window == 0 || stride == 0 || window > h || window > w {
        candle_core::bail!("max pool: a {window}×{window} window, stride {stride}, on {h}×{w}");
    }
    Ok(())
}

/// The 2×2 windows of `xs` (b, c, h, w) as the last axis: (b, c, h/2, w/2, 4).
fn windows2(xs: &Tensor) -> candle_core::Result<Tensor> {
    let (b, c, h, w) = xs.dims4()?;
    let (ph, pw) = (h / 2, w / 2);
    xs.narrow(2, 0, 2 * ph)?
        .narrow(3, 0, 2 * pw)?
        .reshape((b, c, ph, 2, pw, 2))?
        .permute((0, 1, 2, 4, 3, 5))?
        .reshape((b, c, ph, pw, 4))
}

/// `max_pool2d(xs, window, stride)` without padding (pad the input first; sizes
/// floored) as `window²` strided slices and a max reduction: what DenseNet-121's 3×3/2
/// stem pool runs on devices without the CPU custom op
/// ([`fast_conv::max_pool`](crate::fast_conv::max_pool)). Both give the maximum the
/// whole gradient; on exact ties this one gives it to every tied input.
pub fn max_pool_strided(xs: &Tensor, window: usize, stride: usize) -> candle_core::Result<Tensor> {
    let (b, c, h, w) = xs.dims4()?;
    check_window(window, stride, h, w)?;
    let (oh, ow) = ((h - window) / stride + 1, (w - window) / stride + 1);
    // Room for `stride · out` rows/columns from every window offset; the padding is
    // never picked (only the first of every `stride` rows/columns is kept).
    let padded = xs
        .pad_with_zeros(2, 0, stride)?
        .pad_with_zeros(3, 0, stride)?;
    let mut taps = Vec::with_capacity(window * window);
    for ky in 0..window {
        let rows = padded
            .narrow(2, ky, stride * oh)?
            .reshape((b, c, oh, stride, w + stride))?
            .narrow(3, 0, 1)?
            .squeeze(3)?;
        for kx in 0..window {
            let tap = rows
                .narrow(3, kx, stride * ow)?
                .reshape((b, c, oh, ow, stride))?
                .narrow(4, 0, 1)?;
            taps.push(tap);
        }
    }
    Tensor::cat(&taps, 4)?.max(D::Minus1)
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    fn random(shape: (usize, usize, usize, usize), seed: u64) -> Var {
        let n = shape.0 * shape.1 * shape.2 * shape.3;
        // A fixed permutation of distinct values: no ties, so maxima are unique.
        let values: Vec<f32> = (0..n)
            .map(|i| ((i as u64 * 7919 + seed * 104_729) % n as u64) as f32 / n as f32 - 0.5)
            .collect();
        Var::from_tensor(&Tensor::from_vec(values, shape, &Device::Cpu).unwrap()).unwrap()
    }

    /// Sum of `ys · weights` with fixed distinct weights, so every output's gradient
    /// is different and a misrouted gradient shows.
    fn weighted_sum(ys: &Tensor) -> Tensor {
        let n = ys.elem_count();
        let weights: Vec<f32> = (0..n).map(|i| 1.0 + i as f32 / n as f32).collect();
        let weights = Tensor::from_vec(weights, ys.shape(), ys.device()).unwrap();
        (ys * weights).unwrap().sum_all().unwrap()
    }

    #[test]
    fn strided_max_pool_matches_the_cpu_op_forward_and_backward() {
        for (shape, window, stride) in [
            ((2, 3, 9, 9), 3, 2),
            ((1, 2, 10, 7), 3, 2),
            ((2, 1, 6, 6), 2, 2),
            ((1, 2, 8, 11), 3, 3),
        ] {
            let x = random(shape, 3);
            let ours = max_pool_strided(x.as_tensor(), window, stride).unwrap();
            let op = crate::fast_conv::max_pool(x.as_tensor(), window, stride).unwrap();
            assert_eq!(ours.dims(), op.dims(), "{shape:?}");
            let diff = (&ours - &op).unwrap().abs().unwrap().max_all().unwrap();
            assert_eq!(diff.to_scalar::<f32>().unwrap(), 0.0, "{shape:?}");
            let g_ours = weighted_sum(&ours).backward().unwrap();
            let g_op = weighted_sum(&op).backward().unwrap();
            let (a, b) = (g_ours.get(&x).unwrap(), g_op.get(&x).unwrap());
            let diff = (a - b).unwrap().abs().unwrap().max_all().unwrap();
            assert!(diff.to_scalar::<f32>().unwrap() < 1e-6, "{shape:?}");
        }
    }

    #[test]
    fn average_pool_on_an_odd_side_gives_the_dropped_edge_no_gradient() {
        let x = random((1, 1, 5, 5), 1);
        let ys = avg_pool2(x.as_tensor()).unwrap();
        assert_eq!(ys.dims(), [1, 1, 2, 2]);
        let want = x.as_tensor().avg_pool2d(2).unwrap();
        let diff = (&ys - &want).unwrap().abs().unwrap().max_all().unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-6);
        let grads = ys.sum_all().unwrap().backward().unwrap();
        let g = grads
            .get(&x)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .squeeze(0)
            .unwrap();
        let g = g.to_vec2::<f32>().unwrap();
        for (y, row) in g.iter().enumerate() {
            for (x, &v) in row.iter().enumerate() {
                let want = if y < 4 && x < 4 { 0.25 } else { 0.0 };
                assert_eq!(v, want, "({y}, {x})");
            }
        }
    }

    #[test]
    fn max_pool_gives_each_window_maximum_the_whole_gradient() {
        let x = random((1, 1, 4, 4), 2);
        let ys = max_pool2(x.as_tensor()).unwrap();
        let grads = ys.sum_all().unwrap().backward().unwrap();
        let g = grads.get(&x).unwrap().flatten_all().unwrap();
        let g = g.to_vec1::<f32>().unwrap();
        assert_eq!(g.iter().filter(|&&v| v == 1.0).count(), 4);
        assert_eq!(g.iter().filter(|&&v| v == 0.0).count(), 12);
    }
}
