//! The fitness in O(rows × (sites + touched columns)) per position.
//!
//! The sites stay fixed for a whole search, so only the columns they touch ("touched
//! columns") ever change. Once per problem we keep, per row, the base logits of the
//! touched columns, the activations at the sites, and — over the untouched columns —
//! the largest logit m, its first index, and Σ exp(z − m). A position then needs, per
//! row, one multiply-add per site and one `exp` per touched column:
//!
//! ```text
//! z'_t = z_t + Σ_{sites s in column t} a_{i_s} · (x_s − W_s)
//! M    = max(m, max_t z'_t)
//! S    = Σ_untouched · exp(m − M) + Σ_t exp(z'_t − M)
//! ln p_y = z'_y − M − ln S
//! ```
//!
//! All of it in `f64` from the `f32` inputs, like [`crate::FullFitness`], which it
//! matches to rounding (and exactly in the counts on exactly representable data, ties
//! included).
//!
//! Rows are processed in blocks of [`BLOCK`], stored column-wise (site-major), so the
//! per-row work — the multiply-adds, the max, and the polynomial `exp` and `ln` of
//! [`super::fastmath`] — vectorises across rows. The block kernel is compiled three
//! times and picked at run time (AVX-512, AVX2, baseline x86-64 or any other target);
//! no `target-cpu=native` needed, and all three give the same bits (no fused
//! multiply-add is introduced, and lanes are independent rows).

use repair_core::{logits, CrossEntropy, ProblemError};
use repair_pso::Objective;

use crate::fastmath::{exp, ln};
use crate::problem::{mean_loss, FitnessDetail, RepairProblem};

/// `label_touched` value of a row whose label column no site touches.
const UNTOUCHED: u32 = u32::MAX;

/// Rows per block of the vectorised kernel.
pub(crate) const BLOCK: usize = 64;

/// The instruction set the block kernel runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    Baseline,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// The best this CPU offers.
    fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }
}

/// The Arachne fitness with everything that does not depend on the position
/// precomputed (see the module docs).
#[derive(Debug, Clone)]
pub struct ArachneFitness {
    /// Sites regrouped by column: position index of each regrouped site.
    order: Vec<usize>,
    /// Original weight of each regrouped site.
    base_weight: Vec<f64>,
    /// Touched columns, ascending.
    columns: Vec<u32>,
    /// Regrouped-site range of each touched column.
    column_sites: Vec<(usize, usize)>,
    /// Rows: negatives first, then positives.
    rows: usize,
    negatives: usize,
    /// sites × rows (site-major), regrouped order.
    site_activation: Vec<f64>,
    /// touched columns × rows.
    touched_logit: Vec<f64>,
    /// Per row, over untouched columns: max logit and Σ exp(z − max).
    rest_max: Vec<f64>,
    rest_sum: Vec<f64>,
    /// Per row, the largest untouched logit of a column before / after the label's
    /// (−∞ if none): the label is the first arg-max iff it beats the former strictly
    /// and the latter or ties it.
    rest_below: Vec<f64>,
    rest_above: Vec<f64>,
    /// Per row: label, index of its column among the touched ones (or UNTOUCHED), and
    /// its base logit when untouched.
    label: Vec<u32>,
    label_touched: Vec<u32>,
    label_logit: Vec<f64>,
    isa: Isa,
    /// The cross-entropy of the losses.
    loss: CrossEntropy,
}

impl ArachneFitness {
    /// Validates `problem` and precomputes the per-row quantities; the study's
    /// cross-entropy ([`CrossEntropy::Logits`]).
    pub fn new(problem: &RepairProblem) -> Result<Self, ProblemError> {
        Self::with_loss(problem, CrossEntropy::default())
    }

