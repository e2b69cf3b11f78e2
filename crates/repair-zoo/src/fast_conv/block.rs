//! The convolution op: conv (+ bias), optionally → ReLU → 2×2 max-pool, as **one**
//! autograd node; the plain convolution is the same op without the ReLU and pool. In
//! candle each of these is a node whose backward makes several full-size passes (a zero tensor to
//! accumulate into, the ReLU mask, its dtype cast, the product; pooling's upsample and
//! equality mask), which cost more than the convolution's GEMMs at the zoo's sizes. Here
//! the forward keeps each pooled output's winning position and the backward scatters
//! the output gradient straight to it (or through the ReLU mask without pooling).
//!
//! Pooling follows PyTorch's `MaxPool2d(2)`: floor of odd sizes, and on ties the first
//! position in row-major order gets the gradient (candle's own pooling gives it to every
//! tied position; ties only happen at ReLU's zeros, where the gradient is zero anyway).

use std::sync::OnceLock;

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Storage, Tensor};

use super::kernels::{self, Chunk, Geometry, Wanted};
use super::{geometry, slice};

/// `maxpool2(relu(conv(x, kernel) + bias))`, or without the pool; CPU, `f32`.
pub fn conv_relu(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    stride: usize,
    padding: usize,
    pool: bool,
) -> Result<Tensor> {
    apply(x, kernel, bias, stride, padding, Activation::Relu { pool })
}

/// What follows the convolution inside the op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Activation {
    /// Nothing: the plain convolution.
    None,
    /// ReLU, then a 2×2 max-pool when `pool`.
    Relu { pool: bool },
}

/// Runs the op on CPU `f32` tensors.
pub(super) fn apply(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    stride: usize,
    padding: usize,
    activation: Activation,
) -> Result<Tensor> {
    super::check_cpu_f32(&[("input", x), ("kernel", kernel)])?;
    let (x, kernel) = (x.contiguous()?, kernel.contiguous()?);
    let op = ConvBlock {
        stride,
        padding,
        activation,
        winners: OnceLock::new(),
    };
    match bias {
        Some(b) => x.apply_op3(&kernel, &b.contiguous()?, op),
        None => x.apply_op2(&kernel, op),
    }
}

/// The op; `winners` holds, per pooled output, the index (0..4) of the window position
/// that won, set by the forward pass for the backward pass.
#[derive(Debug)]
struct ConvBlock {
    stride: usize,
    padding: usize,
    activation: Activation,
    winners: OnceLock<Vec<u8>>,
}

fn out_shape(g: &Geometry, pool: bool) -> Shape {
    if pool {
        Shape::from((g.batch, g.c_out, g.ho / 2, g.wo / 2))
    } else {
        Shape::from((g.batch, g.c_out, g.ho, g.wo))
    }
}

impl ConvBlock {
    fn pool(&self) -> bool {
        self.activation == Activation::Relu { pool: true }
    }

