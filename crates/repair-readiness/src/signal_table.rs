//! `readiness.csv`: every signal of every (run, class, α, epoch), with the test values
//! beside them; and the two questions asked of it — how far each signal tells the
//! test-Qual gain of repairing that checkpoint (the paper's open "why do some
//! checkpoints repair better?"), and how far the selection set's repaired Qual tracks
//! the test set's over the epochs of a run.

use serde::{Deserialize, Serialize};

use crate::signals::{jaccard, val_loss_trend, Alpha, RepairSeries, SeriesKey};
use repair_metrics::spearman;

/// Epochs of the validation-loss trend.
pub const TREND_WINDOW: usize = 3;

/// One line of `readiness.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalRow {
    /// Which run and class.
    pub key: SeriesKey,
    /// The epoch, α and values.
    pub point: SignalPoint,
}
repair_metrics::csv_record!(SignalRow {
    key: SeriesKey,
    point: SignalPoint
});

/// The signals of one epoch for one α (what rules may read), then its test values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalPoint {
    /// α.
    pub alpha: f64,
    /// Epoch.
    pub epoch: usize,
    /// Validation loss.
    pub val_loss: f64,
    /// Its least-squares slope over the last [`TREND_WINDOW`] epochs.
    pub val_loss_trend: Option<f64>,
    /// Selection Acc_cls of the checkpoint.
    pub selection_base_acc_cls: f64,
    /// Selection Acc_total of the checkpoint.
    pub selection_base_acc_total: f64,
    /// Selection Qual_α of the checkpoint.
    pub selection_base_qual: f64,
    /// Selection Acc_cls after repair.
    pub selection_repaired_acc_cls: f64,
    /// Selection Acc_total after repair.
    pub selection_repaired_acc_total: f64,
    /// Selection Qual_α after repair.
    pub selection_repaired_qual: f64,
    /// Repaired minus base selection Qual_α.
    pub selection_gain: f64,
    /// Repair rate.
    pub rr: f64,
    /// Break rate.
    pub br: f64,
    /// Negatives of the repair set.
    pub negatives: usize,
    /// Fitness of the checkpoint (none: nothing to repair).
    pub fitness_before: Option<f64>,
    /// Fitness after repair.
    pub fitness_after: Option<f64>,
    /// Sites localised.
    pub n_sites: usize,
    /// Jaccard overlap of the sites with the previous epoch's.
    pub site_jaccard: Option<f64>,
    /// Relative change of the last layer since the previous epoch.
    pub layer_change: Option<f64>,
    /// Test Qual_α of the checkpoint (evaluation only).
    pub test_base_qual: f64,
    /// Test Qual_α after repair (evaluation only).
    pub test_repaired_qual: f64,
    /// Repaired minus base test Qual_α (evaluation only).
    pub test_gain: f64,
}

/// The rows of every series and α, in (series, α, epoch) order.
pub fn signal_rows(series: &[RepairSeries], alphas: &[Alpha]) -> Vec<SignalRow> {
    let mut rows = Vec::new();
    for s in series {
        for &alpha in alphas {
            for (k, (e, t)) in s.signals.iter().zip(&s.test).enumerate() {
                let (base, repaired) = (e.base.qual(alpha), e.repaired.qual(alpha));
                let (test_base, test_repaired) = (t.base.qual(alpha), t.repaired.qual(alpha));
                rows.push(SignalRow {
                    key: s.key.clone(),
                    point: SignalPoint {
                        alpha: alpha.get(),
                        epoch: e.epoch,
                        val_loss: e.val_loss,
                        val_loss_trend: val_loss_trend(&s.signals[..=k], TREND_WINDOW),
                        selection_base_acc_cls: e.base.cls,
                        selection_base_acc_total: e.base.total,
                        selection_base_qual: base,
                        selection_repaired_acc_cls: e.repaired.cls,
                        selection_repaired_acc_total: e.repaired.total,
                        selection_repaired_qual: repaired,
                        selection_gain: repaired - base,
                        rr: e.rr,
                        br: e.br,
                        negatives: e.negatives,
                        fitness_before: e.fitness_before,
                        fitness_after: e.fitness_after,
                        n_sites: e.sites.len(),
                        site_jaccard: k
                            .checked_sub(1)
                            .and_then(|p| jaccard(&s.signals[p].sites, &e.sites)),
                        layer_change: e.layer_change,
                        test_base_qual: test_base,
                        test_repaired_qual: test_repaired,
                        test_gain: test_repaired - test_base,
                    },
                });
            }
        }
    }
    rows
}

/// A signal of [`SignalPoint`] by name (NaN where it is undefined).
type SignalOf = fn(&SignalPoint) -> f64;

/// The signals whose link to the test-Qual gain is reported, by name.
pub const SIGNALS: [(&str, SignalOf); 15] = [
    ("epoch", |p| p.epoch as f64),
    ("val_loss", |p| p.val_loss),
    ("val_loss_trend", |p| p.val_loss_trend.unwrap_or(f64::NAN)),
    ("selection_base_qual", |p| p.selection_base_qual),
    ("selection_repaired_qual", |p| p.selection_repaired_qual),
    ("selection_gain", |p| p.selection_gain),
    ("rr", |p| p.rr),
    ("br", |p| p.br),
    ("negatives", |p| p.negatives as f64),
    ("fitness_before", |p| p.fitness_before.unwrap_or(f64::NAN)),
    ("fitness_after", |p| p.fitness_after.unwrap_or(f64::NAN)),
    ("fitness_gain", |p| {
        match (p.fitness_before, p.fitness_after) {
            (Some(b), Some(a)) => a - b,
            _ => f64::NAN,
        }
    }),
    ("n_sites", |p| p.n_sites as f64),
    ("site_jaccard", |p| p.site_jaccard.unwrap_or(f64::NAN)),
    ("layer_change", |p| p.layer_change.unwrap_or(f64::NAN)),
];

