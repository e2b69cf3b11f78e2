//! `cnn-s` and `cnn-m`: small CPU-friendly CNNs, the reference networks for speed
//! comparisons (their shape is fixed, so timings stay comparable):
//! three blocks conv3×3 (padding 1) → ReLU → max-pool 2, then Dense → ReLU (the
//! penultimate layer), then the Dense head. `cnn-s` uses 32/64/128 channels and a
//! 256-wide dense layer (2048 → 256 on 32×32 RGB); `cnn-m` doubles every width.

use candle_core::Tensor;
use candle_nn::{Linear, VarBuilder};

use crate::backbone::Backbone;
use crate::conv::{Conv, ConvBackend};

/// Channel widths of the three conv blocks and the dense layer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CnnWidths {
    pub convs: [usize; 3],
    pub dense: usize,
}

/// `cnn-s`.
pub(crate) const CNN_S: CnnWidths = CnnWidths {
    convs: [32, 64, 128],
    dense: 256,
};

/// `cnn-m`.
pub(crate) const CNN_M: CnnWidths = CnnWidths {
    convs: [64, 128, 256],
    dense: 512,
};

/// The backbone: conv blocks and the dense penultimate layer.
pub(crate) struct SmallCnn {
    convs: Vec<Conv>,
    fc: Linear,
}

impl SmallCnn {
    /// For (channels, height, width) inputs; parameters `conv1..3`, `fc`.
    pub fn new(
        input: (usize, usize, usize),
        widths: CnnWidths,
        backend: ConvBackend,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let (mut c, mut h, mut w) = input;
        let mut convs = Vec::new();
        for (k, &out) in widths.convs.iter().enumerate() {
            convs.push(Conv::new(
                c,
                out,
                3,
                1,
                1,
                backend,
                vb.pp(format!("conv{}", k + 1)),
            )?);
            (c, h, w) = (out, h / 2, w / 2);
        }
        let fc = candle_nn::linear(c * h * w, widths.dense, vb.pp("fc"))?;
        Ok(SmallCnn { convs, fc })
    }
}

impl Backbone for SmallCnn {
    fn features(&self, xs: &Tensor, _train: bool) -> candle_core::Result<Tensor> {
        let mut xs = xs.clone();
        for conv in &self.convs {
            xs = conv.relu_pool(&xs, true)?;
        }
        xs.flatten_from(1)?.apply(&self.fc)?.relu()
    }
}
