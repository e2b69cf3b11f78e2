//! An honest yardstick for when-to-repair rules, from the per-image test correctness of
//! every epoch's repair (evaluation only: no rule sees any of it).
//!
//! The oracle of [`crate::evaluate`] is the best repaired *test* Qual over the epochs:
//! the maximum of noisy numbers, so it is biased upwards by test-set luck (GTSRB class
//! 27 has 60 test images; at α = 0.8 one image moves Qual by 0.013), and regret against
//! it partly measures that luck. The **cross-fitted oracle** removes the bias: split the
//! test images in two random halves A and B (stratified by the class), choose the best
//! epoch on A and score it on B, choose on B and score on A, average, and average again
//! over R seeded halvings. The choice never sees the images it is scored on, so noise
//! alone gains nothing: it is the ceiling a perfect rule reaches on a finite test set.
//! Every rule and the `converged` baseline are scored on the same halves (a fixed
//! epoch's score is the mean of its two halves' Qual).
//!
//! A rule's **share of the achievable gain** is then (rule − converged) / (cross-fitted
//! oracle − converged), of the means over the cases; its 95 % interval comes from a
//! bootstrap that resamples both the cases and, within each run's series, the test
//! images (one multinomial draw of the images per series and resample, shared by every
//! rule and α so that the comparison stays paired).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use repair_core::{RowBits, SetCorrectness};

use crate::evaluate::CaseResult;
use crate::signals::{Alpha, RepairSeries};

/// How the cross-fitted oracle and its bootstrap are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossFitOptions {
    /// Seeded halvings of the test images averaged over (R).
    pub halvings: usize,
    /// Bootstrap resamples of the share's interval (0: no interval).
    pub resamples: usize,
    /// Halvings per bootstrap resample (fewer than `halvings`: each resample redraws
    /// every image's weight, which costs a pass over the images per halving).
    pub resample_halvings: usize,
    /// Seed of the halvings and of the bootstrap.
    pub seed: u64,
}

impl Default for CrossFitOptions {
    fn default() -> Self {
        CrossFitOptions {
            halvings: 20,
            resamples: 200,
            resample_halvings: 4,
            seed: 0,
        }
    }
}

/// The halves of one halving: `true` = image in half A.
type Halving = Vec<bool>;

/// `count` seeded halvings of the images of `class` (its rows and the others each cut
/// in two, so both halves hold half of the class).
pub fn halvings(class: &RowBits, count: usize, seed: u64) -> Vec<Vec<bool>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (inside, outside): (Vec<usize>, Vec<usize>) =
        (0..class.rows()).partition(|&k| class.get(k));
    (0..count)
        .map(|_| {
            let mut a = vec![false; class.rows()];
            for group in [&inside, &outside] {
                let mut rows = group.clone();
                shuffle(&mut rows, &mut rng);
                for &k in &rows[..rows.len() / 2] {
                    a[k] = true;
                }
            }
            a
        })
        .collect()
}

/// Fisher–Yates with the given stream (the draws are this crate's own, so a `rand`
/// upgrade cannot move them).
fn shuffle(rows: &mut [usize], rng: &mut ChaCha8Rng) {
    for k in (1..rows.len()).rev() {
        let j = rng.random_range(0..=k);
        rows.swap(k, j);
    }
}

/// Weighted counts of one model on one part of the images.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    class_right: u64,
    class: u64,
    right: u64,
    all: u64,
}

impl Counts {
    /// Qual_α on this part (an accuracy of an empty part counts 0, as the reports do).
    fn qual(&self, alpha: Alpha) -> f64 {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let a = alpha.get();
        a * ratio(self.class_right, self.class) + (1.0 - a) * ratio(self.right, self.all)
    }
}

/// Per epoch and halving, the repaired model's counts on half A and half B, each image
/// counted `weights[k]` times (none: once).
fn half_counts(
    epochs: &[SetCorrectness],
    halvings: &[Halving],
    weights: Option<&[u32]>,
) -> Vec<Vec<[Counts; 2]>> {
    epochs
        .iter()
        .map(|bits| {
            let mut out = vec![[Counts::default(); 2]; halvings.len()];
            for k in 0..bits.rows() {
                let w = weights.map_or(1, |w| u64::from(w[k]));
                if w == 0 {
                    continue;
                }
                let (class, right) = (bits.class.get(k), bits.repaired.get(k));
                for (h, halves) in halvings.iter().zip(out.iter_mut()) {
                    let c = &mut halves[usize::from(!h[k])];
                    c.all += w;
                    c.right += w * u64::from(right);
                    c.class += w * u64::from(class);
                    c.class_right += w * u64::from(class && right);
                }
            }
            out
        })
        .collect()
}

