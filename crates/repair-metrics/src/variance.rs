//! Repair-seed variance against training-seed variance. The study ran each repair once,
//! so a difference between two training runs mixed how training went with how the
//! search went. With several searches per unit (`repair_seeds`), per (dataset, model,
//! method, α) and class, the gain of the best early repair over repairing the converged
//! model (Table 1's quantity) g[run][seed] is split as a one-way random-effects ANOVA
//! with runs as groups:
//!
//! ```text
//! σ²_repair = mean over runs of the sample variance of g[run][·] over its S seeds
//! σ²_train  = max(0, sample variance over runs of the run means − σ²_repair / S)
//! ```
//!
//! averaged over the classes. Also counted: the (run, class) pairs whose pattern
//! (pre-/post-convergence) differs between their repair seeds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::pattern::Pattern;
use crate::tables::{MethodLabel, RunPattern};

/// Which line of `variance.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VarianceKey {
    /// Dataset name.
    pub dataset: String,
    /// Model name.
    pub model: String,
    /// The repair method.
    pub method: MethodLabel,
    /// α.
    pub alpha: f64,
}

/// The split of one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VarianceSplit {
    /// (run, class) pairs with every repair seed's gain.
    pub pairs: usize,
    /// Searches per unit.
    pub repair_seeds: usize,
    /// Mean gain over all of them.
    pub gain_mean: f64,
    /// σ²_repair (see the module docs).
    pub repair_variance: f64,
    /// σ²_train.
    pub training_variance: f64,
    /// σ²_train / (σ²_train + σ²_repair) (NaN when both are 0).
    pub training_share: f64,
    /// (run, class) pairs whose pattern differs between repair seeds.
    pub pattern_flips: usize,
}

/// A line of `variance.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct VarianceRow {
    /// Which cell.
    pub key: VarianceKey,
    /// Its split.
    pub split: VarianceSplit,
}
crate::csv_record!(VarianceRow {
    key: VarianceKey,
    split: VarianceSplit
});

fn sample_variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

/// The split per (dataset, model, method, α) from the patterns of each repair seed
/// (`by_seed[k]` are seed k's patterns, all for the same runs and classes). Pairs
/// without a gain in every seed are left out; a cell needs 2 seeds and 2 runs of a
/// class.
pub fn variance_split(by_seed: &[Vec<RunPattern>]) -> Vec<VarianceRow> {
    type Cell = (String, String, MethodLabel, u64);
    // cell → class → run → (gains, patterns) over seeds.
    type Seeds = (Vec<f64>, Vec<Pattern>);
    let mut cells: BTreeMap<Cell, BTreeMap<u32, BTreeMap<usize, Seeds>>> = BTreeMap::new();
    for patterns in by_seed {
        for p in patterns {
            let k = &p.key;
            let cell = (
                k.dataset.clone(),
                k.model.clone(),
                k.method.clone(),
                k.alpha.to_bits(),
            );
            let entry = cells
                .entry(cell)
                .or_default()
                .entry(k.target_class)
                .or_default()
                .entry(k.run)
                .or_default();
            if let Some(g) = p.result.early_gain {
                entry.0.push(g);
            }
            entry.1.push(p.result.pattern);
        }
    }
    let seeds = by_seed.len();
    let mut out = Vec::new();
    for ((dataset, model, method, alpha), classes) in cells {
        let (mut repair, mut training, mut counted) = (0.0, 0.0, 0usize);
        let (mut pairs, mut flips, mut sum, mut n) = (0, 0, 0.0, 0usize);
        for runs in classes.values() {
            let complete: Vec<&Vec<f64>> = runs
                .values()
                .filter(|(g, _)| g.len() == seeds)
                .map(|(g, _)| g)
                .collect();
            flips += runs
                .values()
                .filter(|(_, p)| p.iter().any(|x| *x != p[0]))
                .count();
            pairs += complete.len();
            for g in &complete {
                sum += g.iter().sum::<f64>();
                n += g.len();
            }
            if seeds < 2 || complete.len() < 2 {
                continue;
            }
            let within =
                complete.iter().map(|g| sample_variance(g)).sum::<f64>() / complete.len() as f64;
            let means: Vec<f64> = complete
                .iter()
                .map(|g| g.iter().sum::<f64>() / g.len() as f64)
                .collect();
            repair += within;
            training += (sample_variance(&means) - within / seeds as f64).max(0.0);
            counted += 1;
        }
        let (repair, training) = if counted == 0 {
            (f64::NAN, f64::NAN)
        } else {
            (repair / counted as f64, training / counted as f64)
        };
        out.push(VarianceRow {
            key: VarianceKey {
                dataset,
                model,
                method,
                alpha: f64::from_bits(alpha),
            },
            split: VarianceSplit {
                pairs,
                repair_seeds: seeds,
                gain_mean: sum / n as f64,
                repair_variance: repair,
                training_variance: training,
                training_share: training / (training + repair),
                pattern_flips: flips,
            },
        });
    }
    out
}