/// How one signal goes with the test-Qual gain of repair at one α.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// α.
    pub alpha: f64,
    /// The signal.
    pub signal: String,
    /// Spearman's ρ over all (run, class, epoch) points.
    pub rho_pooled: f64,
    /// The mean of Spearman's ρ within each (run, class) over its epochs (what a rule
    /// watching one run can use).
    pub rho_within: f64,
    /// Points with the signal defined.
    pub points: usize,
}

/// Each signal's rank correlation with the test-Qual gain, per α.
pub fn correlations(rows: &[SignalRow]) -> Vec<Correlation> {
    let mut alphas: Vec<f64> = rows.iter().map(|r| r.point.alpha).collect();
    alphas.sort_by(f64::total_cmp);
    alphas.dedup();
    let mut out = Vec::new();
    for alpha in alphas {
        let at: Vec<&SignalRow> = rows.iter().filter(|r| r.point.alpha == alpha).collect();
        let gain: Vec<f64> = at.iter().map(|r| r.point.test_gain).collect();
        let mut keys: Vec<&SeriesKey> = at.iter().map(|r| &r.key).collect();
        keys.dedup();
        for (name, of) in SIGNALS {
            let values: Vec<f64> = at.iter().map(|r| of(&r.point)).collect();
            let within: Vec<f64> = keys
                .iter()
                .map(|key| {
                    let (x, y): (Vec<f64>, Vec<f64>) = at
                        .iter()
                        .filter(|r| &&r.key == key)
                        .map(|r| (of(&r.point), r.point.test_gain))
                        .unzip();
                    spearman(&x, &y)
                })
                .filter(|r| r.is_finite())
                .collect();
            out.push(Correlation {
                alpha,
                signal: name.to_string(),
                rho_pooled: spearman(&values, &gain),
                rho_within: within.iter().sum::<f64>() / within.len() as f64,
                points: values.iter().filter(|v| v.is_finite()).count(),
            });
        }
    }
    out
}

/// How far the repaired selection Qual follows the repaired test Qual over one run's
/// epochs (Spearman's ρ), per (run, class, α).
#[derive(Debug, Clone, PartialEq)]
pub struct Tracking {
    /// Which run and class.
    pub key: SeriesKey,
    /// α and ρ.
    pub value: TrackingValue,
}
repair_metrics::csv_record!(Tracking {
    key: SeriesKey,
    value: TrackingValue
});

/// α and the rank correlation of a [`Tracking`] row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingValue {
    /// α.
    pub alpha: f64,
    /// Spearman's ρ of repaired selection and test Qual over the epochs.
    pub rho: f64,
}

/// Selection-against-test tracking of every series and α.
pub fn tracking(series: &[RepairSeries], alphas: &[Alpha]) -> Vec<Tracking> {
    let mut out = Vec::new();
    for s in series {
        for &alpha in alphas {
            let selection: Vec<f64> = s.signals.iter().map(|e| e.repaired.qual(alpha)).collect();
            let test: Vec<f64> = s.test.iter().map(|t| t.repaired.qual(alpha)).collect();
            out.push(Tracking {
                key: s.key.clone(),
                value: TrackingValue {
                    alpha: alpha.get(),
                    rho: spearman(&selection, &test),
                },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::tests::series;

    #[test]
    fn rows_carry_the_derived_signals_and_correlations_see_a_planted_link() {
        // Selection follows test exactly, so selection_repaired_qual is perfectly
        // rank-correlated with the test gain (the base is half the repaired class
        // accuracy there, so the gain grows with it).
        let q = [0.2, 0.4, 0.9, 0.5, 0.6];
        let s = [series(1, &[5.0, 4.0, 3.0, 2.0, 1.0], &q, &q)];
        let a = [Alpha::new(1.0).unwrap()];
        let rows = signal_rows(&s, &a);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].point.val_loss_trend, None);
        assert_eq!(rows[2].point.val_loss_trend, Some(-1.0));
        assert_eq!(rows[0].point.site_jaccard, None);
        assert_eq!(rows[1].point.site_jaccard, Some(1.0));
        assert!((rows[2].point.test_gain - 0.45).abs() < 1e-12);
        let c = correlations(&rows);
        let by = |name: &str| c.iter().find(|c| c.signal == name).unwrap();
        assert!((by("selection_repaired_qual").rho_pooled - 1.0).abs() < 1e-12);
        assert!((by("selection_repaired_qual").rho_within - 1.0).abs() < 1e-12);
        // rr is constant: no correlation.
        assert!(by("rr").rho_pooled.is_nan());
        let t = tracking(&s, &a);
        assert!((t[0].value.rho - 1.0).abs() < 1e-12);
        // The CSV reads back.
        let bytes = repair_metrics::to_csv(&rows).unwrap();
        assert_eq!(
            repair_metrics::from_csv::<SignalRow>(&bytes[..]).unwrap(),
            rows
        );
    }
}
