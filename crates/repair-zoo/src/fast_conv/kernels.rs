//! The three convolution products on NCHW `f32` slices, each as GEMMs over chunks of
//! images laid side by side (im2col): forward `Y = W·cols + b`, input gradient
//! `dX = col2im(Wᵀ·dY)`, weight gradient `dW = Σ dY·colsᵀ`. A chunk holds enough images
//! for a wide GEMM even when the feature map is 2×2 (VGG's last blocks), and few enough
//! to keep the column buffer small. Every sum runs in a fixed order, so results do not
//! depend on the thread count.

use rayon::prelude::*;

use super::gemm::{matmul, View};
use super::scratch::Scratch;

/// Shapes of one convolution (square kernel, equal stride and padding on both axes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub batch: usize,
    pub c_in: usize,
    pub h: usize,
    pub w: usize,
    pub c_out: usize,
    pub k: usize,
    pub stride: usize,
    pub pad: usize,
    pub ho: usize,
    pub wo: usize,
}

/// Columns (image positions) per GEMM: wide enough for the kernel's blocking.
const CHUNK_COLUMNS: usize = 4096;

impl Geometry {
    /// From the input (batch, c_in, h, w) and kernel (c_out, c_in, k, k) dimensions.
    pub fn new(
        x: (usize, usize, usize, usize),
        kernel: (usize, usize, usize, usize),
        stride: usize,
        pad: usize,
    ) -> Result<Self, String> {
        let (batch, c_in, h, w) = x;
        let (c_out, kc, kh, kw) = kernel;
        if kc != c_in || kh != kw || stride == 0 {
            return Err(format!(
                "fast conv: input {x:?}, kernel {kernel:?}, stride {stride}: want kernel (out, {c_in}, k, k) and stride ≥ 1"
            ));
        }
        if h + 2 * pad < kh || w + 2 * pad < kw {
            return Err(format!(
                "fast conv: a {kh}×{kw} kernel does not fit a {h}×{w} input padded by {pad}"
            ));
        }
        Ok(Geometry {
            batch,
            c_in,
            h,
            w,
            c_out,
            k: kh,
            stride,
            pad,
            ho: (h + 2 * pad - kh) / stride + 1,
            wo: (w + 2 * pad - kw) / stride + 1,
        })
    }

    fn out_plane(&self) -> usize {
        self.ho * self.wo
    }

    fn in_plane(&self) -> usize {
        self.h * self.w
    }

    /// Rows of the column matrix: one per (input channel, ky, kx).
    fn ckk(&self) -> usize {
        self.c_in * self.k * self.k
    }

    /// Images per chunk.
    fn chunk(&self) -> usize {
        (CHUNK_COLUMNS / self.out_plane().max(1)).clamp(1, self.batch.max(1))
    }

    /// `(first image, images)` of each chunk.
    fn chunks(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let step = self.chunk();
        (0..self.batch)
            .step_by(step)
            .map(move |b0| (b0, step.min(self.batch - b0)))
    }

    /// Input row `iy` seen by output row `oy` through kernel row `ky`, if inside.
    fn source(&self, o: usize, kk: usize, size: usize) -> Option<usize> {
        (o * self.stride + kk)
            .checked_sub(self.pad)
            .filter(|&i| i < size)
    }

    /// The output columns `lo..hi` whose input column `ox·stride + kx − pad` lies
    /// inside `0..w` (a contiguous range), so the inner loops need no bounds tests.
    fn inside(&self, kx: usize) -> (usize, usize) {
        let s = self.stride;
        // ox·s + kx ≥ pad  ⇔  ox ≥ ⌈(pad − kx) / s⌉
        let lo = self.pad.saturating_sub(kx).div_ceil(s).min(self.wo);
        // ox·s + kx − pad ≤ w − 1  ⇔  ox ≤ ⌊(w − 1 + pad − kx) / s⌋
        let hi = match (self.w + self.pad).checked_sub(kx + 1) {
            Some(top) => (top / s + 1).min(self.wo),
            None => 0,
        };
        (lo, hi.max(lo))
    }
}

/// im2col of images `b0..b0 + nb` of `x` into `cols` (ckk × nb·HoWo).
fn im2col(g: &Geometry, x: &[f32], b0: usize, nb: usize, cols: &mut [f32]) {
    let (plane, width) = (g.in_plane(), nb * g.out_plane());
    cols[..g.ckk() * width]
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(r, row)| {
            let (c, ky, kx) = (r / (g.k * g.k), (r / g.k) % g.k, r % g.k);
            for i in 0..nb {
                let image = &x[((b0 + i) * g.c_in + c) * plane..][..plane];
                let out = &mut row[i * g.out_plane()..(i + 1) * g.out_plane()];
                for oy in 0..g.ho {
                    let line = &mut out[oy * g.wo..(oy + 1) * g.wo];
                    let Some(iy) = g.source(oy, ky, g.h) else {
                        line.fill(0.0);
                        continue;
                    };
                    let input = &image[iy * g.w..(iy + 1) * g.w];
                    let (lo, hi) = g.inside(kx);
                    line[..lo].fill(0.0);
                    line[hi..].fill(0.0);
                    if lo < hi {
                        let first = lo * g.stride + kx - g.pad;
                        if g.stride == 1 {
                            line[lo..hi].copy_from_slice(&input[first..first + hi - lo]);
                        } else {
                            for (v, x) in line[lo..hi]
                                .iter_mut()
                                .zip(input[first..].iter().step_by(g.stride))
                            {
                                *v = *x;
                            }
                        }
                    }
                }
            }
        });
}

