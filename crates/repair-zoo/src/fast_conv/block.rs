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
use rayon::prelude::*;

use super::kernels::{self, Geometry};
use super::scratch::Scratch;
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
        if !self.pool() {
            let mut z = kernels::forward(&g, x, kernel, bias);
            if self.activation != Activation::None {
                z.par_iter_mut().for_each(|v| *v = v.max(0.0));
            }
            return Ok((CpuStorage::F32(z), out_shape(&g, false)));
        }
        let mut z = Scratch::new(g.batch * g.c_out * g.ho * g.wo);
        kernels::forward_into(&g, x, kernel, bias, &mut z);
        let (ph, pw) = (g.ho / 2, g.wo / 2);
        let mut out = vec![0f32; g.batch * g.c_out * ph * pw];
        let mut winners = vec![0u8; out.len()];
        out.par_chunks_mut(ph * pw)
            .zip(winners.par_chunks_mut(ph * pw))
            .enumerate()
            .for_each(|(p, (out, won))| {
                let plane = &z[p * g.ho * g.wo..(p + 1) * g.ho * g.wo];
                for py in 0..ph {
                    for px in 0..pw {
                        let (mut best, mut at) = (f32::NEG_INFINITY, 0u8);
                        for (k, (dy, dx)) in
                            [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate()
                        {
                            let v = plane[(2 * py + dy) * g.wo + 2 * px + dx];
                            if v > best {
                                (best, at) = (v, k as u8);
                            }
                        }
                        out[py * pw + px] = best.max(0.0);
                        won[py * pw + px] = at;
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
        // The gradient before the activation: `dy` itself for the plain convolution.
        let masked;
        let dz: &[f32] = match self.activation {
            Activation::None => dy,
            Activation::Relu { .. } => {
                let (res_s, res_l) = res.storage_and_layout();
                masked = self.pre_activation_grad(&g, dy, cpu_slice(&res_s, res_l, "output")?)?;
                &masked
            }
        };
        let (x_s, x_l) = x.storage_and_layout();
        let (k_s, k_l) = kernel.storage_and_layout();
        let xs = cpu_slice(&x_s, x_l, "input")?;
        let ks = cpu_slice(&k_s, k_l, "kernel")?;
        let device = x.device();
        let dx = if x.track_op() {
            let dx = kernels::input_grad(&g, dz, ks);
            Some(Tensor::from_vec(dx, x.dims(), device)?)
        } else {
            None
        };
        let dk = if kernel.track_op() {
            let dk = kernels::kernel_grad(&g, xs, dz);
            Some(Tensor::from_vec(dk, kernel.dims(), device)?)
        } else {
            None
        };
        let db = if with_bias {
            let plane = g.ho * g.wo;
            let db: Vec<f32> = (0..g.c_out)
                .into_par_iter()
                .map(|o| {
                    (0..g.batch)
                        .map(|n| dz[(n * g.c_out + o) * plane..][..plane].iter().sum::<f32>())
                        .sum()
                })
                .collect();
            Some(Tensor::from_vec(db, g.c_out, device)?)
        } else {
            None
        };
        Ok((dx, dk, db))
    }

    /// The gradient before the ReLU (and the pool), full resolution.
    fn pre_activation_grad(&self, g: &Geometry, dy: &[f32], res: &[f32]) -> Result<Scratch> {
        let plane = g.ho * g.wo;
        let mut dz = Scratch::zeroed(g.batch * g.c_out * plane);
        if !self.pool() {
            dz.par_iter_mut()
                .zip(dy.par_iter().zip(res))
                .for_each(|(d, (&dy, &r))| *d = if r > 0.0 { dy } else { 0.0 });
            return Ok(dz);
        }
        let winners = self.winners.get().ok_or_else(|| {
            candle_core::Error::Msg("fast conv block: backward before forward".into())
        })?;
        let (ph, pw) = (g.ho / 2, g.wo / 2);
        dz.par_chunks_mut(plane).enumerate().for_each(|(p, dz)| {
            let at = p * ph * pw;
            for py in 0..ph {
                for px in 0..pw {
                    let k = at + py * pw + px;
                    if res[k] > 0.0 {
                        let (dy_, dx_) = ((winners[k] / 2) as usize, (winners[k] % 2) as usize);
                        dz[(2 * py + dy_) * g.wo + 2 * px + dx_] = dy[k];
                    }
                }
            }
        });
        Ok(dz)
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