    fn forward(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        bias: Option<&[f32]>,
    ) -> Result<(CpuStorage, Shape)> {
        let g = geometry(Geometry::new(
            l1.shape().dims4()?,
            l2.shape().dims4()?,
            self.stride,
            self.padding,
        ))?;
        super::check_bias(&g, bias)?;
        let (x, kernel) = (slice(s1, l1, "input")?, slice(s2, l2, "kernel")?);
        let bias_of = |o: usize| bias.map_or(0.0, |b| b[o]);
        match self.activation {
            Activation::None => {
                let y = kernels::forward(&g, x, kernel, bias);
                return Ok((CpuStorage::F32(y), out_shape(&g, false)));
            }
            Activation::Relu { pool: false } => {
                let y = kernels::forward_map(&g, x, kernel, bias, |v| v.max(0.0));
                return Ok((CpuStorage::F32(y), out_shape(&g, false)));
            }
            Activation::Relu { pool: true } => {}
        }
        let (ph, pw) = (g.ho / 2, g.wo / 2);
        let pooled = (ph * pw).max(1);
        let mut out = vec![0f32; g.batch * g.c_out * ph * pw];
        let mut winners = vec![0u8; out.len()];
        let outputs: Vec<_> = kernels::per_chunk(&g, &mut out, g.c_out * ph * pw)
            .into_iter()
            .zip(kernels::per_chunk(&g, &mut winners, g.c_out * ph * pw))
            .collect();
        kernels::forward_chunks(&g, x, kernel, outputs, |c, product, (out, won)| {
            let pieces = out.chunks_mut(pooled).zip(won.chunks_mut(pooled));
            for ((o, plane), (out, won)) in kernels::planes(&g, c, product).zip(pieces) {
                for py in 0..ph {
                    let top = &plane[2 * py * g.wo..][..2 * pw];
                    let bottom = &plane[(2 * py + 1) * g.wo..][..2 * pw];
                    let at = py * pw..(py + 1) * pw;
                    pool_rows(top, bottom, bias_of(o), &mut out[at.clone()], &mut won[at]);
                }
            }
        });
        self.winners
            .set(winners)
            .map_err(|_| candle_core::Error::Msg("fast conv block: forward ran twice".into()))?;
        Ok((CpuStorage::F32(out), out_shape(&g, true)))
    }

    /// Gradients of input, kernel and bias.
    fn grads(
        &self,
        x: &Tensor,
        kernel: &Tensor,
        with_bias: bool,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let g = geometry(Geometry::new(
            x.dims4()?,
            kernel.dims4()?,
            self.stride,
            self.padding,
        ))?;
        let dy = dy.contiguous()?;
        let (dy_s, dy_l) = dy.storage_and_layout();
        if dy_l.shape() != &out_shape(&g, self.pool()) {
            candle_core::bail!(
                "fast conv: gradient {:?} for an output of {:?}",
                dy_l.shape(),
                out_shape(&g, self.pool())
            );
        }
        let dy = cpu_slice(&dy_s, dy_l, "output gradient")?;
        let (x_s, x_l) = x.storage_and_layout();
        let (k_s, k_l) = kernel.storage_and_layout();
        let xs = cpu_slice(&x_s, x_l, "input")?;
        let ks = cpu_slice(&k_s, k_l, "kernel")?;
        let wanted = Wanted {
            input: x.track_op(),
            kernel: kernel.track_op(),
            bias: with_bias,
        };
        // The gradient before the activation, chunk by chunk: `dy` itself for the plain
        // convolution, through ReLU's mask, or scattered to each pooling window's winner.
        let grads = match self.activation {
            Activation::None => kernels::backward(&g, xs, ks, wanted, |c, dz| {
                kernels::gather(&g, dy, None, c, dz)
            }),
            Activation::Relu { pool } => {
                let (res_s, res_l) = res.storage_and_layout();
                let res = cpu_slice(&res_s, res_l, "output")?;
                if pool {
                    let winners = self.winners.get().ok_or_else(|| {
                        candle_core::Error::Msg("fast conv block: backward before forward".into())
                    })?;
                    kernels::backward(&g, xs, ks, wanted, |c, dz| {
                        unpool(&g, dy, res, winners, c, dz)
                    })
                } else {
                    kernels::backward(&g, xs, ks, wanted, |c, dz| {
                        kernels::gather(&g, dy, Some(res), c, dz)
                    })
                }
            }
        };
        let device = x.device();
        let tensor = |v: Option<Vec<f32>>, dims: &[usize]| -> Result<Option<Tensor>> {
            v.map(|v| Tensor::from_vec(v, dims, device)).transpose()
        };
        Ok((
            tensor(grads.input, x.dims())?,
            tensor(grads.kernel, kernel.dims())?,
            tensor(grads.bias, &[g.c_out])?,
        ))
    }
}

