//! The statistics of the study's comparisons, after the conventions of empirical and
//! search-based SE (Arcuri & Briand, "A practical guide for using statistical tests to
//! assess randomized algorithms in software engineering", ICSE 2011): Spearman's rank
//! correlation; the Wilcoxon signed-rank test of paired differences with the
//! matched-pairs rank-biserial effect size; the Vargha–Delaney Â12; Holm's correction
//! for several tests; seeded percentile and BCa bootstrap intervals of a mean. Shared
//! by Table 1 and the readiness evaluation.

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

/// The matched-pairs rank-biserial correlation of the paired differences `d` (Kerby
/// 2014): (W⁺ − W⁻) / (W⁺ + W⁻) over the non-zero differences' mid-ranks, in [−1, 1];
/// 1 when every difference is positive. 0 when no difference is non-zero.
pub fn rank_biserial(d: &[f64]) -> f64 {
    let nonzero: Vec<f64> = d
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v != 0.0)
        .collect();
    if nonzero.is_empty() {
        return 0.0;
    }
    let r = ranks(&nonzero.iter().map(|v| v.abs()).collect::<Vec<_>>());
    let (mut plus, mut minus) = (0.0, 0.0);
    for (rank, v) in r.iter().zip(&nonzero) {
        if *v > 0.0 {
            plus += rank;
        } else {
            minus += rank;
        }
    }
    (plus - minus) / (plus + minus)
}

/// Vargha and Delaney's Â12: the probability that a value of `x` exceeds one of `y`,
/// ties counting half (0.5: no difference; 0.71 and above is the conventional "large").
/// NaN when either side is empty.
pub fn vargha_delaney_a12(x: &[f64], y: &[f64]) -> f64 {
    if x.is_empty() || y.is_empty() {
        return f64::NAN;
    }
    let mut wins = 0.0;
    for a in x {
        for b in y {
            wins += if a > b {
                1.0
            } else if a == b {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (x.len() * y.len()) as f64
}

/// Holm's step-down correction of the p-values `p` of a family of tests: the k-th
/// smallest is multiplied by (m − k + 1), made non-decreasing in that order, and capped
/// at 1; returned in the input's order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(((m - k) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// The standard normal quantile Φ⁻¹(q) for q in (0, 1): Acklam's rational
/// approximation, refined by one Halley step on erfc (about 1e-15 relative error).
pub fn normal_quantile(q: f64) -> f64 {
    if q <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if q >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |r: f64| {
        (((((C[0] * r + C[1]) * r + C[2]) * r + C[3]) * r + C[4]) * r + C[5])
            / ((((D[0] * r + D[1]) * r + D[2]) * r + D[3]) * r + 1.0)
    };
    let x = if q < 0.02425 {
        tail((-2.0 * q.ln()).sqrt())
    } else if q > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - q).ln()).sqrt())
    } else {
        let t = q - 0.5;
        let r = t * t;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * t
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // One Halley step on Φ(x) − q, with Φ(x) = erfc(−x/√2)/2.
    let e = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2) - q;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// The standard normal distribution function Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// The mean of `values` with its bias-corrected and accelerated (BCa, Efron 1987)
