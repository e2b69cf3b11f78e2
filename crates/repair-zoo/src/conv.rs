//! The convolution every zoo model uses, behind one type: on the CPU it runs the
//! [`fast_conv`](crate::fast_conv) kernels (GEMM forward and backward), elsewhere — and
//! on request everywhere — candle's stock `conv2d`.

use std::sync::atomic::{AtomicU8, Ordering};

use candle_core::{DType, Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder};

/// Which convolution the zoo's models run on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvBackend {
    /// The GEMM kernels of this crate with their own backward pass (the default).
    Fast,
    /// candle's `conv2d` and its autograd (what CUDA always uses).
    Candle,
}

/// 0: not chosen yet (read `EARLY_REPAIR_CONV`), 1: fast, 2: candle.
static BACKEND: AtomicU8 = AtomicU8::new(0);

/// The CPU convolution in use: set by [`set_conv_backend`], else by the environment
/// variable `EARLY_REPAIR_CONV` (`fast` or `candle`), else `Fast`.
pub fn conv_backend() -> ConvBackend {
    match BACKEND.load(Ordering::Relaxed) {
        1 => ConvBackend::Fast,
        2 => ConvBackend::Candle,
        _ => {
            let chosen = match std::env::var("EARLY_REPAIR_CONV").as_deref() {
                Ok("candle") => ConvBackend::Candle,
                _ => ConvBackend::Fast,
            };
            set_conv_backend(chosen);
            chosen
        }
    }
}

/// Chooses the CPU convolution for the whole process (benchmarks compare both).
pub fn set_conv_backend(backend: ConvBackend) {
    let code = match backend {
        ConvBackend::Fast => 1,
        ConvBackend::Candle => 2,
    };
    BACKEND.store(code, Ordering::Relaxed);
}

/// A 2-D convolution with bias (square kernel).
#[derive(Debug, Clone)]
pub struct Conv {
    inner: Conv2d,
}

impl Conv {
    /// `in_c → out_c`, `kernel × kernel`, with stride and zero padding; parameters
    /// `weight` (out_c, in_c, k, k) and `bias` (out_c) under `vb`, PyTorch's default
    /// initialisation (Kaiming).
    pub fn new(
        in_c: usize,
        out_c: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let cfg = config(stride, padding);
        Ok(Conv {
            inner: candle_nn::conv2d(in_c, out_c, kernel, cfg, vb)?,
        })
    }

    /// The same without a bias (DenseNet).
    pub fn no_bias(
        in_c: usize,
        out_c: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let cfg = config(stride, padding);
        Ok(Conv {
            inner: candle_nn::conv2d_no_bias(in_c, out_c, kernel, cfg, vb)?,
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
            && conv_backend() == ConvBackend::Fast
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