    /// [`ArachneFitness::new`] with the cross-entropy `loss`.
    pub fn with_loss(problem: &RepairProblem, loss: CrossEntropy) -> Result<Self, ProblemError> {
        problem.validate()?;
        let (d, c) = (problem.layer.width, problem.layer.classes);
        let mut order: Vec<usize> = (0..problem.sites.len()).collect();
        order.sort_by_key(|&k| (problem.sites[k].j, k));
        let mut columns: Vec<u32> = Vec::new();
        let mut column_sites = Vec::new();
        for (r, &k) in order.iter().enumerate() {
            let j = problem.sites[k].j as u32;
            if columns.last() != Some(&j) {
                columns.push(j);
                column_sites.push((r, r));
            }
            column_sites.last_mut().expect("pushed").1 = r + 1;
        }
        let mut touched_of = vec![UNTOUCHED; c];
        for (t, &j) in columns.iter().enumerate() {
            touched_of[j as usize] = t as u32;
        }
        let base_weight = order
            .iter()
            .map(|&k| f64::from(problem.layer.kernel[problem.sites[k].i * c + problem.sites[k].j]))
            .collect();
        let rows = problem.negatives.len() + problem.positives.len();
        let mut fitness = ArachneFitness {
            base_weight,
            columns,
            column_sites,
            rows,
            negatives: problem.negatives.len(),
            site_activation: Vec::with_capacity(rows * order.len()),
            touched_logit: Vec::with_capacity(rows * c),
            rest_max: Vec::with_capacity(rows),
            rest_sum: Vec::with_capacity(rows),
            rest_below: Vec::with_capacity(rows),
            rest_above: Vec::with_capacity(rows),
            label: Vec::with_capacity(rows),
            label_touched: Vec::with_capacity(rows),
            label_logit: Vec::with_capacity(rows),
            order,
            isa: Isa::detect(),
            loss,
        };
        let mut z = vec![0.0; c];
        for set in [&problem.negatives, &problem.positives] {
            for (a, &y) in set.activations.chunks(d).zip(&set.labels) {
                logits(a, &problem.layer.kernel, &problem.layer.bias, &mut z);
                fitness.push_row(problem, a, &z, y, &touched_of);
            }
        }
        fitness.site_activation = transpose(&fitness.site_activation, rows);
        fitness.touched_logit = transpose(&fitness.touched_logit, rows);
        Ok(fitness)
    }

    fn push_row(
        &mut self,
        problem: &RepairProblem,
        a: &[f32],
        z: &[f64],
        y: u32,
        touched_of: &[u32],
    ) {
        for &k in &self.order {
            self.site_activation.push(f64::from(a[problem.sites[k].i]));
        }
        for &j in &self.columns {
            self.touched_logit.push(z[j as usize]);
        }
        let untouched = || (0..z.len()).filter(|&j| touched_of[j] == UNTOUCHED);
        let max_of = |js: &mut dyn Iterator<Item = usize>| {
            js.map(|j| z[j]).fold(f64::NEG_INFINITY, f64::max)
        };
        let max = max_of(&mut untouched());
        let sum = untouched().map(|j| (z[j] - max).exp()).sum();
        let y_col = y as usize;
        self.rest_max.push(max);
        self.rest_sum.push(sum);
        self.rest_below
            .push(max_of(&mut untouched().filter(|&j| j < y_col)));
        self.rest_above
            .push(max_of(&mut untouched().filter(|&j| j > y_col)));
        self.label.push(y);
        self.label_touched.push(touched_of[y as usize]);
        self.label_logit.push(z[y as usize]);
    }

    /// Number of weight sites (the dimension of a position).
    pub fn sites(&self) -> usize {
        self.order.len()
    }

    /// Number of positive rows (the most that can be intact).
    pub fn positives(&self) -> usize {
        self.rows - self.negatives
    }