/// One series at one α on fixed halves: the cross-fitted oracle and each epoch's score.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossFit {
    /// Mean over halvings of ½ (Q_B(argmax Q_A) + Q_A(argmax Q_B)).
    pub oracle: f64,
    /// Per epoch (1, 2, …): mean over halvings of ½ (Q_A + Q_B), the score of a rule
    /// that picks it.
    pub epoch_scores: Vec<f64>,
}

/// [`CrossFit`] of the counts of one series at `alpha`.
fn cross_fit_of(counts: &[Vec<[Counts; 2]>], alpha: Alpha) -> CrossFit {
    let halvings = counts.first().map_or(0, Vec::len);
    let argmax = |h: usize, half: usize| {
        let mut best = (0, f64::NEG_INFINITY);
        for (e, c) in counts.iter().enumerate() {
            let q = c[h][half].qual(alpha);
            if q > best.1 {
                best = (e, q);
            }
        }
        best.0
    };
    let oracle: f64 = (0..halvings)
        .map(|h| {
            let (on_a, on_b) = (argmax(h, 0), argmax(h, 1));
            0.5 * (counts[on_a][h][1].qual(alpha) + counts[on_b][h][0].qual(alpha))
        })
        .sum();
    let epoch_scores = counts
        .iter()
        .map(|c| {
            c.iter()
                .map(|h| 0.5 * (h[0].qual(alpha) + h[1].qual(alpha)))
                .sum::<f64>()
        })
        .map(|s| s / halvings as f64)
        .collect();
    CrossFit {
        oracle: oracle / halvings as f64,
        epoch_scores,
    }
}

/// The cross-fitted oracle of one series' per-epoch test bits at `alpha`, over
/// `halvings` seeded halvings.
pub fn cross_fit(
    epochs: &[SetCorrectness],
    alpha: Alpha,
    halvings_count: usize,
    seed: u64,
) -> CrossFit {
    let halves = halvings(&epochs[0].class, halvings_count, seed);
    cross_fit_of(&half_counts(epochs, &halves, None), alpha)
}

/// One rule's share of the achievable gain over the cases of one α, or of all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GainShare {
    /// α, or none for all α together.
    pub alpha: Option<f64>,
    /// The rule.
    pub rule: String,
    /// (run, class, α) cases.
    pub cases: usize,
    /// Mean score of the rule's picks on the halves.
    pub rule_qual: f64,
    /// Mean score of `converged`'s picks on the same halves.
    pub converged_qual: f64,
    /// Mean cross-fitted oracle.
    pub cross_fitted_oracle: f64,
    /// Mean test-max oracle (the best repaired test Qual), for comparison.
    pub test_max_oracle: f64,
    /// (rule − converged) / (cross-fitted oracle − converged); NaN when no gain is
    /// achievable.
    pub share: f64,
    /// Bootstrap 95 % interval, low end (NaN without resamples).
    pub share_ci_low: f64,
    /// High end.
    pub share_ci_high: f64,
}

/// Per case (series, α), the cross-fit and every rule's result on it.
struct CaseFit<'a> {
    alpha: f64,
    fit: CrossFit,
    results: Vec<&'a CaseResult>,
}

