//! Stop rules: at the end of each epoch t, from epochs 1..=t only, "continue" or "stop,
//! and use epoch e ≤ t". A rule is handed the [`EpochSignals`] seen so far and nothing
//! else (no test value, no future epoch), so the online mode during training and the
//! offline evaluation over a finished grid call the same code on the same inputs.

use serde::{Deserialize, Serialize};

use repair_core::{RuleParams, RuleSpec};

use crate::signals::{Alpha, EpochSignals};

/// A rule's answer at the end of an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Stop training now.
    pub stop: bool,
    /// The epoch whose repaired model the rule would use now (≤ the last seen).
    pub epoch: usize,
}

/// When to stop training and which checkpoint's repair to use.
pub trait ReadinessRule: Send + Sync {
    /// The rule's name and parameters, as the reports print it (`best-repaired(p=3)`).
    fn name(&self) -> String;

    /// The decision after the last epoch of `seen` (epochs 1..=t, ascending, never
    /// empty), for Qual_α with `alpha`.
    fn decide(&self, seen: &[EpochSignals], alpha: Alpha) -> Decision;
}

/// The first epoch of `seen` where `score` is largest, counting a later epoch as better
/// only when it beats the best before it by more than `margin(later, best)` (NaN never
/// wins): a fixed minimum gain, or one from both epochs' noise.
fn best_by(
    seen: &[EpochSignals],
    score: impl Fn(&EpochSignals) -> f64,
    margin: impl Fn(&EpochSignals, &EpochSignals) -> f64,
) -> usize {
    let mut best: Option<(&EpochSignals, f64)> = None;
    for s in seen {
        let v = score(s);
        if !v.is_nan() && best.is_none_or(|(b, bv)| v > bv + margin(s, b)) {
            best = Some((s, v));
        }
    }
    best.map_or(seen[0].epoch, |(b, _)| b.epoch)
}

/// The field's practice and the baseline: early stopping on the validation loss, then
/// repair the converged checkpoint (the epoch of the lowest validation loss, first on
/// ties). Stops after `patience` epochs without a strictly lower loss, as the trainer's
/// `EarlyStopping` and Keras' `EarlyStopping(monitor="val_loss", patience=5)` do, so it
/// stops where the dense grid's training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Converged {
    /// Epochs without improvement before stopping (the paper: 5).
    pub patience: usize,
}

impl ReadinessRule for Converged {
    fn name(&self) -> String {
        format!("converged(p={})", self.patience)
    }

    fn decide(&self, seen: &[EpochSignals], _alpha: Alpha) -> Decision {
        let best = best_by(seen, |s| -s.val_loss, |_, _| 0.0);
        let last = seen[seen.len() - 1].epoch;
        Decision {
            stop: last - best >= self.patience,
            epoch: best,
        }
    }
}

/// Keeps the best repaired Qual_α on the selection set seen so far and stops after
/// `patience` epochs without a better one; uses that best epoch. An improvement must
/// exceed `min_gain` to count, so that noise of the selection set's size does not
/// restart the patience (0: any improvement counts).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BestRepaired {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// The least increase of the repaired selection Qual that counts as one.
    pub min_gain: f64,
}

impl ReadinessRule for BestRepaired {
    fn name(&self) -> String {
        if self.min_gain == 0.0 {
            format!("best-repaired(p={})", self.patience)
        } else {
            format!("best-repaired(p={},δ={})", self.patience, self.min_gain)
        }
    }

    fn decide(&self, seen: &[EpochSignals], alpha: Alpha) -> Decision {
        let best = best_by(seen, |s| s.repaired.qual(alpha), |_, _| self.min_gain);
        let last = seen[seen.len() - 1].epoch;
        Decision {
            stop: last - best >= self.patience,
            epoch: best,
        }
    }
}

/// A rule of this project that weighs noise: as [`BestRepaired`], but a later epoch
/// counts as a gain only when its repaired selection Qual beats the best so far by more
/// than `z` standard errors of the difference (each from the selection set's image
/// counts, [`EpochSignals::repaired_qual_se`]), so a rare class's few validation images
/// cannot keep training going on luck alone; it uses the best epoch so chosen. Without
/// image counts it is `BestRepaired` with no minimum gain.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Significant {
    /// Epochs without a significant gain before stopping.
    pub patience: usize,
    /// Standard errors a gain must exceed.
    pub z: f64,
}

