//! VGG16 as the study uses it (its `model/vgg16/model.py`, `vgg16_fine_tuning`): the 13-conv
//! VGG16 base (Keras `include_top=False`) on 32×32 inputs → 1×1×512, Flatten,
//! Dense(4096, ReLU) (the penultimate layer), Dense(classes). No dropout, no ImageNet
//! mean subtraction (inputs in [0, 1]), as in the study.
//!
//! Conv parameters are named as torchvision's `vgg16().features` (`features.0.weight`,
//! `features.2.weight`, … `features.28.bias`), so an ImageNet VGG16 safetensors file
//! with those names loads with [`crate::Model::load_pretrained_vgg16`].

use candle_core::Tensor;
use candle_nn::{Linear, VarBuilder};

use crate::backbone::Backbone;
use crate::conv::{Conv, ConvBackend};

/// Output channels of each conv, `0` for a 2×2 max-pool (torchvision's `cfg "D"`).
const CONFIG: [usize; 18] = [
    64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0,
];

/// The torchvision `features.N` index of every conv layer, with its shapes.
pub(crate) fn conv_layers(in_channels: usize) -> Vec<(usize, usize, usize)> {
    // torchvision numbers every module: conv, ReLU, and pool each take an index.
    let mut out = Vec::new();
    let (mut index, mut c) = (0, in_channels);
    for &v in &CONFIG {
        if v == 0 {
            index += 1;
        } else {
            out.push((index, c, v));
            c = v;
            index += 2;
        }
    }
    out
}

enum Layer {
    Conv(Conv),
    Pool,
}

/// The VGG16 base and the 4096-wide dense layer.
pub(crate) struct Vgg16 {
    layers: Vec<Layer>,
    fc: Linear,
}

impl Vgg16 {
    /// For (channels, height, width) inputs whose sides are multiples of 32.
    pub fn new(
        input: (usize, usize, usize),
        backend: ConvBackend,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let (c, h, w) = input;
        let mut convs = conv_layers(c).into_iter();
        let mut layers = Vec::new();
        for &v in &CONFIG {
            if v == 0 {
                layers.push(Layer::Pool);
            } else {
                let (index, cin, cout) = convs.next().expect("one conv per config entry");
                layers.push(Layer::Conv(Conv::new(
                    cin,
                    cout,
                    3,
                    1,
                    1,
                    backend,
                    vb.pp(format!("features.{index}")),
                )?));
            }
        }
        let flat = 512 * (h / 32) * (w / 32);
        let fc = candle_nn::linear(flat, 4096, vb.pp("fc"))?;
        Ok(Vgg16 { layers, fc })
    }
}

impl Backbone for Vgg16 {
    fn features(&self, xs: &Tensor, _train: bool) -> candle_core::Result<Tensor> {
        let mut xs = xs.clone();
        let mut layers = self.layers.iter().peekable();
        while let Some(layer) = layers.next() {
            xs = match layer {
                // A conv followed by a pool runs as one fused block.
                Layer::Conv(conv) => {
                    let pool = layers.next_if(|l| matches!(l, Layer::Pool)).is_some();
                    conv.relu_pool(&xs, pool)?
                }
                Layer::Pool => crate::pool::max_pool2(&xs)?,
            };
        }
        xs.flatten_from(1)?.apply(&self.fc)?.relu()
    }
}
