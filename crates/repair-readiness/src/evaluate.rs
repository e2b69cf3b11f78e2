//! The offline evaluation over a dense grid: every rule simulated epoch by epoch on
//! every (run, class, α), against the oracle (the best repaired *test* Qual, for
//! evaluation only) and the `converged` baseline; then the summary the issue asks for —
//! the share within 0.01 of the oracle, the mean regret with a bootstrap interval, the
//! epochs trained relative to `converged`, and the Wilcoxon test against it.

use serde::{Deserialize, Serialize};

use crate::rule::{Converged, Decision, ReadinessRule};
use crate::signals::{Alpha, EpochOutcome, EpochSignals, RepairSeries, SeriesKey};
use repair_metrics::{bootstrap_mean_ci, wilcoxon_signed_rank};

/// Regret at or below this counts as "as good as the oracle" (the 0.01).
pub const GOOD_ENOUGH: f64 = 0.01;

/// Where a rule stopped when run over a series as during training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    /// The epoch whose repaired model it uses.
    pub epoch: usize,
    /// Epochs trained: where it stopped, or the last epoch when training ended first.
    pub epochs_trained: usize,
    /// True when the rule stopped (not the end of training).
    pub stopped: bool,
}

/// Runs `rule` as the online mode does: after each epoch t it sees epochs 1..=t; the
/// first "stop" ends it. Without one, training's end does, with the rule's last choice.
pub fn simulate(rule: &dyn ReadinessRule, signals: &[EpochSignals], alpha: Alpha) -> Pick {
    let mut last = Decision {
        stop: false,
        epoch: 1,
    };
    for t in 1..=signals.len() {
        last = rule.decide(&signals[..t], alpha);
        debug_assert!(last.epoch <= t, "{} chose a future epoch", rule.name());
        if last.stop {
            return Pick {
                epoch: last.epoch,
                epochs_trained: t,
                stopped: true,
            };
        }
    }
    Pick {
        epoch: last.epoch,
        epochs_trained: signals.len(),
        stopped: false,
    }
}

/// The oracle: the epoch of the best repaired test Qual_α (first on ties).
pub fn oracle(test: &[EpochOutcome], alpha: Alpha) -> usize {
    let mut best = (test[0].epoch, f64::NEG_INFINITY);
    for t in test {
        let q = t.repaired.qual(alpha);
        if q > best.1 {
            best = (t.epoch, q);
        }
    }
    best.0
}

/// One rule on one (run, class, α): a line of `readiness_picks.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// Which run and class.
    pub key: SeriesKey,
    /// The rule's pick and how it compares.
    pub outcome: RuleOutcome,
}
repair_metrics::csv_record!(CaseResult {
    key: SeriesKey,
    outcome: RuleOutcome
});

/// What one rule did on one series for one α.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleOutcome {
    /// α.
    pub alpha: f64,
    /// The rule.
    pub rule: String,
    /// The epoch it picked.
    pub picked_epoch: usize,
    /// Epochs it trained.
    pub epochs_trained: usize,
    /// Whether it stopped by itself.
    pub stopped: bool,
    /// Repaired test Qual of its pick.
    pub picked_test_qual: f64,
    /// Repaired selection Qual of its pick.
    pub picked_selection_qual: f64,
    /// The oracle's epoch.
    pub oracle_epoch: usize,
    /// The oracle's repaired test Qual.
    pub oracle_test_qual: f64,
    /// Oracle minus picked test Qual (≥ 0).
    pub regret: f64,
    /// The `converged` baseline's epoch.
    pub converged_epoch: usize,
    /// Its regret.
    pub converged_regret: f64,
    /// Epochs the baseline trained (its early-stop epoch).
    pub converged_epochs_trained: usize,
}