/// bootstrap 95 % interval from `resamples` seeded ChaCha8 resamples: the percentile
/// interval moved by the bias z₀ = Φ⁻¹(share of resampled means below the mean) and
/// the acceleration a from the jackknife. It equals the percentile interval when the
/// means are symmetric about the mean. NaN bounds for fewer than two values.
pub fn bootstrap_bca_mean_ci(values: &[f64], resamples: usize, seed: u64) -> (f64, f64, f64) {
    let n = values.len();
    if n < 2 {
        let mean = values.first().copied().unwrap_or(f64::NAN);
        return (mean, f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let mut means = resampled_means(values, resamples, seed);
    means.sort_by(f64::total_cmp);
    let below = means.iter().filter(|&&m| m < mean).count() as f64;
    let equal = means.iter().filter(|&&m| m == mean).count() as f64;
    let z0 =
        normal_quantile(((below + equal / 2.0) / means.len() as f64).clamp(1e-12, 1.0 - 1e-12));
    // Jackknife: the means without value i, and their skewness.
    let total: f64 = values.iter().sum();
    let jack: Vec<f64> = values
        .iter()
        .map(|v| (total - v) / (n - 1) as f64)
        .collect();
    let jmean = jack.iter().sum::<f64>() / n as f64;
    let (num, den) = jack.iter().fold((0.0, 0.0), |(num, den), j| {
        let d = jmean - j;
        (num + d * d * d, den + d * d)
    });
    let a = if den == 0.0 {
        0.0
    } else {
        num / (6.0 * den.powf(1.5))
    };
    let at = |alpha: f64| {
        let z = normal_quantile(alpha);
        let q = normal_cdf(z0 + (z0 + z) / (1.0 - a * (z0 + z)));
        means[((q * (means.len() - 1) as f64).round() as usize).min(means.len() - 1)]
    };
    (mean, at(0.025), at(0.975))
}

fn resampled_means(values: &[f64], resamples: usize, seed: u64) -> Vec<f64> {
    let n = values.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..resamples.max(1))
        .map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect()
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
    let mut means = resampled_means(values, resamples, seed);
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

    /// Reference values from SciPy 1.17.1 (`scipy.stats.wilcoxon`, `mannwhitneyu`),
    /// computed once and written here as numbers.
    #[test]
    fn wilcoxon_rank_biserial_and_a12_match_scipy() {
        // wilcoxon(d, method='exact') → statistic 10.0, p 0.083984375.
        let d = [
            0.12, -0.03, 0.05, 0.08, -0.01, 0.02, 0.07, 0.04, -0.06, 0.09,
        ];
        assert!((wilcoxon_signed_rank(&d) - 0.083984375).abs() < 1e-15);
        // W⁺ = 45, W⁻ = 10 (from scipy.stats.rankdata): r = 35 / 55.
        assert!((rank_biserial(&d) - 0.6363636363636364).abs() < 1e-15);
        // Ties: wilcoxon(d, method='approx', correction=True) → p 0.021303176178702466.
        let d = [
            1.0, -1.0, 2.0, 2.0, 3.0, -3.0, 4.0, 5.0, 5.0, 6.0, 7.0, -8.0, 9.0, 9.0, 10.0,
        ];
        assert!((wilcoxon_signed_rank(&d) - 0.021303176178702466).abs() < 1e-12);
        // n = 35 (beyond the exact table): 1..35 with 4 and 11 negative → 9.316432630162522e-07.
        let d: Vec<f64> = (1..=35)
            .map(|k| {
                if k == 4 || k == 11 {
                    -f64::from(k)
                } else {
                    f64::from(k)
                }
            })
            .collect();
        assert!((wilcoxon_signed_rank(&d) / 9.316432630162522e-07 - 1.0).abs() < 1e-9);
        // mannwhitneyu(x, y).statistic = 37.5 → Â12 = 37.5 / 42.
        let x = [0.81, 0.77, 0.90, 0.85, 0.79, 0.88];
        let y = [0.75, 0.80, 0.74, 0.78, 0.72, 0.76, 0.79];
        assert!((vargha_delaney_a12(&x, &y) - 0.8928571428571429).abs() < 1e-15);
        assert_eq!(vargha_delaney_a12(&x, &x), 0.5);
        assert_eq!(rank_biserial(&[0.0]), 0.0);
        assert_eq!(rank_biserial(&[-1.0, -2.0]), -1.0);
    }

    #[test]
    fn holm_by_hand() {
        // Sorted 0.005, 0.01, 0.03, 0.04 × 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 → monotone 0.06.
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (a, w) in adjusted.iter().zip(want) {
            assert!((a - w).abs() < 1e-15, "{adjusted:?}");
        }
        assert_eq!(holm(&[0.6, 0.7]), vec![1.0, 1.0]);
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn the_normal_quantile_inverts_the_distribution_function() {
        // Φ⁻¹(0.975) = 1.959963984540054 (scipy.stats.norm.ppf).
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-13);
        assert!((normal_quantile(0.5)).abs() < 1e-15);
        for q in [1e-10, 0.001, 0.02, 0.3, 0.7, 0.99, 1.0 - 1e-9] {
            assert!(
                (normal_cdf(normal_quantile(q)) / q - 1.0).abs() < 1e-10,
                "{q}"
            );
        }
    }

    #[test]
    fn bca_moves_the_interval_toward_a_skewed_tail_and_is_seeded() {
        // Right-skewed gains: many small, a few large.
        let v: Vec<f64> = (0..40)
            .map(|k| if k % 8 == 0 { 1.0 } else { 0.05 })
            .collect();
        let (mean, lo, hi) = bootstrap_bca_mean_ci(&v, 4000, 3);
        let (_, plo, phi) = bootstrap_mean_ci(&v, 4000, 3);
        assert!(lo < mean && mean < hi, "{lo} {mean} {hi}");
        assert!(
            lo >= plo && hi >= phi,
            "BCa [{lo}, {hi}] vs percentile [{plo}, {phi}]"
        );
        assert_eq!(bootstrap_bca_mean_ci(&v, 4000, 3), (mean, lo, hi));
        assert!(bootstrap_bca_mean_ci(&[1.0], 10, 1).1.is_nan());
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
