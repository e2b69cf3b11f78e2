//! DenseNet-121 (Huang et al., CVPR 2017), trained from scratch as in the study
//! (its `model/densenet121_no_weights/model.py`, Keras `DenseNet121(include_top=True,
//! weights=None)`): growth
//! rate 32, blocks of 6/12/24/16 layers, bottleneck width 4 × 32, compression 0.5,
//! ImageNet stem (conv 7×7 stride 2, batch norm, ReLU, max-pool 3×3 stride 2 padding 1),
//! final batch norm + ReLU + global average pool (the 1024-wide penultimate layer).
//! Parameter names follow torchvision's `densenet121`.
//!
//! The stem and three transitions shrink the input 32×; inputs need sides ≥ 32 so that
//! every transition still has a 2×2 window (PneumoniaMNIST's 28×28 must be resized).

use candle_core::Tensor;
use candle_nn::{BatchNorm, BatchNormConfig, VarBuilder};

use crate::backbone::Backbone;
use crate::conv::{Conv, ConvBackend};

const GROWTH: usize = 32;
const BLOCKS: [usize; 4] = [6, 12, 24, 16];
const BOTTLENECK: usize = 4;
const STEM: usize = 64;

fn bn(c: usize, vb: VarBuilder) -> candle_core::Result<BatchNorm> {
    // PyTorch defaults: eps 1e-5, momentum 0.1 (Keras uses eps 1.001e-5, momentum 0.01).
    candle_nn::batch_norm(c, BatchNormConfig::default(), vb)
}

struct DenseLayer {
    norm1: BatchNorm,
    conv1: Conv,
    norm2: BatchNorm,
    conv2: Conv,
}

impl DenseLayer {
    fn new(c: usize, backend: ConvBackend, vb: VarBuilder) -> candle_core::Result<Self> {
        let mid = BOTTLENECK * GROWTH;
        Ok(DenseLayer {
            norm1: bn(c, vb.pp("norm1"))?,
            conv1: Conv::no_bias(c, mid, 1, 1, 0, backend, vb.pp("conv1"))?,
            norm2: bn(mid, vb.pp("norm2"))?,
            conv2: Conv::no_bias(mid, GROWTH, 3, 1, 1, backend, vb.pp("conv2"))?,
        })
    }

    /// The new `GROWTH` feature maps for `xs`.
    fn forward_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let ys = xs.apply_t(&self.norm1, train)?.relu()?.apply(&self.conv1)?;
        ys.apply_t(&self.norm2, train)?.relu()?.apply(&self.conv2)
    }
}

struct Transition {
    norm: BatchNorm,
    conv: Conv,
}

/// The DenseNet-121 feature extractor.
pub(crate) struct DenseNet121 {
    conv0: Conv,
    norm0: BatchNorm,
    blocks: Vec<Vec<DenseLayer>>,
    transitions: Vec<Transition>,
    norm5: BatchNorm,
}

/// Side length after the stem and the three transitions; `None` when too small.
pub(crate) fn final_side(side: usize) -> Option<usize> {
    let after_conv = (side + 2 * 3).checked_sub(7)? / 2 + 1;
    let mut s = (after_conv + 2).checked_sub(3)? / 2 + 1;
    for _ in 0..3 {
        if s < 2 {
            return None;
        }
        s /= 2;
    }
    Some(s)
}

impl DenseNet121 {
    /// For inputs with `channels` channels.
    pub fn new(channels: usize, backend: ConvBackend, vb: VarBuilder) -> candle_core::Result<Self> {
        let vb = vb.pp("features");
        let conv0 = Conv::no_bias(channels, STEM, 7, 2, 3, backend, vb.pp("conv0"))?;
        let norm0 = bn(STEM, vb.pp("norm0"))?;
        let mut c = STEM;
        let mut blocks = Vec::new();
        let mut transitions = Vec::new();
        for (b, &n) in BLOCKS.iter().enumerate() {
            let block_vb = vb.pp(format!("denseblock{}", b + 1));
            let mut layers = Vec::new();
            for l in 0..n {
                layers.push(DenseLayer::new(
                    c,
                    backend,
                    block_vb.pp(format!("denselayer{}", l + 1)),
                )?);
                c += GROWTH;
            }
            blocks.push(layers);
            if b + 1 < BLOCKS.len() {
                let t = vb.pp(format!("transition{}", b + 1));
                transitions.push(Transition {
                    norm: bn(c, t.pp("norm"))?,
                    conv: Conv::no_bias(c, c / 2, 1, 1, 0, backend, t.pp("conv"))?,
                });
                c /= 2;
            }
        }
        let norm5 = bn(c, vb.pp("norm5"))?;
        Ok(DenseNet121 {
            conv0,
            norm0,
            blocks,
            transitions,
            norm5,
        })
    }
}

impl Backbone for DenseNet121 {
    fn features(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let xs = xs.apply(&self.conv0)?.apply_t(&self.norm0, train)?.relu()?;
        // Max-pool 3×3 / 2 with padding 1: values are ≥ 0 after ReLU, so zero padding
        // gives the same maximum as PyTorch's −∞ padding. candle 0.11 has no backward for
        // a window unequal to its stride: the CPU runs the zoo's custom op, other
        // devices the same pool as strided slices.
        let padded = xs.pad_with_zeros(2, 1, 1)?.pad_with_zeros(3, 1, 1)?;
        let mut xs = if padded.device().is_cpu() && padded.dtype() == candle_core::DType::F32 {
            crate::fast_conv::max_pool(&padded, 3, 2)?
        } else {
            crate::pool::max_pool_strided(&padded, 3, 2)?
        };
        for (b, layers) in self.blocks.iter().enumerate() {
            let mut features = vec![xs];
            for layer in layers {
                let input = Tensor::cat(&features, 1)?;
                features.push(layer.forward_t(&input, train)?);
            }
            xs = Tensor::cat(&features, 1)?;
            if let Some(t) = self.transitions.get(b) {
                xs = xs.apply_t(&t.norm, train)?.relu()?.apply(&t.conv)?;
                xs = crate::pool::avg_pool2(&xs)?;
            }
        }
        let xs = xs.apply_t(&self.norm5, train)?.relu()?;
        xs.mean((2, 3))
    }
}