/// Every rule (the baseline `converged(p=patience)` is always evaluated too, first) on
/// every series and α.
pub fn evaluate(
    series: &[RepairSeries],
    alphas: &[Alpha],
    rules: &[Box<dyn ReadinessRule>],
    patience: usize,
) -> Vec<CaseResult> {
    let baseline = Converged { patience };
    let mut out = Vec::new();
    for s in series {
        for &alpha in alphas {
            let test_qual = |epoch: usize| s.test[epoch - 1].repaired.qual(alpha);
            let best = oracle(&s.test, alpha);
            let conv = simulate(&baseline, &s.signals, alpha);
            let mut push = |rule: &dyn ReadinessRule| {
                let pick = simulate(rule, &s.signals, alpha);
                out.push(CaseResult {
                    key: s.key.clone(),
                    outcome: RuleOutcome {
                        alpha: alpha.get(),
                        rule: rule.name(),
                        picked_epoch: pick.epoch,
                        epochs_trained: pick.epochs_trained,
                        stopped: pick.stopped,
                        picked_test_qual: test_qual(pick.epoch),
                        picked_selection_qual: s.signals[pick.epoch - 1].repaired.qual(alpha),
                        oracle_epoch: best,
                        oracle_test_qual: test_qual(best),
                        regret: test_qual(best) - test_qual(pick.epoch),
                        converged_epoch: conv.epoch,
                        converged_regret: test_qual(best) - test_qual(conv.epoch),
                        converged_epochs_trained: conv.epochs_trained,
                    },
                });
            };
            push(&baseline);
            for rule in rules {
                if rule.name() != baseline.name() {
                    push(rule.as_ref());
                }
            }
        }
    }
    out
}

/// One rule's summary over the cases of one α, or of all (`alpha` empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSummary {
    /// α, or none for all α together.
    pub alpha: Option<f64>,
    /// The rule.
    pub rule: String,
    /// (run, class, α) cases.
    pub cases: usize,
    /// Share of cases with regret ≤ [`GOOD_ENOUGH`].
    pub share_good: f64,
    /// Mean regret.
    pub mean_regret: f64,
    /// Its bootstrap 95 % interval, low end.
    pub regret_ci_low: f64,
    /// High end.
    pub regret_ci_high: f64,
    /// The baseline's mean regret on the same cases.
    pub converged_mean_regret: f64,
    /// Mean epochs trained.
    pub mean_epochs: f64,
    /// The baseline's mean epochs trained.
    pub converged_mean_epochs: f64,
    /// 1 − mean epochs / the baseline's: the share of training saved (negative: more).
    pub epochs_saved: f64,
    /// Wilcoxon signed-rank p of the paired regret differences against the baseline.
    pub wilcoxon_p: f64,
}

