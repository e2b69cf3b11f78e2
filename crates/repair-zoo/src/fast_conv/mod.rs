//! A fast CPU 2-D convolution with its own backward pass, plugged into candle's autograd
//! as custom ops (issue 8). candle 0.11's CPU backward computes the input gradient with
//! a direct `conv_transpose2d` loop, and computes it even for the input image, which
//! nothing needs; here all three products are GEMMs over im2col chunks
//! ([`kernels`]), and the input gradient is skipped when the input does not track
//! gradients (the first layer). CUDA and non-`f32` tensors keep candle's convolution.

mod block;
mod gemm;
mod kernels;
mod pool;
mod scratch;

pub use block::conv_relu;
pub use pool::max_pool;

use candle_core::{CpuStorage, CustomOp2, CustomOp3, DType, Layout, Result, Shape, Tensor};

use kernels::Geometry;

/// `conv2d(x, kernel) + bias` with stride and zero padding on both axes: `x` is
/// (batch, c_in, h, w), `kernel` (c_out, c_in, k, k), `bias` (c_out). CPU, `f32`.
pub fn conv2d(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    stride: usize,
    padding: usize,
) -> Result<Tensor> {
    check_cpu_f32(&[("input", x), ("kernel", kernel)])?;
    let (x, kernel) = (x.contiguous()?, kernel.contiguous()?);
    let op = Conv2d { stride, padding };
    match bias {
        Some(b) => x.apply_op3(&kernel, &b.contiguous()?, op),
        None => x.apply_op2(&kernel, op),
    }
}

/// Refuses tensors the kernels cannot read.
fn check_cpu_f32(tensors: &[(&str, &Tensor)]) -> Result<()> {
    for (name, t) in tensors {
        if t.dtype() != DType::F32 || !t.device().is_cpu() {
            candle_core::bail!(
                "fast conv: the {name} is {:?} on {:?}; want f32 on the CPU",
                t.dtype(),
                t.device()
            );
        }
    }
    Ok(())
}

/// A bias must have one value per output channel.
fn check_bias(g: &Geometry, bias: Option<&[f32]>) -> Result<()> {
    match bias {
        Some(b) if b.len() != g.c_out => {
            candle_core::bail!("fast conv: a bias of {} for {} channels", b.len(), g.c_out)
        }
        _ => Ok(()),
    }
}

/// The forward op; with two arguments (input, kernel) or three (…, bias).
#[derive(Debug, Clone, Copy)]
struct Conv2d {
    stride: usize,
    padding: usize,
}

/// The input gradient: arguments (dy, kernel), input dimensions known.
#[derive(Debug, Clone, Copy)]
struct InputGrad {
    x: (usize, usize, usize, usize),
    stride: usize,
    padding: usize,
}

/// The kernel gradient: arguments (x, dy), kernel size known.
#[derive(Debug, Clone, Copy)]
struct KernelGrad {
    k: usize,
    stride: usize,
    padding: usize,
}

fn slice<'a>(storage: &'a CpuStorage, layout: &Layout, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("fast conv: the {what} is not f32");
    };
    let (start, end) = layout.contiguous_offsets().ok_or_else(|| {
        candle_core::Error::Msg(format!("fast conv: the {what} is not contiguous"))
    })?;
    Ok(&data[start..end])
}

/// An output gradient must have the convolution's output shape.
fn expect_output_gradient(g: &Geometry, layout: &Layout) -> Result<()> {
    let want = (g.batch, g.c_out, g.ho, g.wo);
    if layout.shape().dims4()? != want {
        candle_core::bail!(
            "fast conv: gradient {:?} for an output of {want:?}",
            layout.shape()
        );
    }
    Ok(())
}

fn geometry(g: std::result::Result<Geometry, String>) -> Result<Geometry> {
    g.map_err(candle_core::Error::Msg)
}

fn output(g: &Geometry, data: Vec<f32>) -> (CpuStorage, Shape) {
    (
        CpuStorage::F32(data),
        Shape::from((g.batch, g.c_out, g.ho, g.wo)),
    )
}

impl Conv2d {
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
        check_bias(&g, bias)?;
        let y = kernels::forward(&g, slice(s1, l1, "input")?, slice(s2, l2, "kernel")?, bias);
        Ok(output(&g, y))
    }

    /// Gradients of input and kernel; the input's only when it tracks (not an image).
    fn grads(
        &self,
        x: &Tensor,
        kernel: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let dx = if x.track_op() {
            Some(dy.apply_op2_no_bwd(
                kernel,
                &InputGrad {
                    x: x.dims4()?,
                    stride: self.stride,
                    padding: self.padding,
                },
            )?)
        } else {
            None
        };
        let dk = if kernel.track_op() {
            Some(x.apply_op2_no_bwd(
                &dy,
                &KernelGrad {
                    k: kernel.dim(2)?,
                    stride: self.stride,
                    padding: self.padding,
                },
            )?)
        } else {
            None
        };
        Ok((dx, dk))
    }
}

impl CustomOp2 for Conv2d {
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
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        self.grads(x, kernel, dy)
    }
}

impl CustomOp3 for Conv2d {
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
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dk) = self.grads(x, kernel, dy)?;
        let db = if bias.track_op() {
            Some(dy.sum((0, 2, 3))?)
        } else {
            None
        };
        Ok((dx, dk, db))
    }
}

impl CustomOp2 for InputGrad {
    fn name(&self) -> &'static str {
        "fast-conv2d-input-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = geometry(Geometry::new(
            self.x,
            l2.shape().dims4()?,
            self.stride,
            self.padding,
        ))?;
        expect_output_gradient(&g, l1)?;
        let dx = kernels::input_grad(
            &g,
            slice(s1, l1, "output gradient")?,
            slice(s2, l2, "kernel")?,
        );
        Ok((CpuStorage::F32(dx), Shape::from(self.x)))
    }
}

impl CustomOp2 for KernelGrad {
    fn name(&self) -> &'static str {
        "fast-conv2d-kernel-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = l1.shape().dims4()?;
        let c_out = l2.shape().dims4()?.1;
        let g = geometry(Geometry::new(
            x,
            (c_out, x.1, self.k, self.k),
            self.stride,
            self.padding,
        ))?;
        expect_output_gradient(&g, l2)?;
        let dk = kernels::kernel_grad(
            &g,
            slice(s1, l1, "input")?,
            slice(s2, l2, "output gradient")?,
        );
        Ok((
            CpuStorage::F32(dk),
            Shape::from((g.c_out, g.c_in, g.k, g.k)),
        ))
    }
}

#[cfg(test)]
mod tests;