/// One row of a 2×2 max-pool after bias and ReLU: from input rows `top` and `bottom`
/// (2·pw values each), `out` (pw) and each window's winner (0..4, row-major). Pairwise
/// comparisons without branches, so it vectorises; the winner is the first maximum in
/// row-major order, as a strict `>` scan would find (PyTorch's rule).
fn pool_rows(top: &[f32], bottom: &[f32], bias: f32, out: &mut [f32], won: &mut [u8]) {
    let windows = top.chunks_exact(2).zip(bottom.chunks_exact(2));
    for ((o, w), (t, b)) in out.iter_mut().zip(won.iter_mut()).zip(windows) {
        let (a0, a1) = (t[0] + bias, t[1] + bias);
        let (b0, b1) = (b[0] + bias, b[1] + bias);
        let (t, tw) = if a1 > a0 { (a1, 1u8) } else { (a0, 0u8) };
        let (d, dw) = if b1 > b0 { (b1, 3u8) } else { (b0, 2u8) };
        let (best, at) = if d > t { (d, dw) } else { (t, tw) };
        *o = best.max(0.0);
        *w = at;
    }
}

/// A chunk of the gradient before ReLU and the 2×2 pool (c_out × nb·HoWo): each pooled
/// output's gradient goes to its window's winner when the output is positive; every other
/// position (the rest of each window, an odd last row or column) gets 0. One pass that
/// writes every value, without a separate zero fill.
fn unpool(g: &Geometry, dy: &[f32], res: &[f32], winners: &[u8], c: Chunk, dz: &mut [f32]) {
    let (plane, width) = (g.out_plane(), c.nb * g.out_plane());
    let (ph, pw) = (g.ho / 2, g.wo / 2);
    for (o, row) in dz[..g.c_out * width].chunks_mut(width).enumerate() {
        for i in 0..c.nb {
            let at = ((c.b0 + i) * g.c_out + o) * ph * pw;
            let target = &mut row[i * plane..(i + 1) * plane];
            for py in 0..ph {
                let (top, rest) = target[2 * py * g.wo..].split_at_mut(g.wo);
                let bottom = &mut rest[..g.wo];
                let k = at + py * pw..at + (py + 1) * pw;
                let sources = dy[k.clone()].iter().zip(&res[k.clone()]).zip(&winners[k]);
                let pairs = top.chunks_exact_mut(2).zip(bottom.chunks_exact_mut(2));
                for ((t, b), ((&dy, &r), &w)) in pairs.zip(sources) {
                    let v = if r > 0.0 { dy } else { 0.0 };
                    t[0] = if w == 0 { v } else { 0.0 };
                    t[1] = if w == 1 { v } else { 0.0 };
                    b[0] = if w == 2 { v } else { 0.0 };
                    b[1] = if w == 3 { v } else { 0.0 };
                }
                top[2 * pw..].fill(0.0);
                bottom[2 * pw..].fill(0.0);
            }
            target[2 * ph * g.wo..].fill(0.0);
        }
    }
}

fn cpu_slice<'a>(storage: &'a Storage, layout: &Layout, what: &str) -> Result<&'a [f32]> {
    match storage {
        Storage::Cpu(s) => slice(s, layout, what),
        _ => candle_core::bail!("fast conv block: the {what} is not on the CPU"),
    }
}

impl CustomOp2 for ConvBlock {
    fn name(&self) -> &'static str {
        "fast-conv2d"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.forward(s1, l1, s2, l2, None)
    }

    fn bwd(
        &self,
        x: &Tensor,
        kernel: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (dx, dk, _) = self.grads(x, kernel, false, res, dy)?;
        Ok((dx, dk))
    }
}

impl CustomOp3 for ConvBlock {
    fn name(&self) -> &'static str {
        "fast-conv2d-bias"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.forward(s1, l1, s2, l2, Some(slice(s3, l3, "bias")?))
    }

    fn bwd(
        &self,
        x: &Tensor,
        kernel: &Tensor,
        bias: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dk, db) = self.grads(x, kernel, bias.track_op(), res, dy)?;
        Ok((dx, dk, db))
    }
}
