//! A checked, safe front to the `gemm` crate (the matrix kernel candle's CPU backend
//! uses; it picks AVX-512 / AVX2+FMA / scalar code at run time, so binaries stay
//! portable). Matrices are strided views of slices; every index the kernel can touch is
//! bounds-checked before the unsafe call.

use gemm::Parallelism;

/// A `rows × cols` matrix in `data`: element (r, c) at `data[r * rs + c * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a> View<'a> {
    /// Row-major `rows × cols` (row stride `cols`).
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        View {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose, without copying.
    pub fn t(self) -> Self {
        View {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    fn check(&self, what: &str) {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1) * self.rs + (self.cols - 1) * self.cs;
            assert!(
                last < self.data.len(),
                "{what}: a {}×{} view with strides ({}, {}) reaches {last}, beyond {}",
                self.rows,
                self.cols,
                self.rs,
                self.cs,
                self.data.len()
            );
        }
    }
}

/// `dst = lhs × rhs` (or `dst += lhs × rhs` with `accumulate`); `dst` is row-major
/// `lhs.rows × rhs.cols`. With `parallel`, rayon's threads split the output, never the
/// inner sum, so the result is the same either way and on any thread count.
pub(crate) fn matmul(
    dst: &mut [f32],
    lhs: View<'_>,
    rhs: View<'_>,
    accumulate: bool,
    parallel: bool,
) {
    assert_eq!(lhs.cols, rhs.rows, "matmul: inner dimensions differ");
    lhs.check("lhs");
    rhs.check("rhs");
    let (m, n, k) = (lhs.rows, rhs.cols, lhs.cols);
    assert!(
        dst.len() >= m * n,
        "matmul: dst holds {} < {m}×{n}",
        dst.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    // SAFETY: every element the kernel reads or writes lies inside the slices (checked
    // above); `dst` is exclusively borrowed and does not alias `lhs` or `rhs`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            if parallel {
                Parallelism::Rayon(0)
            } else {
                Parallelism::None
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_textbook_product_with_transposes_and_accumulation() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|v| (v as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|v| (v as f32 * 0.11).cos()).collect();
        let bt: Vec<f32> = (0..n * k).map(|v| b[(v % k) * n + v / k]).collect();
        let mut want = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                want[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        let mut got = vec![9f32; m * n];
        matmul(
            &mut got,
            View::row_major(&a, m, k),
            View::row_major(&bt, n, k).t(),
            false,
            true,
        );
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{g} vs {w}");
        }
        matmul(
            &mut got,
            View::row_major(&a, m, k),
            View::row_major(&b, k, n),
            true,
            false,
        );
        for (g, w) in got.iter().zip(&want) {
            assert!((g - 2.0 * w).abs() < 1e-5);
        }
    }

    #[test]
    #[should_panic(expected = "beyond")]
    fn a_view_past_its_slice_is_refused() {
        let a = vec![0f32; 5];
        let mut d = vec![0f32; 4];
        matmul(
            &mut d,
            View::row_major(&a, 2, 3),
            View::row_major(&a, 3, 2),
            false,
            false,
        );
    }
}
