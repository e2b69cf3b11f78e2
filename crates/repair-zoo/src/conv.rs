//! The convolution every zoo model uses, behind one type: on the CPU it runs the
//! [`fast_conv`](crate::fast_conv) kernels (GEMM forward and backward), elsewhere — and
//! on request everywhere — candle's stock `conv2d`.

use candle_core::{DType, Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder};

/// Which convolution a zoo model runs on the CPU: a build option
/// ([`crate::BuildOptions::conv`]), fixed for the model's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConvBackend {
    /// The GEMM kernels of this crate with their own backward pass (the default).
    #[default]
    Fast,
    /// candle's `conv2d` and its autograd (what CUDA always uses).
    Candle,
}

/// A 2-D convolution with bias (square kernel).
#[derive(Debug, Clone)]
pub struct Conv {
    inner: Conv2d,
    backend: ConvBackend,
}

impl Conv {
    /// `in_c → out_c`, `kernel × kernel`, with stride and zero padding, run by `backend`
    /// on the CPU; parameters
    /// `weight` (out_c, in_c, k, k) and `bias` (out_c) under `vb`, PyTorch's default
    /// initialisation (Kaiming).
    pub fn new(
        in_c: usize,
        out_c: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        backend: ConvBackend,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let cfg = config(stride, padding);
        Ok(Conv {
            inner: candle_nn::conv2d(in_c, out_c, kernel, cfg, vb)?,
            backend,
        })
    }

    /// The same without a bias (DenseNet).
    pub fn no_bias(
        in_c: usize,
        out_c: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        backend: ConvBackend,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let cfg = config(stride, padding);
        Ok(Conv {
            inner: candle_nn::conv2d_no_bias(in_c, out_c, kernel, cfg, vb)?,
            backend,
        })
    }
}

fn config(stride: usize, padding: usize) -> Conv2dConfig {
    Conv2dConfig {
        padding,
        stride,
        ..Default::default()
    }
}

impl Conv {
    /// Whether `xs` goes through the fast kernels.
    fn fast_for(&self, xs: &Tensor) -> bool {
        let cfg = self.inner.config();
        xs.device().is_cpu()
            && xs.dtype() == DType::F32
            && cfg.dilation == 1
            && cfg.groups == 1
            && self.backend == ConvBackend::Fast
    }

    /// `relu(conv(xs))`, then a 2×2 max-pool when `pool`: one fused autograd node on
    /// the fast path; on candle's path the same with [`max_pool2`](crate::max_pool2).
    pub fn relu_pool(&self, xs: &Tensor, pool: bool) -> candle_core::Result<Tensor> {
        if self.fast_for(xs) {
            let cfg = self.inner.config();
            return crate::fast_conv::conv_relu(
                xs,
                self.inner.weight(),
                self.inner.bias(),
                cfg.stride,
                cfg.padding,
                pool,
            );
        }
        let ys = self.inner.forward(xs)?.relu()?;
        if pool {
            crate::pool::max_pool2(&ys)
        } else {
            Ok(ys)
        }
    }
}

impl Module for Conv {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        if !self.fast_for(xs) {
            return self.inner.forward(xs);
        }
        let cfg = self.inner.config();
        crate::fast_conv::conv2d(
            xs,
            self.inner.weight(),
            self.inner.bias(),
            cfg.stride,
            cfg.padding,
        )
    }
}