impl ReadinessRule for Significant {
    fn name(&self) -> String {
        format!("significant(p={},z={})", self.patience, self.z)
    }

    fn decide(&self, seen: &[EpochSignals], alpha: Alpha) -> Decision {
        let se = |s: &EpochSignals| s.repaired_qual_se(alpha).unwrap_or(0.0);
        let best = best_by(
            seen,
            |s| s.repaired.qual(alpha),
            |later, best| self.z * (se(later).powi(2) + se(best).powi(2)).sqrt(),
        );
        let last = seen[seen.len() - 1].epoch;
        Decision {
            stop: last - best >= self.patience,
            epoch: best,
        }
    }
}

/// A rule of this project: stop when repairing has *saturated* — the repaired selection
/// Qual has not improved by more than `min_gain` for `patience` epochs **and** the
/// localised weights have settled (the FL sites of the last two epochs overlap by at
/// least `jaccard`, or there are none) — then use the best repaired epoch. The second
/// condition keeps training going while FL still moves between weights, which is when
/// the study's Fig. 4 shows repaired quality still changing; the first is
/// [`BestRepaired`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Saturated {
    /// Epochs without improvement.
    pub patience: usize,
    /// The least increase of the repaired selection Qual that counts.
    pub min_gain: f64,
    /// The least Jaccard overlap of the last two epochs' FL sites.
    pub jaccard: f64,
}

impl ReadinessRule for Saturated {
    fn name(&self) -> String {
        format!(
            "saturated(p={},δ={},J={})",
            self.patience, self.min_gain, self.jaccard
        )
    }

    fn decide(&self, seen: &[EpochSignals], alpha: Alpha) -> Decision {
        let best = best_by(seen, |s| s.repaired.qual(alpha), |_, _| self.min_gain);
        let last = seen[seen.len() - 1].epoch;
        let settled = match seen {
            [.., before, now] => {
                crate::signals::jaccard(&before.sites, &now.sites).is_none_or(|j| j >= self.jaccard)
            }
            _ => false,
        };
        Decision {
            stop: last - best >= self.patience && settled,
            epoch: best,
        }
    }
}

/// Another rule of this project, against the selection set's noise: scores each epoch
/// by the mean repaired selection Qual of it and its `window` neighbours on each side,
/// and only once all of them are seen (so an epoch is judged `window` epochs later);
/// picks the best-scored epoch and stops `patience` scored epochs after it. A
/// selection set of a few hundred inputs of the class moves its accuracy by a few points
/// between neighbouring checkpoints; the mean of three is what that noise moves less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Smoothed {
    /// Scored epochs without a better score before stopping.
    pub patience: usize,
    /// Neighbours on each side in an epoch's score.
    pub window: usize,
}

impl ReadinessRule for Smoothed {
    fn name(&self) -> String {
        format!("smoothed(p={},w={})", self.patience, self.window)
    }

    fn decide(&self, seen: &[EpochSignals], alpha: Alpha) -> Decision {
        let last = seen.len();
        let w = self.window;
        // Epochs whose whole window is seen (truncated at epoch 1).
        let scored = last.saturating_sub(w);
        if scored == 0 {
            return Decision {
                stop: false,
                epoch: seen[last - 1].epoch,
            };
        }
        let score = |k: usize| {
            let window = &seen[k.saturating_sub(w)..=(k + w).min(last - 1)];
            window.iter().map(|s| s.repaired.qual(alpha)).sum::<f64>() / window.len() as f64
        };
        let mut best = 0;
        for k in 1..scored {
            if score(k) > score(best) {
                best = k;
            }
        }
        Decision {
            stop: scored - 1 - best >= self.patience,
            epoch: seen[best].epoch,
        }
    }
}

