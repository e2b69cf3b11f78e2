//! A fast CPU 2-D convolution with its own backward pass, plugged into candle's autograd
//! as custom ops. candle 0.11's CPU backward computes the input gradient with
//! a direct `conv_transpose2d` loop, and computes it even for the input image, which
//! nothing needs; here all three products are GEMMs over im2col chunks
//! (`kernels`), and the input gradient is skipped when the input does not track
//! gradients (the first layer). CUDA and non-`f32` tensors keep candle's convolution.

mod block;
mod gemm;
mod kernels;
mod pool;
mod scratch;

pub use block::conv_relu;
pub use pool::max_pool;

use candle_core::{CpuStorage, DType, Layout, Result, Tensor};

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
    block::apply(x, kernel, bias, stride, padding, block::Activation::None)
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

fn slice<'a>(storage: &'a CpuStorage, layout: &Layout, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("fast conv: the {what} is not f32");
    };
    let (start, end) = layout.contiguous_offsets().ok_or_else(|| {
        candle_core::Error::Msg(format!("fast conv: the {what} is not contiguous"))
    })?;
    Ok(&data[start..end])
}

fn geometry(g: std::result::Result<Geometry, String>) -> Result<Geometry> {
    g.map_err(candle_core::Error::Msg)
}

#[cfg(test)]
mod tests;
