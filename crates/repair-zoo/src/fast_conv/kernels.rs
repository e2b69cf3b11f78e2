//! The three convolution products on NCHW `f32` slices, each as GEMMs over chunks of
//! images laid side by side (im2col): forward `Y = W·cols + b`, input gradient
//! `dX = col2im(Wᵀ·dY)`, weight gradient `dW = Σ dY·colsᵀ`. A chunk holds enough images
//! for a wide GEMM even when the feature map is 2×2 (VGG's last blocks), and few enough
//! to keep its buffers in cache; **chunks run in parallel**, each one's copies and GEMMs
//! on one thread, so a step pays one fork-join per layer rather than one per copy and
//! per GEMM. What follows the GEMM (bias, ReLU, pooling) and what precedes the backward
//! GEMMs (the activation's mask) run on the chunk while it is in cache, through the
//! callers' closures. Every sum runs in an order fixed by the shapes alone, so results
//! do not depend on the thread count.

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

/// Output positions per chunk GEMM: wide enough for the kernel's blocking, small
/// enough that a chunk's column matrix stays in the L2 cache for most layers.
const CHUNK_COLUMNS: usize = 1024;

/// Chunks a batch is cut into at least, when it has that many images.
const MIN_CHUNKS: usize = 8;

/// Partial weight-gradient sums at most: the chunks form this many runs of consecutive
/// chunks, each run summed by one task; the runs' sums are then added in order.
const MAX_GROUPS: usize = 8;