    /// The fitness of `position` (one value per site, in the problem's site order)
    /// and its parts.
    pub fn evaluate(&self, position: &[f64]) -> Result<FitnessDetail, ProblemError> {
        if position.len() != self.sites() {
            return Err(ProblemError::Position {
                found: position.len(),
                sites: self.sites(),
            });
        }
        // Rounded to f32 first: the values a model would hold.
        let delta: Vec<f64> = self
            .order
            .iter()
            .zip(&self.base_weight)
            .map(|(&k, w)| f64::from(position[k] as f32) - w)
            .collect();
        let mut scratch = Scratch::new(self.columns.len());
        let (mut loss, mut correct) = ([0.0; 2], [0usize; 2]);
        for r0 in (0..self.rows).step_by(BLOCK) {
            let n = BLOCK.min(self.rows - r0);
            self.dispatch_block(r0, n, &delta, &mut scratch);
            // Rows before `split` are negatives; sums run in row order (determinism).
            let split = self.negatives.saturating_sub(r0).min(n);
            for (set, range) in [(0, 0..split), (1, split..n)] {
                loss[set] += scratch.ce[range.clone()].iter().sum::<f64>();
                correct[set] += scratch.ok[range].iter().filter(|&&ok| ok).count();
            }
        }
        let positives = self.rows - self.negatives;
        Ok(FitnessDetail::from_parts(
            correct[0],
            mean_loss(loss[0], self.negatives),
            correct[1],
            mean_loss(loss[1], positives),
        ))
    }