/// Every rule's share of the achievable gain per α and over all, from the cases of
/// [`crate::evaluate`] and each series' test bits; none when a series has no bits (a
/// folder written before per-image correctness files) or no halving is asked for.
pub fn gain_shares(
    series: &[RepairSeries],
    results: &[CaseResult],
    alphas: &[Alpha],
    options: &CrossFitOptions,
) -> Option<Vec<GainShare>> {
    let bits: Vec<&[SetCorrectness]> = series
        .iter()
        .map(|s| s.test_bits.as_deref())
        .collect::<Option<_>>()?;
    if options.halvings == 0 {
        return None;
    }
    // One seed per series: its halvings do not depend on which other series there are.
    let seed_of = |k: usize| options.seed ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let halves: Vec<Vec<Halving>> = bits
        .iter()
        .enumerate()
        .map(|(k, b)| halvings(&b[0].class, options.halvings, seed_of(k)))
        .collect();
    let counts: Vec<Vec<Vec<[Counts; 2]>>> = bits
        .iter()
        .zip(&halves)
        .map(|(b, h)| half_counts(b, h, None))
        .collect();
    let fits = case_fits(series, results, alphas, |k, alpha| {
        cross_fit_of(&counts[k], alpha)
    });
    let mut rules: Vec<&str> = Vec::new();
    for r in results {
        if !rules.contains(&r.outcome.rule.as_str()) {
            rules.push(&r.outcome.rule);
        }
    }
    let replicates = bootstrap_fits(series, results, alphas, &bits, &halves, options);
    let groups = alphas.iter().map(|a| Some(a.get())).chain([None]);
    let mut out = Vec::new();
    for alpha in groups {
        let in_group: Vec<usize> = (0..fits.len())
            .filter(|&c| alpha.is_none_or(|a| fits[c].alpha == a))
            .collect();
        for &rule in &rules {
            let point = share_of(&fits, &in_group, rule);
            let mut shares: Vec<f64> = replicates
                .iter()
                .enumerate()
                .map(|(b, fits)| {
                    let mut rng = ChaCha8Rng::seed_from_u64(options.seed.wrapping_add(b as u64));
                    let drawn: Vec<usize> = (0..in_group.len())
                        .map(|_| in_group[rng.random_range(0..in_group.len())])
                        .collect();
                    share_of(fits, &drawn, rule).share
                })
                .filter(|s| s.is_finite())
                .collect();
            shares.sort_by(f64::total_cmp);
            let at = |q: f64| match shares.len() {
                0 => f64::NAN,
                n => shares[((q * (n - 1) as f64).round()) as usize],
            };
            out.push(GainShare {
                alpha,
                rule: rule.to_string(),
                share_ci_low: at(0.025),
                share_ci_high: at(0.975),
                ..point
            });
        }
    }
    Some(out)
}

/// The cases of `results` (one per series and α, every rule's result with it), each
/// with the cross-fit `fit(series index, α)`.
fn case_fits<'a>(
    series: &[RepairSeries],
    results: &'a [CaseResult],
    alphas: &[Alpha],
    fit: impl Fn(usize, Alpha) -> CrossFit,
) -> Vec<CaseFit<'a>> {
    let mut out = Vec::new();
    for (k, s) in series.iter().enumerate() {
        for &alpha in alphas {
            let results = results
                .iter()
                .filter(|r| r.key == s.key && r.outcome.alpha == alpha.get())
                .collect();
            out.push(CaseFit {
                alpha: alpha.get(),
                fit: fit(k, alpha),
                results,
            });
        }
    }
    out
}

/// The fits of every bootstrap replicate: each series' images redrawn (multinomial,
/// seeded per replicate and series), on `resample_halvings` of its halvings.
fn bootstrap_fits<'a>(
    series: &[RepairSeries],
    results: &'a [CaseResult],
    alphas: &[Alpha],
    bits: &[&[SetCorrectness]],
    halves: &[Vec<Halving>],
    options: &CrossFitOptions,
) -> Vec<Vec<CaseFit<'a>>> {
    let used = options.resample_halvings.clamp(1, options.halvings);
    (0..options.resamples)
        .map(|b| {
            let counts: Vec<Vec<Vec<[Counts; 2]>>> = bits
                .iter()
                .zip(halves)
                .enumerate()
                .map(|(k, (epochs, h))| {
                    let n = epochs[0].rows();
                    let mut rng = ChaCha8Rng::seed_from_u64(
                        options.seed ^ ((b as u64) << 32) ^ (k as u64 + 1),
                    );
                    let mut weights = vec![0u32; n];
                    for _ in 0..n {
                        weights[rng.random_range(0..n)] += 1;
                    }
                    half_counts(epochs, &h[..used], Some(&weights))
                })
                .collect();
            case_fits(series, results, alphas, |k, alpha| {
                cross_fit_of(&counts[k], alpha)
            })
        })
        .collect()
}

