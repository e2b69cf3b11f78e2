//! The convolution every zoo model uses, behind one type so that a faster CPU kernel
//! (issue 8) can replace candle's stock `conv2d` without touching the models.

use candle_core::{Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder};

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

impl Module for Conv {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        self.inner.forward(xs)
    }
}