    fn dispatch_block(&self, r0: usize, n: usize, delta: &[f64], scratch: &mut Scratch) {
        match self.isa {
            Isa::Baseline => self.block(r0, n, delta, scratch),
            // SAFETY: `Isa::detect` saw the feature on this CPU.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { self.block_avx2(r0, n, delta, scratch) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { self.block_avx512(r0, n, delta, scratch) },
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn block_avx2(&self, r0: usize, n: usize, delta: &[f64], scratch: &mut Scratch) {
        self.block(r0, n, delta, scratch)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn block_avx512(&self, r0: usize, n: usize, delta: &[f64], scratch: &mut Scratch) {
        self.block(r0, n, delta, scratch)
    }

    /// Rows r0..r0+n: cross-entropy and correctness of each, into `scratch`.
    #[inline(always)]
    fn block(&self, r0: usize, n: usize, delta: &[f64], scratch: &mut Scratch) {
        let rows = self.rows;
        let at = |k: usize| k * rows + r0..k * rows + r0 + n;
        let own = r0..r0 + n;
        let Scratch {
            z,
            max,
            sum,
            zy,
            ce,
            ok,
        } = scratch;
        let (max, sum, zy, ce, ok) = (
            &mut max[..n],
            &mut sum[..n],
            &mut zy[..n],
            &mut ce[..n],
            &mut ok[..n],
        );
        // Patched logits of the touched columns, and the row max M.
        max.copy_from_slice(&self.rest_max[own.clone()]);
        zy.copy_from_slice(&self.label_logit[own.clone()]);
        for (t, &(from, to)) in self.column_sites.iter().enumerate() {
            let zt = &mut z[t * BLOCK..t * BLOCK + n];
            zt.copy_from_slice(&self.touched_logit[at(t)]);
            for (q, &d) in delta.iter().enumerate().take(to).skip(from) {
                for (z, &a) in zt.iter_mut().zip(&self.site_activation[at(q)]) {
                    *z += a * d;
                }
            }
            for (m, &v) in max.iter_mut().zip(zt.iter()) {
                *m = if v > *m { v } else { *m };
            }
            let is_label = self.label_touched[own.clone()].iter();
            for ((y, &v), &lt) in zy.iter_mut().zip(zt.iter()).zip(is_label) {
                *y = if lt == t as u32 { v } else { *y };
            }
        }
        // S = Σ_untouched · e^(m − M) + Σ_t e^(z'_t − M); m = −∞ (every column
        // touched) has Σ_untouched = 0 and exp's floor: 0.
        let rest = self.rest_max[own.clone()]
            .iter()
            .zip(&self.rest_sum[own.clone()]);
        for ((s, (&rm, &rs)), &m) in sum.iter_mut().zip(rest).zip(max.iter()) {
            *s = rs * exp(rm - m);
        }
        for t in 0..self.columns.len() {
            let zt = &z[t * BLOCK..t * BLOCK + n];
            for ((s, &v), &m) in sum.iter_mut().zip(zt).zip(max.iter()) {
                *s += exp(v - m);
            }
        }
        // One loop per form, so that each vectorises without a branch inside.
        let rows = ce.iter_mut().zip(sum.iter()).zip(zy.iter()).zip(max.iter());
        match self.loss {
            CrossEntropy::Logits => {
                for (((c, &s), &y), &m) in rows {
                    *c = CrossEntropy::Logits.from_log_p(y - m - ln(s));
                }
            }
            CrossEntropy::Clipped => {
                for (((c, &s), &y), &m) in rows {
                    *c = CrossEntropy::Clipped.from_log_p(y - m - ln(s));
                }
            }
        }
        // Correct iff the label is the first arg-max: every column before it strictly
        // lower, every column after it lower or equal.
        let below = self.rest_below[own.clone()]
            .iter()
            .zip(&self.rest_above[own.clone()]);
        for ((o, &y), (&lo, &hi)) in ok.iter_mut().zip(zy.iter()).zip(below) {
            *o = (lo < y) & (hi <= y);
        }
        for (t, &j) in self.columns.iter().enumerate() {
            let zt = &z[t * BLOCK..t * BLOCK + n];
            let labels = self.label[own.clone()].iter();
            for (((o, &v), &y), &label) in ok.iter_mut().zip(zt).zip(zy.iter()).zip(labels) {
                *o &= (j == label) | (v < y) | ((v == y) & (j > label));
            }
        }
    }
}

/// Per-evaluation buffers of one block.
struct Scratch {
    /// Patched touched logits, column-major with stride BLOCK.
    z: Vec<f64>,
    max: [f64; BLOCK],
    sum: [f64; BLOCK],
    /// Logit of the row's label.
    zy: [f64; BLOCK],
    ce: [f64; BLOCK],
    ok: [bool; BLOCK],
}

impl Scratch {
    fn new(columns: usize) -> Self {
        Scratch {
            z: vec![0.0; columns * BLOCK],
            max: [0.0; BLOCK],
            sum: [0.0; BLOCK],
            zy: [0.0; BLOCK],
            ce: [0.0; BLOCK],
            ok: [false; BLOCK],
        }
    }
}

/// Row-major `rows × k` to column-major `k × rows`.
fn transpose(values: &[f64], rows: usize) -> Vec<f64> {
    let k = values.len() / rows.max(1);
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..k {
            out[c * rows + r] = values[r * k + c];
        }
    }
    out
}

impl Objective for ArachneFitness {
    fn score(&self, position: &[f64]) -> f64 {
        self.evaluate(position)
            .expect("the swarm checks the dimension")
            .fitness
    }

    fn dimension(&self) -> Option<usize> {
        Some(self.sites())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::SyntheticSpec;

    /// Every instruction set this CPU has gives the very same bits as the baseline.
    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let mut available = vec![Isa::Baseline];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                available.push(Isa::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                available.push(Isa::Avx512);
            }
        }
        for columns in [1, 3, 43] {
            let problem = RepairProblem::synthetic(SyntheticSpec {
                width: 300,
                classes: 43,
                negatives: 70,
                positives: 131,
                sites: 43,
                columns,
                seed: columns as u64,
            });
            let fitness = ArachneFitness::new(&problem).unwrap();
            let x: Vec<f64> = problem.current().iter().map(|w| w * 1.7 - 0.05).collect();
            let results: Vec<FitnessDetail> = available
                .iter()
                .map(|&isa| {
                    ArachneFitness {
                        isa,
                        ..fitness.clone()
                    }
                    .evaluate(&x)
                    .unwrap()
                })
                .collect();
            assert!(
                results.windows(2).all(|w| w[0] == w[1]),
                "{available:?}: {results:?}"
            );
        }
    }
}
