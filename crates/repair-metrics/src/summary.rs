//! Table 1 and what the study lacks: per (dataset, α) the pattern counts, and over runs
//! the gain of the best early repair over repairing the converged model, with an exact
//! two-sided sign test (no distributional assumption; runs are few).

use serde::{Deserialize, Serialize};

use crate::pattern::{Pattern, PatternResult};
use crate::stats::{
    bootstrap_bca_mean_ci, rank_biserial, vargha_delaney_a12, wilcoxon_signed_rank,
};

/// One row of Table 1.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PatternCounts {
    /// Best repair before convergence.
    pub pre: usize,
    /// Best repair at convergence.
    pub post: usize,
    /// Best repair after convergence.
    pub after: usize,
    /// Missing repairs.
    pub incomplete: usize,
}

impl PatternCounts {
    /// Counts the patterns of `results`.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a PatternResult>) -> Self {
        let mut counts = PatternCounts::default();
        for r in results {
            match r.pattern {
                Pattern::PreConvergence => counts.pre += 1,
                Pattern::PostConvergence => counts.post += 1,
                Pattern::AfterConvergence => counts.after += 1,
                Pattern::Incomplete => counts.incomplete += 1,
            }
        }
        counts
    }
}

/// Mean ± std of the early-repair gains, and the sign test of "early beats converged"
/// (serialised as `gain_n`, `gain_mean`, … beside the pattern counts in `table1.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GainSummary {
    /// Number of gains.
    #[serde(rename = "gain_n")]
    pub n: usize,
    /// Mean gain.
    #[serde(rename = "gain_mean")]
    pub mean: f64,
    /// Sample standard deviation (n − 1); NaN for n < 2.
    #[serde(rename = "gain_std")]
    pub std: f64,
    /// Gains > 0.
    #[serde(rename = "gain_positive")]
    pub positive: usize,
    /// Gains < 0.
    #[serde(rename = "gain_negative")]
    pub negative: usize,
    /// Two-sided exact sign-test p-value over the non-zero gains (1 when none).
    pub sign_test_p: f64,
}

impl GainSummary {
    /// Summarises `gains` (NaN entries are skipped).
    pub fn of(gains: &[f64]) -> Self {
        let g: Vec<f64> = gains.iter().copied().filter(|x| !x.is_nan()).collect();
        let n = g.len();
        let mean = g.iter().sum::<f64>() / n as f64;
        let std = if n < 2 {
            f64::NAN
        } else {
            (g.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        };
        let positive = g.iter().filter(|&&x| x > 0.0).count();
        let negative = g.iter().filter(|&&x| x < 0.0).count();
        GainSummary {
            n,
            mean,
            std,
            positive,
            negative,
            sign_test_p: sign_test(positive, negative),
        }
    }
}

/// Two-sided exact binomial (p = ½) test of `positive` against `negative` outcomes:
/// twice the smaller tail, at most 1.
pub fn sign_test(positive: usize, negative: usize) -> f64 {
    let n = positive + negative;
    if n == 0 {
        return 1.0;
    }
    let k = positive.min(negative);
    // P(X ≤ k) for X ~ Bin(n, ½), with C(n, i) built up in f64.
    let (mut c, mut tail) = (1.0f64, 0.0f64);
    for i in 0..=k {
        if i > 0 {
            c = c * (n - i + 1) as f64 / i as f64;
        }
        tail += c;
    }
    (2.0 * tail / 2f64.powi(n as i32)).min(1.0)
}

/// Resamples of the BCa interval of Table 1's mean gain.
pub const GAIN_RESAMPLES: usize = 10_000;

/// Seed of that bootstrap (fixed, so a table is the same on every machine).
pub const GAIN_BOOTSTRAP_SEED: u64 = 0;

/// "Best early repair vs repairing the converged model" as empirical SE reports a
/// comparison of paired results (Arcuri & Briand 2011): the Wilcoxon signed-rank test of
/// the paired Qual differences with its matched-pairs rank-biserial effect size, a BCa
/// bootstrap 95 % interval of the mean difference, the Vargha–Delaney Â12 of early
/// against converged Qual, and the Wilcoxon p-value after Holm's correction across the
/// table's cells (serialised as `wilcoxon_p`, … in `table1.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedComparison {
    /// Two-sided Wilcoxon signed-rank p-value of the gains (1 when none is non-zero).
    pub wilcoxon_p: f64,
    /// Holm-adjusted `wilcoxon_p` over every cell of the table.
    pub wilcoxon_p_holm: f64,
    /// Matched-pairs rank-biserial correlation of the gains, in [−1, 1].
    pub rank_biserial: f64,
    /// BCa 95 % interval of the mean gain: lower end (NaN for fewer than 2 gains).
    pub gain_ci_low: f64,
    /// Upper end.
    pub gain_ci_high: f64,
    /// Â12: P(early Qual > converged Qual) over all pairs, ties half.
    pub a12: f64,
}

