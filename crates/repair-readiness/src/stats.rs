//! The statistics of the evaluation: Spearman's rank correlation, the Wilcoxon
//! signed-rank test of paired differences, and a seeded percentile bootstrap of a mean.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Ranks 1..n of `values`, ties getting the mean of their ranks.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = mean;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman's ρ of the pairs where both values are finite: Pearson's correlation of
/// their mid-ranks. NaN with fewer than three pairs or when either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let (x, y): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(&a, &b)| (a, b))
        .unzip();
    if x.len() < 3 {
        return f64::NAN;
    }
    let (rx, ry) = (ranks(&x), ranks(&y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

/// Two-sided p-value of the Wilcoxon signed-rank test that the paired differences `d`
/// are centred on zero. Zero differences are dropped (Wilcoxon's rule); ties share
/// mid-ranks. Exact (all 2ⁿ sign patterns, by counting) for n ≤ 30 without ties,
/// otherwise the normal approximation with tie and continuity corrections. 1 when no
/// difference is non-zero.
pub fn wilcoxon_signed_rank(d: &[f64]) -> f64 {
    let nonzero: Vec<f64> = d
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v != 0.0)
        .collect();
    let n = nonzero.len();
    if n == 0 {
        return 1.0;
    }
    let r = ranks(&nonzero.iter().map(|v| v.abs()).collect::<Vec<_>>());
    let w_plus: f64 = r
        .iter()
        .zip(&nonzero)
        .filter(|(_, v)| **v > 0.0)
        .map(|(r, _)| r)
        .sum();
    let total = (n * (n + 1)) as f64 / 2.0;
    let w = w_plus.min(total - w_plus);
    let ties = r.iter().any(|v| v.fract() != 0.0);
    if n <= 30 && !ties {
        // counts[s] = sign patterns whose positive ranks sum to s.
        let max = n * (n + 1) / 2;
        let mut counts = vec![0f64; max + 1];
        counts[0] = 1.0;
        for k in 1..=n {
            for s in (k..=max).rev() {
                counts[s] += counts[s - k];
            }
        }
        let below: f64 = counts[..=(w as usize)].iter().sum();
        return (2.0 * below / 2f64.powi(n as i32)).min(1.0);
    }
    let mut var = (n * (n + 1) * (2 * n + 1)) as f64 / 24.0;
    // Tie correction: Σ (t³ − t) / 48 over groups of equal |d|.
    let mut sorted = r.clone();
    sorted.sort_by(f64::total_cmp);
    let mut i = 0;
    while i < sorted.len() {
        let j = sorted[i..].iter().take_while(|&&v| v == sorted[i]).count();
        var -= ((j * j * j) as f64 - j as f64) / 48.0;
        i += j;
    }
    let mean = total / 2.0;
    let z = ((w - mean).abs() - 0.5).max(0.0) / var.sqrt();
    // Two-sided normal tail: erfc(z / √2).
    libm::erfc(z / std::f64::consts::SQRT_2).min(1.0)
}

/// The mean of `values` with its percentile-bootstrap 95 % interval from `resamples`
/// resamples drawn with the seeded ChaCha8 generator (the same interval on every
/// machine). NaN bounds for an empty input.
pub fn bootstrap_mean_ci(values: &[f64], resamples: usize, seed: u64) -> (f64, f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut means: Vec<f64> = (0..resamples.max(1))
        .map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * (means.len() - 1) as f64).round()) as usize];
    (mean, at(0.025), at(0.975))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_by_hand() {
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // x ranks 1, 2.5, 2.5, 4; y ranks 1, 2, 3, 4: ρ = 4.5 / √(4.5 · 5) ≈ 0.9487.
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]);
        assert!((r - 4.5 / (4.5f64 * 5.0).sqrt()).abs() < 1e-12, "{r}");
        assert!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
        assert!(spearman(&[1.0, f64::NAN, 2.0], &[1.0, 2.0, 3.0]).is_nan());
    }

    #[test]
    fn wilcoxon_exact_and_normal_agree_with_the_tables() {
        // n = 5, all positive: W− = 0, exact two-sided p = 2 / 32.
        assert!((wilcoxon_signed_rank(&[1.0, 2.0, 3.0, 4.0, 5.0]) - 0.0625).abs() < 1e-12);
        // Zeros are dropped; no difference left → 1.
        assert_eq!(wilcoxon_signed_rank(&[0.0, 0.0]), 1.0);
        // n = 8, ranks 1..8 with signs −,+,−,+,+,+,+,+: W− = 1 + 3 = 4; exact p = 2·P(W ≤ 4)
        // = 2 · 7 / 256 (the sums 0, 1, 2, 3, 4 are reached by 1, 1, 1, 2, 2 patterns).
        let d = [-1.0, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        assert!((wilcoxon_signed_rank(&d) - 14.0 / 256.0).abs() < 1e-12);
        // Ties → normal approximation: symmetric data gives p = 1.
        assert!((wilcoxon_signed_rank(&[1.0, -1.0, 2.0, -2.0]) - 1.0).abs() < 1e-12);
        // 40 positive differences: far in the tail.
        let d: Vec<f64> = (1..=40).map(f64::from).collect();
        assert!(wilcoxon_signed_rank(&d) < 1e-6);
    }

    #[test]
    fn the_bootstrap_is_seeded_and_brackets_the_mean() {
        let v: Vec<f64> = (0..50).map(|k| (k % 7) as f64 / 10.0).collect();
        let (mean, lo, hi) = bootstrap_mean_ci(&v, 2000, 7);
        assert!(lo < mean && mean < hi, "{lo} {mean} {hi}");
        assert_eq!(bootstrap_mean_ci(&v, 2000, 7), (mean, lo, hi));
        assert_ne!(bootstrap_mean_ci(&v, 2000, 8).1, lo);
        assert!(bootstrap_mean_ci(&[], 10, 1).0.is_nan());
    }
}