/// The share of `rule` over the cases `cases` (indices into `fits`, repeats allowed).
fn share_of(fits: &[CaseFit<'_>], cases: &[usize], rule: &str) -> GainShare {
    let (mut rule_q, mut conv_q, mut oracle, mut test_max, mut n) = (0.0, 0.0, 0.0, 0.0, 0);
    for &c in cases {
        let f = &fits[c];
        let Some(r) = f.results.iter().find(|r| r.outcome.rule == rule) else {
            continue;
        };
        let score = |epoch: usize| f.fit.epoch_scores[epoch - 1];
        rule_q += score(r.outcome.picked_epoch);
        conv_q += score(r.outcome.converged_epoch);
        oracle += f.fit.oracle;
        test_max += r.outcome.oracle_test_qual;
        n += 1;
    }
    let n_f = n.max(1) as f64;
    let (rule_q, conv_q, oracle, test_max) =
        (rule_q / n_f, conv_q / n_f, oracle / n_f, test_max / n_f);
    let achievable = oracle - conv_q;
    GainShare {
        alpha: None,
        rule: rule.to_string(),
        cases: n,
        rule_qual: rule_q,
        converged_qual: conv_q,
        cross_fitted_oracle: oracle,
        test_max_oracle: test_max,
        share: if achievable > 0.0 {
            (rule_q - conv_q) / achievable
        } else {
            f64::NAN
        },
        share_ci_low: f64::NAN,
        share_ci_high: f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::evaluate;
    use crate::evaluate::tests::{decisions, series};
    use crate::rule::{BestRepaired, ReadinessRule};
    use crate::signals::{Accuracy, EpochOutcome};

    /// A series of `p.len()` epochs whose repair gets each of `n` test images right with
    /// probability `p[e]` (the first `class_n` images are the class), the validation
    /// loss falling to the last epoch and the selection Qual peaking at `selection_peak`.
    fn noisy(
        run: usize,
        p: &[f64],
        n: usize,
        class_n: usize,
        selection_peak: usize,
    ) -> RepairSeries {
        let mut rng = ChaCha8Rng::seed_from_u64(run as u64);
        let class = RowBits::from_bools((0..n).map(|k| k < class_n));
        let bits: Vec<SetCorrectness> = p
            .iter()
            .map(|&p| {
                let right = RowBits::from_bools((0..n).map(|_| rng.random_bool(p)));
                SetCorrectness {
                    class: class.clone(),
                    base: right.clone(),
                    repaired: right,
                }
            })
            .collect();
        let val_loss: Vec<f64> = (0..p.len()).map(|k| 1.0 / (k + 1) as f64).collect();
        let selection: Vec<f64> = (0..p.len())
            .map(|k| if k + 1 == selection_peak { 0.9 } else { 0.5 })
            .collect();
        let mut s = series(run, &val_loss, &selection, &vec![0.0; p.len()]);
        s.test = bits
            .iter()
            .enumerate()
            .map(|(k, b)| {
                let (cls, total) = b.accuracy(&b.repaired);
                let acc = Accuracy { cls, total };
                EpochOutcome {
                    epoch: k + 1,
                    base: acc,
                    repaired: acc,
                }
            })
            .collect();
        s.with_test_bits(bits).unwrap()
    }

    #[test]
    fn test_noise_alone_lifts_the_test_max_oracle_but_not_the_cross_fitted_one() {
        // Twelve epochs of the same true quality; 600 test images, 60 of the class (as
        // GTSRB's rarest). Any gain an oracle finds here is test-set luck.
        let alpha = Alpha::new(0.8).unwrap();
        let (mut test_max_bias, mut cross_fitted_bias) = (0.0, 0.0);
        let runs = 20;
        for run in 0..runs {
            let s = noisy(run, &[0.8; 12], 600, 60, 1);
            let quals: Vec<f64> = s.test.iter().map(|t| t.repaired.qual(alpha)).collect();
            let mean = quals.iter().sum::<f64>() / quals.len() as f64;
            let test_max = quals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let fit = cross_fit(s.test_bits.as_ref().unwrap(), alpha, 20, 7);
            let scored = fit.epoch_scores.iter().sum::<f64>() / 12.0;
            test_max_bias += (test_max - mean) / runs as f64;
            cross_fitted_bias += (fit.oracle - scored) / runs as f64;
        }
        assert!(test_max_bias > 0.04, "{test_max_bias}");
        assert!(cross_fitted_bias.abs() < 0.01, "{cross_fitted_bias}");
    }

    #[test]
    fn a_real_peak_is_what_the_cross_fitted_oracle_finds() {
        let alpha = Alpha::new(0.8).unwrap();
        let mut p = [0.7; 12];
        p[5] = 0.95;
        let s = noisy(1, &p, 600, 60, 6);
        let fit = cross_fit(s.test_bits.as_ref().unwrap(), alpha, 20, 7);
        assert!((fit.oracle - fit.epoch_scores[5]).abs() < 0.01, "{fit:?}");
        // A fixed epoch's score is its Qual on the whole set, to the halves' rounding.
        let whole = s.test[5].repaired.qual(alpha);
        assert!(
            (fit.epoch_scores[5] - whole).abs() < 0.01,
            "{fit:?} {whole}"
        );
    }

    #[test]
    fn a_rule_that_finds_the_peak_captures_the_whole_achievable_gain() {
        let alphas = [Alpha::new(0.8).unwrap()];
        let mut p = [0.7; 12];
        p[5] = 0.95;
        let all: Vec<RepairSeries> = (0..6).map(|run| noisy(run, &p, 400, 60, 6)).collect();
        // Patient enough to wait out the flat selection Qual before the peak.
        let rules: Vec<Box<dyn ReadinessRule>> = vec![Box::new(BestRepaired {
            patience: 8,
            min_gain: 0.0,
        })];
        let results = evaluate(&all, &alphas, &rules, 5);
        let options = CrossFitOptions {
            resamples: 50,
            ..CrossFitOptions::default()
        };
        let shares = gain_shares(&all, &results, &alphas, &options).unwrap();
        let best = shares
            .iter()
            .find(|g| g.alpha.is_none() && g.rule.starts_with("best-repaired"))
            .unwrap();
        assert!((best.share - 1.0).abs() < 0.05, "{best:?}");
        assert!(
            best.share_ci_low <= best.share && best.share <= best.share_ci_high,
            "{best:?}"
        );
        let baseline = shares
            .iter()
            .find(|g| g.alpha.is_none() && g.rule.starts_with("converged"))
            .unwrap();
        assert_eq!(baseline.share, 0.0);
        assert!(baseline.cross_fitted_oracle < baseline.test_max_oracle);
        // The same seed gives the same numbers.
        assert_eq!(
            gain_shares(&all, &results, &alphas, &options).unwrap(),
            shares
        );
        // Without bits (an older folder) there is no yardstick, rather than a wrong one.
        let mut no_bits = all.clone();
        no_bits[2].test_bits = None;
        assert!(gain_shares(&no_bits, &results, &alphas, &options).is_none());
    }

    #[test]
    fn no_rule_reads_the_test_bits_changing_them_leaves_every_decision() {
        let alphas = [Alpha::new(0.5).unwrap(), Alpha::new(0.8).unwrap()];
        let mut p = [0.7; 10];
        p[3] = 0.9;
        let all: Vec<RepairSeries> = (0..3).map(|run| noisy(run, &p, 300, 40, 4)).collect();
        let rules: Vec<Box<dyn ReadinessRule>> = vec![
            crate::rule::rule_named("best-repaired:2").unwrap(),
            crate::rule::rule_named("smoothed").unwrap(),
            crate::rule::rule_named("saturated").unwrap(),
        ];
        let decided = |series: &[RepairSeries]| decisions(evaluate(series, &alphas, &rules, 5));
        // Every test image's answer flipped, at every epoch.
        let flipped: Vec<RepairSeries> = all
            .iter()
            .map(|s| {
                let bits: Vec<SetCorrectness> = s
                    .test_bits
                    .as_ref()
                    .unwrap()
                    .iter()
                    .map(|b| {
                        let wrong = RowBits::from_bools((0..b.rows()).map(|k| !b.repaired.get(k)));
                        SetCorrectness {
                            class: b.class.clone(),
                            base: wrong.clone(),
                            repaired: wrong,
                        }
                    })
                    .collect();
                let mut s = s.clone();
                for (t, b) in s.test.iter_mut().zip(&bits) {
                    let (cls, total) = b.accuracy(&b.repaired);
                    t.repaired = Accuracy { cls, total };
                }
                s.with_test_bits(bits).unwrap()
            })
            .collect();
        assert_ne!(flipped[0].test, all[0].test);
        assert_eq!(decided(&flipped), decided(&all));
    }
}