impl PairedComparison {
    /// The comparison of `(early, converged)` Qual pairs; `wilcoxon_p_holm` is
    /// `wilcoxon_p` until [`PairedComparison::holm_adjust`] sets it for a family.
    pub fn of(pairs: &[(f64, f64)]) -> Self {
        let pairs: Vec<(f64, f64)> = pairs
            .iter()
            .copied()
            .filter(|(e, c)| e.is_finite() && c.is_finite())
            .collect();
        let gains: Vec<f64> = pairs.iter().map(|(e, c)| e - c).collect();
        let (early, converged): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
        let (_, lo, hi) = bootstrap_bca_mean_ci(&gains, GAIN_RESAMPLES, GAIN_BOOTSTRAP_SEED);
        let p = wilcoxon_signed_rank(&gains);
        PairedComparison {
            wilcoxon_p: p,
            wilcoxon_p_holm: p,
            rank_biserial: rank_biserial(&gains),
            gain_ci_low: lo,
            gain_ci_high: hi,
            a12: vargha_delaney_a12(&early, &converged),
        }
    }

    /// Sets every comparison's `wilcoxon_p_holm` by Holm's correction over all of them.
    pub fn holm_adjust<'a>(family: impl IntoIterator<Item = &'a mut PairedComparison>) {
        let mut members: Vec<&mut PairedComparison> = family.into_iter().collect();
        let p: Vec<f64> = members.iter().map(|m| m.wilcoxon_p).collect();
        for (m, adjusted) in members.iter_mut().zip(crate::stats::holm(&p)) {
            m.wilcoxon_p_holm = adjusted;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paired_comparison_of_early_and_converged_qual() {
        // Five (run, class) pairs: early better in four, by 0.05..0.2, worse in one.
        let pairs = [
            (0.80, 0.70),
            (0.75, 0.70),
            (0.90, 0.70),
            (0.62, 0.70),
            (0.85, 0.70),
        ];
        let c = PairedComparison::of(&pairs);
        // Gains +0.10 +0.05 +0.20 −0.08 +0.15: ranks 3, 1, 5, 2, 4 → W⁻ = 2, exact
        // p = 2 · P(W ≤ 2) = 2 · 3/32; r = (13 − 2) / 15.
        assert!((c.wilcoxon_p - 0.1875).abs() < 1e-12, "{c:?}");
        assert!((c.rank_biserial - 11.0 / 15.0).abs() < 1e-12);
        // Early vs converged (all 0.70): 4 of 5 above → Â12 = 0.8.
        assert!((c.a12 - 0.8).abs() < 1e-12);
        assert!(c.gain_ci_low < 0.084 && 0.084 < c.gain_ci_high, "{c:?}");
        // A second cell, gains 0.8, 0.7, 0.6: exact p = 2/8. Holm over the two: 0.1875 · 2
        // = 0.375, then max(0.375, 0.25 · 1) = 0.375.
        let other = PairedComparison::of(&[(0.9, 0.1), (0.8, 0.1), (0.7, 0.1)]);
        assert!((other.wilcoxon_p - 0.25).abs() < 1e-12);
        let mut family = [c, other];
        PairedComparison::holm_adjust(family.iter_mut());
        for m in &family {
            assert!((m.wilcoxon_p_holm - 0.375).abs() < 1e-12, "{family:?}");
        }
    }
}