/// Images `b0..b0 + nb` of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub b0: usize,
    pub nb: usize,
}

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

    pub fn out_plane(&self) -> usize {
        self.ho * self.wo
    }

    fn in_plane(&self) -> usize {
        self.h * self.w
    }

    /// Rows of the column matrix: one per (input channel, ky, kx).
    fn ckk(&self) -> usize {
        self.c_in * self.k * self.k
    }

    /// Images per chunk: about [`CHUNK_COLUMNS`] output positions, and at least
    /// [`MIN_CHUNKS`] chunks when the batch has that many images, so that every thread
    /// gets work. It depends on the shapes alone, never on the thread count.
    pub fn chunk(&self) -> usize {
        let by_columns = CHUNK_COLUMNS / self.out_plane().max(1);
        let by_count = self.batch.div_ceil(MIN_CHUNKS);
        by_columns.min(by_count).clamp(1, self.batch.max(1))
    }

    /// The chunks, in image order.
    fn chunks(&self) -> Vec<Chunk> {
        let step = self.chunk();
        (0..self.batch)
            .step_by(step)
            .map(|b0| Chunk {
                b0,
                nb: step.min(self.batch - b0),
            })
            .collect()
    }

    /// Values per image of the input, the output.
    fn image_in(&self) -> usize {
        self.c_in * self.in_plane()
    }

    fn image_out(&self) -> usize {
        self.c_out * self.out_plane()
    }

    /// The shift of tap (ky, kx) when the output has the input's size at stride 1.
    fn same_shift(&self, ky: usize, kx: usize) -> Option<Shift> {
        (self.stride == 1 && self.ho == self.h && self.wo == self.w).then(|| Shift {
            h: self.h,
            w: self.w,
            dy: ky as isize - self.pad as isize,
            dx: kx as isize - self.pad as isize,
        })
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

/// A stride-1 convolution whose output has the input's size (padding (k − 1) / 2, as
/// every 3×3 layer of the zoo): kernel tap (ky, kx) then reads the input plane shifted by
/// `dy = ky − pad` rows and `dx = kx − pad` columns, so im2col's row is one flat copy and
/// col2im's one flat add, instead of a copy or an add per output row; the positions whose
/// column wraps into the neighbouring row are the border columns, zeroed separately.
#[derive(Debug, Clone, Copy)]
struct Shift {
    h: usize,
    w: usize,
    dy: isize,
    dx: isize,
}

impl Shift {
    /// The output rows whose source row lies inside the plane.
    fn rows(&self) -> std::ops::Range<usize> {
        let h = self.h as isize;
        let lo = (-self.dy).clamp(0, h);
        let hi = (h - self.dy).clamp(lo, h);
        lo as usize..hi as usize
    }

    /// The output positions (flat, within the plane) whose source lies inside the plane:
    /// the rows with a source row, trimmed where the flat source index leaves the plane.
    fn copy_range(&self) -> std::ops::Range<usize> {
        let (h, w) = (self.h as isize, self.w as isize);
        let rows = self.rows();
        let (rows_lo, rows_hi) = (rows.start as isize, rows.end as isize);
        let offset = self.dy * w + self.dx;
        let lo = (rows_lo * w).max(-offset).min(rows_hi * w);
        let hi = (rows_hi * w).min(h * w - offset).max(lo);
        lo as usize..hi as usize
    }

    /// The source positions of the output positions `range` (a [`Shift::copy_range`]).
    /// An empty range (a tap that sees no pixel: maps smaller than the kernel) maps to
    /// `0..0`, since its shifted bounds may lie before the plane.
    fn source(&self, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
        if range.is_empty() {
            return 0..0;
        }
        let offset = self.dy * self.w as isize + self.dx;
        (range.start as isize + offset) as usize..(range.end as isize + offset) as usize
    }

    /// Calls `f` with the span of each row's border columns (where the tap falls left or
    /// right of the image) inside the rows that have a source row.
    fn for_each_border(&self, mut f: impl FnMut(std::ops::Range<usize>)) {
        let cols = self.dx.unsigned_abs().min(self.w);
        if cols == 0 {
            return;
        }
        for oy in self.rows() {
            if self.dx < 0 {
                f(oy * self.w..oy * self.w + cols);
            } else {
                f((oy + 1) * self.w - cols..(oy + 1) * self.w);
            }
        }
    }
}

/// im2col of the chunk's images into `cols` (ckk × nb·HoWo), on this thread.
fn im2col(g: &Geometry, x: &[f32], c: Chunk, cols: &mut [f32]) {
    let (plane, width) = (g.in_plane(), c.nb * g.out_plane());
    for (r, row) in cols[..g.ckk() * width].chunks_mut(width).enumerate() {
        let (ch, ky, kx) = (r / (g.k * g.k), (r / g.k) % g.k, r % g.k);
        let (lo, hi) = g.inside(kx);
        let same = g
            .same_shift(ky, kx)
            .map(|shift| (shift, shift.copy_range()));
        for i in 0..c.nb {
            let image = &x[((c.b0 + i) * g.c_in + ch) * plane..][..plane];
            let out = &mut row[i * g.out_plane()..(i + 1) * g.out_plane()];
            if let Some((shift, valid)) = same.clone() {
                out[..valid.start].fill(0.0);
                out[valid.end..].fill(0.0);
                out[valid.clone()].copy_from_slice(&image[shift.source(valid)]);
                shift.for_each_border(|span| out[span].fill(0.0));
                continue;
            }
            for oy in 0..g.ho {
                let line = &mut out[oy * g.wo..(oy + 1) * g.wo];
                let Some(iy) = g.source(oy, ky, g.h) else {
                    line.fill(0.0);
                    continue;
                };
                let input = &image[iy * g.w..(iy + 1) * g.w];
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
    }
}

/// col2im of `dcols` (ckk × nb·HoWo) into `dx`, the chunk's images (NCHW, zeroed):
/// each (image, channel) plane gathers its kernel taps in a fixed order. `dcols` is
/// scratch: the same-size path zeroes the positions whose tap falls outside the image
/// before its flat add.
fn col2im(g: &Geometry, dcols: &mut [f32], c: Chunk, dx: &mut [f32]) {
    let (plane_in, plane_out, width) = (g.in_plane(), g.out_plane(), c.nb * g.out_plane());
    for (p, out) in dx[..c.nb * g.image_in()].chunks_mut(plane_in).enumerate() {
        let (i, ch) = (p / g.c_in, p % g.c_in);
        for ky in 0..g.k {
            for kx in 0..g.k {
                if let Some(shift) = g.same_shift(ky, kx) {
                    let r = (ch * g.k + ky) * g.k + kx;
                    let src = &mut dcols[r * width + i * plane_out..][..plane_out];
                    shift.for_each_border(|span| src[span].fill(0.0));
                    let valid = shift.copy_range();
                    let target = &mut out[shift.source(valid.clone())];
                    for (t, v) in target.iter_mut().zip(&src[valid]) {
                        *t += v;
                    }
                    continue;
                }
                let (lo, hi) = g.inside(kx);
                if lo == hi {
                    continue;
                }
                let r = (ch * g.k + ky) * g.k + kx;
                let src = &dcols[r * width + i * plane_out..][..plane_out];
                let first = lo * g.stride + kx - g.pad;
                for oy in 0..g.ho {
                    let Some(iy) = g.source(oy, ky, g.h) else {
                        continue;
                    };
                    let line = &src[oy * g.wo + lo..oy * g.wo + hi];
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
    }
}

/// Whether the GEMMs themselves should fan out over threads: only when there are fewer
/// parallel tasks than threads (a small batch). The GEMM splits its output, never its
/// inner sum, so the choice leaves the results unchanged.
fn gemm_parallel(tasks: usize) -> bool {
    tasks < rayon::current_num_threads()
}

/// Each plane of a chunk's product (c_out × nb·HoWo) with its output channel, in the
/// chunk's NCHW order (image by image, channel by channel).
pub(crate) fn planes<'a>(
    g: &'a Geometry,
    c: Chunk,
    product: &'a [f32],
) -> impl Iterator<Item = (usize, &'a [f32])> + 'a {
    let (plane, width) = (g.out_plane(), c.nb * g.out_plane());
    (0..c.nb).flat_map(move |i| {
        (0..g.c_out).map(move |o| (o, &product[o * width + i * plane..][..plane]))
    })
}

/// The forward GEMM of every chunk, in parallel: `epilogue(chunk, product, out)` gets
/// the chunk's product `W·cols` (c_out × nb·HoWo, without bias) and its element of
/// `outputs` (one per chunk, in order: the chunk's share of the layer's outputs).
pub(crate) fn forward_chunks<T: Send>(
    g: &Geometry,
    x: &[f32],
    kernel: &[f32],
    outputs: Vec<T>,
    epilogue: impl Fn(Chunk, &[f32], T) + Sync,
) {
    let chunks = g.chunks();
    assert_eq!(
        outputs.len(),
        chunks.len(),
        "fast conv: one output per chunk"
    );
    let parallel = gemm_parallel(chunks.len());
    chunks.into_par_iter().zip(outputs).for_each(|(c, out)| {
        let width = c.nb * g.out_plane();
        let mut cols = Scratch::new(g.ckk() * width);
        im2col(g, x, c, &mut cols);
        let mut product = Scratch::new(g.c_out * width);
        matmul(
            &mut product,
            View::row_major(kernel, g.c_out, g.ckk()),
            View::row_major(&cols, g.ckk(), width),
            false,
            parallel,
        );
        epilogue(c, &product, out);
    });
}

/// Splits `data` (NCHW values of the whole batch, `per_image` each) into one piece per
/// chunk.
pub(crate) fn per_chunk<'a, T>(
    g: &Geometry,
    data: &'a mut [T],
    per_image: usize,
) -> Vec<&'a mut [T]> {
    data.chunks_mut((g.chunk() * per_image).max(1)).collect()
}

/// Forward: `y = conv(x, kernel) + bias`, NCHW.
pub(crate) fn forward(g: &Geometry, x: &[f32], kernel: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    forward_map(g, x, kernel, bias, |v| v)
}

/// Forward with an elementwise activation: `y = f(conv(x, kernel) + bias)`, NCHW.
pub(crate) fn forward_map(
    g: &Geometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    f: impl Fn(f32) -> f32 + Sync,
) -> Vec<f32> {
    let mut y = vec![0f32; g.batch * g.image_out()];
    let outputs = per_chunk(g, &mut y, g.image_out());
    forward_chunks(g, x, kernel, outputs, |c, product, y| {
        for ((o, src), dst) in planes(g, c, product).zip(y.chunks_mut(g.out_plane())) {
            let b = bias.map_or(0.0, |b| b[o]);
            for (d, s) in dst.iter_mut().zip(src) {
                *d = f(s + b);
            }
        }
    });
    y
}

/// The gradients a backward pass computes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wanted {
    pub input: bool,
    pub kernel: bool,
    pub bias: bool,
}

/// Gradients of input (NCHW), kernel (c_out × c_in·k·k) and bias (c_out), as wanted.
#[derive(Debug, Default)]
pub(crate) struct Grads {
    pub input: Option<Vec<f32>>,
    pub kernel: Option<Vec<f32>>,
    pub bias: Option<Vec<f32>>,
}

/// The backward pass from the gradient at the convolution's output (before bias),
/// which `fill_dz(chunk, dz)` writes for one chunk as a (c_out × nb·HoWo) matrix: so the
/// caller applies the activation's mask and pooling's scatter chunk by chunk while the
/// chunk is in cache, and no full-size gradient buffer exists. Runs of consecutive
/// chunks go in parallel; each run sums its kernel and bias gradients, and the runs'
/// sums are added in run order.
pub(crate) fn backward(
    g: &Geometry,
    x: &[f32],
    kernel: &[f32],
    wanted: Wanted,
    fill_dz: impl Fn(Chunk, &mut [f32]) + Sync,
) -> Grads {
    let chunks = g.chunks();
    let (dk_len, plane) = (g.c_out * g.ckk(), g.out_plane());
    if chunks.is_empty() {
        return Grads {
            input: wanted.input.then(Vec::new),
            kernel: wanted.kernel.then(|| vec![0.0; dk_len]),
            bias: wanted.bias.then(|| vec![0.0; g.c_out]),
        };
    }
    let per_run = chunks.len().div_ceil(MAX_GROUPS);
    let runs: Vec<&[Chunk]> = chunks.chunks(per_run).collect();
    // The kernel gradient as dkᵀ = cols · dzᵀ (c_in·k·k × c_out) where that orientation
    // suits `gemm` better: up to 256 output channels and more rows (c_in·k·k) than
    // channels, it ran in half the time of dk = dz · colsᵀ for VGG16's and cnn-s's
    // layers (`step_profile`); for VGG16's 512-channel layers both took the same and
    // the transpose would only add a pass.
    let transposed = g.c_out <= 256 && g.ckk() > g.c_out;
    // Each run's kernel-gradient sum, then its bias-gradient sum.
    let part = dk_len + g.c_out;
    let mut sums = Scratch::new(runs.len() * part);
    let mut dx = if wanted.input {
        vec![0f32; g.batch * g.image_in()]
    } else {
        Vec::new()
    };
    let mut dx_runs: Vec<&mut [f32]> = if wanted.input {
        dx.chunks_mut(per_run * g.chunk() * g.image_in()).collect()
    } else {
        Vec::new()
    };
    dx_runs.resize_with(runs.len(), Default::default);
    let parallel = gemm_parallel(runs.len());
    runs.par_iter()
        .zip(sums.par_chunks_mut(part))
        .zip(dx_runs)
        .for_each(|((run, sum), dx)| {
            let (dk, db) = sum.split_at_mut(dk_len);
            let widest = run[0].nb * plane;
            let mut dz = Scratch::new(g.c_out * widest);
            let mut cols = Scratch::new(if wanted.kernel { g.ckk() * widest } else { 0 });
            let mut dcols = Scratch::new(if wanted.input { g.ckk() * widest } else { 0 });
            for (n, &c) in run.iter().enumerate() {
                let width = c.nb * plane;
                let dz = &mut dz[..g.c_out * width];
                fill_dz(c, dz);
                if wanted.bias {
                    for (b, row) in db.iter_mut().zip(dz.chunks(width)) {
                        let s = lane_sum(row);
                        *b = if n == 0 { s } else { *b + s };
                    }
                }
                if wanted.kernel {
                    im2col(g, x, c, &mut cols);
                    let cols = View::row_major(&cols[..g.ckk() * width], g.ckk(), width);
                    let dz = View::row_major(dz, g.c_out, width);
                    if transposed {
                        matmul(dk, cols, dz.t(), n > 0, parallel);
                    } else {
                        matmul(dk, dz, cols.t(), n > 0, parallel);
                    }
                }
                if wanted.input {
                    matmul(
                        &mut dcols,
                        View::row_major(kernel, g.c_out, g.ckk()).t(),
                        View::row_major(dz, g.c_out, width),
                        false,
                        parallel,
                    );
                    let at = (c.b0 - run[0].b0) * g.image_in();
                    col2im(g, &mut dcols, c, &mut dx[at..]);
                }
            }
        });
    let total = |offset: usize, len: usize| -> Vec<f32> {
        let mut out = vec![0f32; len];
        out.par_chunks_mut(4096).enumerate().for_each(|(j, out)| {
            let at = offset + j * 4096;
            for (r, run_sum) in sums.chunks(part).enumerate() {
                let src = &run_sum[at..at + out.len()];
                if r == 0 {
                    out.copy_from_slice(src);
                } else {
                    out.iter_mut().zip(src).for_each(|(o, s)| *o += s);
                }
            }
        });
        out
    };
    Grads {
        kernel: wanted.kernel.then(|| match transposed {
            true => transpose(&total(0, dk_len), g.ckk(), g.c_out),
            false => total(0, dk_len),
        }),
        bias: wanted.bias.then(|| total(dk_len, g.c_out)),
        input: wanted.input.then_some(dx),
    }
}

/// Σ values, in 16 interleaved partial sums (vectorisable, unlike one running sum, and
/// in a fixed order).
fn lane_sum(values: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let mut blocks = values.chunks_exact(16);
    for block in &mut blocks {
        for (l, v) in lanes.iter_mut().zip(block) {
            *l += v;
        }
    }
    lanes.iter().sum::<f32>() + blocks.remainder().iter().sum::<f32>()
}

/// The transpose of a row-major `rows × cols` matrix, in cache-sized tiles.
fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const TILE: usize = 32;
    let mut t = vec![0f32; rows * cols];
    t.par_chunks_mut(TILE * rows.max(1))
        .enumerate()
        .for_each(|(jb, out)| {
            let c0 = jb * TILE;
            for r0 in (0..rows).step_by(TILE) {
                for c in c0..(c0 + TILE).min(cols) {
                    for r in r0..(r0 + TILE).min(rows) {
                        out[(c - c0) * rows + r] = m[r * cols + c];
                    }
                }
            }
        });
    t
}

/// Copies a chunk of `dy` (NCHW, the whole batch) into `dz` (c_out × nb·HoWo); with
/// `relu_out` (the ReLU's output, NCHW like `dy`), through ReLU's mask: `dy` where the
/// output is positive, else 0.
pub(crate) fn gather(g: &Geometry, dy: &[f32], relu_out: Option<&[f32]>, c: Chunk, dz: &mut [f32]) {
    let (plane, width) = (g.out_plane(), c.nb * g.out_plane());
    for (o, row) in dz[..g.c_out * width].chunks_mut(width).enumerate() {
        for i in 0..c.nb {
            let at = ((c.b0 + i) * g.c_out + o) * plane;
            let (src, dst) = (&dy[at..at + plane], &mut row[i * plane..(i + 1) * plane]);
            match relu_out {
                None => dst.copy_from_slice(src),
                Some(res) => {
                    for ((d, &dy), &r) in dst.iter_mut().zip(src).zip(&res[at..at + plane]) {
                        *d = if r > 0.0 { dy } else { 0.0 };
                    }
                }
            }
        }
    }
}

/// Input gradient: `dx = col2im(kernelᵀ · dy)`, NCHW (for tests: the op fuses it).
#[cfg(test)]
pub(crate) fn input_grad(g: &Geometry, dy: &[f32], kernel: &[f32]) -> Vec<f32> {
    let wanted = Wanted {
        input: true,
        kernel: false,
        bias: false,
    };
    let grads = backward(g, &[], kernel, wanted, |c, dz| gather(g, dy, None, c, dz));
    grads.input.expect("wanted")
}

/// Weight gradient `dkernel = Σ_chunks dy · colsᵀ` (c_out × c_in·k·k) (for tests).
#[cfg(test)]
pub(crate) fn kernel_grad(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let wanted = Wanted {
        input: false,
        kernel: true,
        bias: false,
    };
    let grads = backward(g, x, &[], wanted, |c, dz| gather(g, dy, None, c, dz));
    grads.kernel.expect("wanted")
}