/// `dy` of images `b0..b0 + nb` as a (c_out × nb·HoWo) matrix.
fn gather(g: &Geometry, dy: &[f32], b0: usize, nb: usize, out: &mut [f32]) {
    let (plane, width) = (g.out_plane(), nb * g.out_plane());
    out[..g.c_out * width]
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(o, row)| {
            for i in 0..nb {
                let src = &dy[((b0 + i) * g.c_out + o) * plane..][..plane];
                row[i * plane..(i + 1) * plane].copy_from_slice(src);
            }
        });
}

/// Forward: `y = conv(x, kernel) + bias`, NCHW.
pub(crate) fn forward(g: &Geometry, x: &[f32], kernel: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let mut y = vec![0f32; g.batch * g.c_out * g.out_plane()];
    forward_into(g, x, kernel, bias, &mut y);
    y
}

/// [`forward`] into `y` (batch · c_out · Ho · Wo values, all overwritten).
pub(crate) fn forward_into(
    g: &Geometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    let plane = g.out_plane();
    let mut cols = Scratch::new(g.ckk() * g.chunk() * plane);
    let mut product = Scratch::new(g.c_out * g.chunk() * plane);
    for (b0, nb) in g.chunks() {
        let width = nb * plane;
        im2col(g, x, b0, nb, &mut cols);
        matmul(
            &mut product,
            View::row_major(kernel, g.c_out, g.ckk()),
            View::row_major(&cols[..g.ckk() * width], g.ckk(), width),
            false,
        );
        y[b0 * g.c_out * plane..(b0 + nb) * g.c_out * plane]
            .par_chunks_mut(plane)
            .enumerate()
            .for_each(|(p, out)| {
                let (i, o) = (p / g.c_out, p % g.c_out);
                let src = &product[o * width + i * plane..][..plane];
                let b = bias.map_or(0.0, |b| b[o]);
                for (d, s) in out.iter_mut().zip(src) {
                    *d = s + b;
                }
            });
    }
}

/// Input gradient: `dx = col2im(kernelᵀ · dy)`, NCHW.
pub(crate) fn input_grad(g: &Geometry, dy: &[f32], kernel: &[f32]) -> Vec<f32> {
    let (plane_in, plane_out) = (g.in_plane(), g.out_plane());
    let mut dx = vec![0f32; g.batch * g.c_in * plane_in];
    let mut dyt = Scratch::new(g.c_out * g.chunk() * plane_out);
    let mut dcols = Scratch::new(g.ckk() * g.chunk() * plane_out);
    for (b0, nb) in g.chunks() {
        let width = nb * plane_out;
        gather(g, dy, b0, nb, &mut dyt);
        matmul(
            &mut dcols,
            View::row_major(kernel, g.c_out, g.ckk()).t(),
            View::row_major(&dyt[..g.c_out * width], g.c_out, width),
            false,
        );
        // col2im: each (image, channel) plane gathers its kernel taps in a fixed order.
        dx[b0 * g.c_in * plane_in..(b0 + nb) * g.c_in * plane_in]
            .par_chunks_mut(plane_in)
            .enumerate()
            .for_each(|(p, out)| {
                let (i, c) = (p / g.c_in, p % g.c_in);
                for ky in 0..g.k {
                    for kx in 0..g.k {
                        let r = (c * g.k + ky) * g.k + kx;
                        let src = &dcols[r * width + i * plane_out..][..plane_out];
                        for oy in 0..g.ho {
                            let Some(iy) = g.source(oy, ky, g.h) else {
                                continue;
                            };
                            let (lo, hi) = g.inside(kx);
                            if lo == hi {
                                continue;
                            }
                            let line = &src[oy * g.wo + lo..oy * g.wo + hi];
                            let first = lo * g.stride + kx - g.pad;
                            let target = &mut out[iy * g.w + first..(iy + 1) * g.w];
                            if g.stride == 1 {
                                for (t, v) in target.iter_mut().zip(line) {
                                    *t += v;
                                }
                            } else {
                                for (t, v) in target.iter_mut().step_by(g.stride).zip(line) {
                                    *t += v;
                                }
                            }
                        }
                    }
                }
            });
    }
    dx
}

/// Weight gradient `dkernel = Σ_chunks dy · colsᵀ` (c_out × c_in·k·k), chunks in order.
pub(crate) fn kernel_grad(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let plane = g.out_plane();
    let mut dk = vec![0f32; g.c_out * g.ckk()];
    let mut cols = Scratch::new(g.ckk() * g.chunk() * plane);
    let mut dyt = Scratch::new(g.c_out * g.chunk() * plane);
    for (n, (b0, nb)) in g.chunks().enumerate() {
        let width = nb * plane;
        im2col(g, x, b0, nb, &mut cols);
        gather(g, dy, b0, nb, &mut dyt);
        matmul(
            &mut dk,
            View::row_major(&dyt[..g.c_out * width], g.c_out, width),
            View::row_major(&cols[..g.ckk() * width], g.ckk(), width).t(),
            n > 0,
        );
    }
    dk
}
