//! Max-pooling with any window and stride (DenseNet's 3×3 / 2 stem pool) as a CPU custom
//! op whose backward scatters each output's gradient to the window position that won
//! (the first maximum in row-major order, PyTorch's rule; overlapping windows add up).
//! candle 0.11 has no backward for a window unequal to its stride.

use std::sync::OnceLock;

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::slice;

/// `max_pool2d(x, window, stride)` without padding (pad the input first), floor sizes.
pub fn max_pool(x: &Tensor, window: usize, stride: usize) -> Result<Tensor> {
    super::check_cpu_f32(&[("input", x)])?;
    let (_, _, h, w) = x.dims4()?;
    crate::pool::check_window(window, stride, h, w)?;
    x.contiguous()?.apply_op1(MaxPool {
        window,
        stride,
        winners: OnceLock::new(),
    })
}

#[derive(Debug)]
struct MaxPool {
    window: usize,
    stride: usize,
    /// Per output, the input offset (within its plane) of the winner.
    winners: OnceLock<Vec<u32>>,
}

impl MaxPool {
    fn out_size(&self, n: usize) -> usize {
        (n - self.window) / self.stride + 1
    }
}

impl CustomOp1 for MaxPool {
    fn name(&self) -> &'static str {
        "fast-max-pool"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = slice(storage, layout, "input")?;
        let (b, c, h, w) = layout.shape().dims4()?;
        let (oh, ow) = (self.out_size(h), self.out_size(w));
        let mut out = vec![0f32; b * c * oh * ow];
        let mut winners = vec![0u32; out.len()];
        out.par_chunks_mut(oh * ow)
            .zip(winners.par_chunks_mut(oh * ow))
            .enumerate()
            .for_each(|(p, (out, won))| {
                let plane = &x[p * h * w..(p + 1) * h * w];
                for oy in 0..oh {
                    for ox in 0..ow {
                        let (mut best, mut at) = (f32::NEG_INFINITY, 0);
                        for ky in 0..self.window {
                            for kx in 0..self.window {
                                let k = (oy * self.stride + ky) * w + ox * self.stride + kx;
                                if plane[k] > best {
                                    (best, at) = (plane[k], k);
                                }
                            }
                        }
                        out[oy * ow + ox] = best;
                        won[oy * ow + ox] = at as u32;
                    }
                }
            });
        self.winners
            .set(winners)
            .map_err(|_| candle_core::Error::Msg("max pool: forward ran twice".into()))?;
        Ok((CpuStorage::F32(out), Shape::from((b, c, oh, ow))))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        let winners = self
            .winners
            .get()
            .ok_or_else(|| candle_core::Error::Msg("max pool: backward before forward".into()))?;
        let (b, c, h, w) = x.dims4()?;
        let (oh, ow) = (self.out_size(h), self.out_size(w));
        let dy = dy.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let mut dx = vec![0f32; b * c * h * w];
        dx.par_chunks_mut(h * w).enumerate().for_each(|(p, dx)| {
            let range = p * oh * ow..(p + 1) * oh * ow;
            for (g, &at) in dy[range.clone()].iter().zip(&winners[range]) {
                dx[at as usize] += g;
            }
        });
        Ok(Some(Tensor::from_vec(dx, (b, c, h, w), x.device())?))
    }
}