/// `variance.md`: the split as a table.
pub fn variance_markdown(rows: &[VarianceRow]) -> String {
    let mut s = String::from(
        "| dataset | method | α | (run, class) pairs | repair seeds | mean early gain | σ² repair seeds | σ² training seeds | training share | pattern flips |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let v = &r.split;
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:+.4} | {:.2e} | {:.2e} | {:.2} | {} / {} |\n",
            r.key.dataset,
            r.key.method,
            r.key.alpha,
            v.pairs,
            v.repair_seeds,
            v.gain_mean,
            v.repair_variance,
            v.training_variance,
            v.training_share,
            v.pattern_flips,
            v.pairs
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::PatternResult;
    use crate::tables::PatternKey;

    fn pattern(run: usize, gain: f64) -> RunPattern {
        RunPattern {
            key: PatternKey {
                dataset: "gtsrb".into(),
                model: "cnn-s".into(),
                method: MethodLabel::default(),
                run,
                target_class: 3,
                alpha: 0.5,
                converged_epoch: 10,
            },
            result: PatternResult {
                pattern: if gain > 0.0 {
                    Pattern::PreConvergence
                } else {
                    Pattern::PostConvergence
                },
                best_epoch: Some(5),
                best_qual: Some(0.9),
                converged_qual: Some(0.8),
                early_gain: Some(gain),
            },
        }
    }

    #[test]
    fn the_split_by_hand() {
        // Runs 1..3, seeds 2: gains (0.1, 0.3), (0.2, 0.2), (0.6, −0.2).
        let seeds = vec![
            vec![pattern(1, 0.1), pattern(2, 0.2), pattern(3, 0.6)],
            vec![pattern(1, 0.3), pattern(2, 0.2), pattern(3, -0.2)],
        ];
        let rows = variance_split(&seeds);
        let v = &rows[0].split;
        // Within: (0.02 + 0 + 0.32) / 3; run means 0.2, 0.2, 0.2 → variance 0, so
        // σ²_train = max(0, 0 − within/2) = 0.
        assert!((v.repair_variance - 0.34 / 3.0).abs() < 1e-12, "{v:?}");
        assert_eq!(v.training_variance, 0.0);
        assert_eq!(v.training_share, 0.0);
        assert_eq!((v.pairs, v.repair_seeds, v.pattern_flips), (3, 2, 1));
        assert!((v.gain_mean - 0.2).abs() < 1e-12);
        let md = variance_markdown(&rows);
        assert!(
            md.contains("| gtsrb | arachne | 0.5 | 3 | 2 | +0.2000 |"),
            "{md}"
        );
        // Runs that differ and seeds that agree: all of it is training variance.
        let agree = vec![
            vec![pattern(1, 0.1), pattern(2, 0.5)],
            vec![pattern(1, 0.1), pattern(2, 0.5)],
        ];
        let v = &variance_split(&agree)[0].split;
        assert_eq!(v.repair_variance, 0.0);
        assert!((v.training_variance - 0.08).abs() < 1e-12);
        assert_eq!(v.training_share, 1.0);
    }
}