/// The rule a checked [`RuleSpec`] describes (the grammar and the parameters' ranges
/// are `repair_core::RuleSpec`'s).
pub fn rule_of(spec: &RuleSpec) -> Box<dyn ReadinessRule> {
    match spec.params() {
        RuleParams::Converged { patience } => Box::new(Converged { patience }),
        RuleParams::BestRepaired { patience, min_gain } => {
            Box::new(BestRepaired { patience, min_gain })
        }
        RuleParams::Smoothed { patience, window } => Box::new(Smoothed { patience, window }),
        RuleParams::Significant { patience, z } => Box::new(Significant { patience, z }),
        RuleParams::Saturated {
            patience,
            min_gain,
            jaccard,
        } => Box::new(Saturated {
            patience,
            min_gain,
            jaccard,
        }),
    }
}

/// A rule by name, as the command line and reports give it: `converged`,
/// `best-repaired`, `saturated`, `smoothed`, each with its default parameters, or with
/// them spelled out (`best-repaired:3:0.002`, `saturated:3:0.002:0.5`, `converged:5`).
pub fn rule_named(spec: &str) -> Result<Box<dyn ReadinessRule>, repair_core::BadRule> {
    spec.parse::<RuleSpec>().map(|spec| rule_of(&spec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::tests::epoch;
    use crate::signals::ImageCounts;
    use repair_core::Site;

    fn alpha() -> Alpha {
        Alpha::new(0.5).unwrap()
    }

    /// Decisions after each epoch of a series.
    fn decisions(rule: &dyn ReadinessRule, series: &[EpochSignals]) -> Vec<Decision> {
        (1..=series.len())
            .map(|t| rule.decide(&series[..t], alpha()))
            .collect()
    }

    fn series(val_loss: &[f64], repaired_cls: &[f64]) -> Vec<EpochSignals> {
        val_loss
            .iter()
            .zip(repaired_cls)
            .enumerate()
            .map(|(k, (&l, &q))| epoch(k + 1, l, q))
            .collect()
    }

    #[test]
    fn converged_stops_patience_epochs_after_the_lowest_loss_first_on_ties() {
        let s = series(&[3.0, 2.0, 1.0, 1.0, 1.5, 1.2, 0.9], &[0.5; 7]);
        let d = decisions(&Converged { patience: 2 }, &s);
        let stops: Vec<_> = d.iter().map(|d| (d.stop, d.epoch)).collect();
        // The minimum 1.0 at epoch 3 (the tie at 4 is not lower); 2 epochs later, stop.
        assert_eq!(
            stops[..5],
            [(false, 1), (false, 2), (false, 3), (false, 3), (true, 3)]
        );
    }

    #[test]
    fn best_repaired_waits_for_its_patience_and_a_large_enough_gain() {
        let q = [0.30, 0.50, 0.52, 0.505, 0.51, 0.70];
        let s = series(&[1.0; 6], &q);
        let plain = decisions(
            &BestRepaired {
                patience: 2,
                min_gain: 0.0,
            },
            &s,
        );
        assert_eq!(plain.iter().position(|d| d.stop), Some(4)); // after epoch 5
        assert_eq!(plain[4].epoch, 3);
        // With δ = 0.05, 0.52 is no improvement on 0.50: it stops one epoch sooner.
        let tolerant = decisions(
            &BestRepaired {
                patience: 2,
                min_gain: 0.05,
            },
            &s,
        );
        assert_eq!(tolerant.iter().position(|d| d.stop), Some(3));
        assert_eq!(tolerant[3].epoch, 2);
    }

    #[test]
    fn significant_counts_only_gains_beyond_the_selection_noise() {
        // A rare class: 40 selection images of it among 1,000. At α = 1, SE(0.5) =
        // √(0.25 / 40) ≈ 0.079; a gain must beat √2 of it (≈ 0.11) at z = 1.
        let q = [0.50, 0.55, 0.58, 0.56, 0.75, 0.74, 0.76];
        let mut s = series(&[1.0; 7], &q);
        let alpha = Alpha::new(1.0).unwrap();
        for e in &mut s {
            e.selection_images = Some(ImageCounts {
                class: 40,
                total: 1000,
            });
        }
        let se = s[0].repaired_qual_se(alpha).unwrap();
        assert!((se - (0.25f64 / 40.0).sqrt()).abs() < 1e-12, "{se}");
        let rule = Significant {
            patience: 3,
            z: 1.0,
        };
        let d: Vec<Decision> = (1..=s.len()).map(|t| rule.decide(&s[..t], alpha)).collect();
        // 0.55, 0.58 and 0.56 are within the noise of 0.50: epoch 1 stays the best, and
        // three epochs later it stops — where best-repaired(p=3) would have gone on.
        assert_eq!((d[3].stop, d[3].epoch), (true, 1));
        let plain = BestRepaired {
            patience: 3,
            min_gain: 0.0,
        };
        assert!(!plain.decide(&s[..4], alpha).stop);
        // A gain beyond the noise counts: from epoch 5 on, 0.75 is the best.
        assert_eq!(rule.decide(&s[..7], alpha).epoch, 5);
        // Without image counts it is best-repaired with no minimum gain.
        let bare = series(&[1.0; 7], &q);
        for t in 1..=bare.len() {
            assert_eq!(
                rule.decide(&bare[..t], alpha),
                plain.decide(&bare[..t], alpha)
            );
        }
    }

    #[test]
    fn saturated_also_waits_for_the_sites_to_settle() {
        let mut s = series(&[1.0; 5], &[0.5, 0.6, 0.6, 0.6, 0.6]);
        for (k, e) in s.iter_mut().enumerate() {
            // Sites move every epoch until epoch 4, then stay.
            e.sites = vec![Site { i: k.min(3), j: 0 }];
        }
        let rule = Saturated {
            patience: 2,
            min_gain: 0.0,
            jaccard: 0.5,
        };
        let d = decisions(&rule, &s);
        // Patience is met after epoch 4, but sites changed 3 → 4; settled after epoch 5.
        assert_eq!(d.iter().position(|d| d.stop), Some(4));
        assert_eq!(d[4].epoch, 2);
    }

    #[test]
    fn smoothed_judges_an_epoch_by_its_neighbours_once_they_are_seen() {
        // A lone spike at epoch 2 loses to the plateau around epoch 5.
        let q = [0.2, 0.9, 0.2, 0.6, 0.7, 0.6, 0.4, 0.4, 0.4];
        let s = series(&[1.0; 9], &q);
        let d = decisions(
            &Smoothed {
                patience: 2,
                window: 1,
            },
            &s,
        );
        // Epoch 1 alone cannot be scored: the rule holds the newest epoch and goes on.
        assert_eq!(
            d[0],
            Decision {
                stop: false,
                epoch: 1
            }
        );
        // Scores (w = 1, on the class accuracy Qual follows): e1 0.55 (truncated window),
        // e2 0.433, e3 0.567, e4 0.5, e5 0.633, e6 0.567, e7 0.467. Best e5 once e6 is
        // seen; two more scored epochs (e6, e7) after it → stop at t = 8.
        assert_eq!(d.iter().position(|d| d.stop), Some(7));
        assert_eq!(d[7].epoch, 5);
        // Plain best-repaired would keep the spike.
        let plain = decisions(
            &BestRepaired {
                patience: 2,
                min_gain: 0.0,
            },
            &s,
        );
        assert_eq!(plain[3].epoch, 2);
    }

    #[test]
    fn rules_by_name_and_their_errors() {
        assert_eq!(rule_named("converged").unwrap().name(), "converged(p=5)");
        assert_eq!(
            rule_named("best-repaired:2:0.01").unwrap().name(),
            "best-repaired(p=2,δ=0.01)"
        );
        assert_eq!(
            rule_named("saturated").unwrap().name(),
            "saturated(p=2,δ=0.002,J=0.5)"
        );
        assert_eq!(
            rule_named("smoothed:4:2").unwrap().name(),
            "smoothed(p=4,w=2)"
        );
        // The grammar and its errors are repair_core::RuleSpec's; they pass through.
        let e = rule_named("saturated:2:0.002:1.5")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("Jaccard threshold"), "{e}");
    }
}
