//! Table 1 and what the study lacks: per (dataset, α) the pattern counts, and over runs
//! the gain of the best early repair over repairing the converged model, with an exact
//! two-sided sign test (no distributional assumption; runs are few).

use serde::{Deserialize, Serialize};

use crate::pattern::{Pattern, PatternResult};

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