/// The summary per α and over all, per rule, in the order rules first appear.
pub fn summarise(results: &[CaseResult], resamples: usize, seed: u64) -> Vec<RuleSummary> {
    let mut rules: Vec<&str> = Vec::new();
    let mut alphas: Vec<f64> = Vec::new();
    let results: Vec<&RuleOutcome> = results.iter().map(|r| &r.outcome).collect();
    for r in &results {
        if !rules.contains(&r.rule.as_str()) {
            rules.push(&r.rule);
        }
        if !alphas.contains(&r.alpha) {
            alphas.push(r.alpha);
        }
    }
    alphas.sort_by(f64::total_cmp);
    let groups = alphas.iter().map(|&a| Some(a)).chain([None]);
    let mut out = Vec::new();
    for alpha in groups {
        for &rule in &rules {
            let cases: Vec<&RuleOutcome> = results
                .iter()
                .copied()
                .filter(|r| r.rule == rule && alpha.is_none_or(|a| r.alpha == a))
                .collect();
            if cases.is_empty() {
                continue;
            }
            let n = cases.len() as f64;
            let regrets: Vec<f64> = cases.iter().map(|c| c.regret).collect();
            let (mean_regret, lo, hi) = bootstrap_mean_ci(&regrets, resamples, seed);
            let mean = |f: fn(&RuleOutcome) -> f64| cases.iter().map(|c| f(c)).sum::<f64>() / n;
            let mean_epochs = mean(|c| c.epochs_trained as f64);
            let converged_mean_epochs = mean(|c| c.converged_epochs_trained as f64);
            let differences: Vec<f64> = cases
                .iter()
                .map(|c| c.regret - c.converged_regret)
                .collect();
            out.push(RuleSummary {
                alpha,
                rule: rule.to_string(),
                cases: cases.len(),
                share_good: cases.iter().filter(|c| c.regret <= GOOD_ENOUGH).count() as f64 / n,
                mean_regret,
                regret_ci_low: lo,
                regret_ci_high: hi,
                converged_mean_regret: mean(|c| c.converged_regret),
                mean_epochs,
                converged_mean_epochs,
                epochs_saved: 1.0 - mean_epochs / converged_mean_epochs,
                wilcoxon_p: wilcoxon_signed_rank(&differences),
            });
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rule::BestRepaired;
    use crate::signals::tests::epoch;
    use crate::signals::Accuracy;

    /// What each rule decided on each case: (rule, picked epoch, epochs trained).
    pub(crate) fn decisions(results: Vec<CaseResult>) -> Vec<(String, usize, usize)> {
        results
            .into_iter()
            .map(|r| {
                let o = r.outcome;
                (o.rule, o.picked_epoch, o.epochs_trained)
            })
            .collect()
    }

    /// A series whose selection and test repaired class accuracies are given.
    pub(crate) fn series(
        run: usize,
        val_loss: &[f64],
        selection: &[f64],
        test: &[f64],
    ) -> RepairSeries {
        let signals = val_loss
            .iter()
            .zip(selection)
            .enumerate()
            .map(|(k, (&l, &q))| epoch(k + 1, l, q))
            .collect();
        let outcomes = test
            .iter()
            .enumerate()
            .map(|(k, &q)| EpochOutcome {
                epoch: k + 1,
                base: Accuracy {
                    cls: q / 2.0,
                    total: 0.8,
                },
                repaired: Accuracy { cls: q, total: 0.8 },
            })
            .collect();
        let key = SeriesKey {
            dataset: "gtsrb".into(),
            model: "cnn-s".into(),
            run,
            seed: run as u64,
            target_class: 3,
        };
        RepairSeries::new(key, signals, outcomes).unwrap()
    }

    #[test]
    fn a_rule_that_never_stops_ends_with_training_and_its_last_choice() {
        let s = series(1, &[3.0, 2.0, 1.0], &[0.1, 0.2, 0.3], &[0.1, 0.2, 0.3]);
        let a = Alpha::new(0.5).unwrap();
        let pick = simulate(&Converged { patience: 5 }, &s.signals, a);
        assert_eq!(
            pick,
            Pick {
                epoch: 3,
                epochs_trained: 3,
                stopped: false
            }
        );
        assert_eq!(oracle(&s.test, a), 3);
    }

    #[test]
    fn regret_and_epochs_against_the_oracle_and_the_baseline() {
        // Val loss falls to epoch 6 → converged stops after 8 (p = 2). Selection and test
        // both peak at epoch 3: best-repaired(p=2) stops after 5 with regret 0.
        let loss = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 1.5, 1.6];
        let q = [0.2, 0.4, 0.9, 0.5, 0.5, 0.6, 0.5, 0.5];
        let s = [series(1, &loss, &q, &q), series(2, &loss, &q, &q)];
        let rules: Vec<Box<dyn ReadinessRule>> = vec![Box::new(BestRepaired {
            patience: 2,
            min_gain: 0.0,
        })];
        let a = Alpha::new(1.0).unwrap();
        let results = evaluate(&s, &[a], &rules, 2);
        assert_eq!(results.len(), 4);
        let base = &results[0].outcome;
        assert_eq!(
            (base.rule.as_str(), base.picked_epoch, base.epochs_trained),
            ("converged(p=2)", 6, 8)
        );
        assert!((base.regret - 0.3).abs() < 1e-12);
        let best = &results[1].outcome;
        assert_eq!(
            (best.picked_epoch, best.epochs_trained, best.regret),
            (3, 5, 0.0)
        );
        let summary = summarise(&results, 500, 1);
        // Per α, then over all: 2 rules × 2 groups.
        assert_eq!(summary.len(), 4);
        let s = &summary[1];
        assert_eq!((s.cases, s.share_good, s.mean_regret), (2, 1.0, 0.0));
        assert!((s.converged_mean_regret - 0.3).abs() < 1e-12);
        assert!((s.epochs_saved - (1.0 - 5.0 / 8.0)).abs() < 1e-12);
        assert_eq!(summary[3].alpha, None);
    }

    #[test]
    fn no_rule_reads_the_test_set() {
        // The same signals with any test values give the same picks.
        let loss = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 1.5, 1.6];
        let sel = [0.2, 0.4, 0.9, 0.5, 0.5, 0.6, 0.5, 0.5];
        let rules: Vec<Box<dyn ReadinessRule>> = ["best-repaired", "saturated", "converged:2"]
            .iter()
            .map(|n| crate::rule_named(n).unwrap())
            .collect();
        let alphas = [Alpha::new(0.2).unwrap(), Alpha::new(0.8).unwrap()];
        let picks = |test: &[f64]| {
            decisions(evaluate(
                &[series(1, &loss, &sel, test)],
                &alphas,
                &rules,
                5,
            ))
        };
        let one = picks(&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
        let other = picks(&[0.9, 0.1, 0.0, 1.0, 0.3, 0.3, 0.2, 0.0]);
        assert_eq!(one, other);
    }
}
