//! `xtask readiness DIR`: the repair-readiness evaluation of a finished dense experiment
//! (every epoch's checkpoint repaired). The series come from the folder — `repairs.csv`
//! (test and selection accuracies, RR, BR, negatives, fitness), each unit's
//! `repair.json` (the FL sites), each run's `trained.json` (the validation loss) and its
//! checkpoints (the last layer's change) — and go to `repair_readiness` for the rules,
//! the oracle and the statistics. Every file is written atomically into `out`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use repair_core::{RuleSpec, Site};
use repair_core::{SetCorrectness, UnitCorrectness, CORRECTNESS_FILE};
use repair_data::write_atomic;
use repair_metrics::{read_repairs, to_csv, RepairRow, STUDY_METHOD};
use repair_readiness::rule_of;
use repair_readiness::{
    correlation_figure, correlations, evaluate, gain_shares, picks_figure, relative_change,
    signal_rows, summarise, tracking, Accuracy, Alpha, CaseResult, Correlation, CrossFitOptions,
    EpochOutcome, EpochSignals, GainShare, ImageCounts, ReadinessRule, RepairSeries, RuleSummary,
    SeriesKey, Tracking, GOOD_ENOUGH,
};

use repair_experiment::{load_trained, row_folder, run_folder};
use repair_pipeline::last_layer_weights;
use repair_pipeline::read_json;
use repair_pipeline::{file_error, PipelineError, Result};

/// What the evaluation runs.
pub struct ReadinessOptions {
    /// The rules besides the `converged` baseline.
    pub rules: Vec<RuleSpec>,
    /// α values.
    pub alphas: Vec<f64>,
    /// Patience of the `converged` baseline (the experiment's training patience).
    pub patience: usize,
    /// Bootstrap resamples of the mean-regret interval.
    pub resamples: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// The cross-fitted oracle's halvings and the bootstrap of the share of the
    /// achievable gain.
    pub cross_fit: CrossFitOptions,
}

impl ReadinessOptions {
    /// The options of a dense experiment's evaluation: its config's α values and
    /// training patience (the `converged` baseline's), the given rules and bootstrap.
    pub fn of_experiment(
        config: &repair_experiment::ExperimentConfig,
        rules: Vec<RuleSpec>,
        resamples: usize,
        seed: u64,
    ) -> ReadinessOptions {
        ReadinessOptions {
            rules,
            alphas: config.report.alphas.clone(),
            patience: config.train.patience,
            resamples,
            seed,
            cross_fit: CrossFitOptions {
                seed,
                ..CrossFitOptions::default()
            },
        }
    }
}

/// What [`write_readiness`] found.
#[derive(Debug, Clone)]
pub struct ReadinessSummary {
    /// Series (run × class) evaluated.
    pub series: usize,
    /// Per α and overall, per rule.
    pub summary: Vec<RuleSummary>,
    /// Per α and overall, per rule, the share of the achievable gain (none: the folder
    /// has no per-image test correctness).
    pub gain: Option<Vec<GainShare>>,
    /// `readiness.md`.
    pub markdown: String,
}

/// The sites of a unit's `repair.json`, and whether its repair kept the original layer
/// (the rest of it is not needed here).
#[derive(serde::Deserialize)]
struct UnitSites {
    sites: Vec<Site>,
    #[serde(default)]
    kept_original: bool,
}

/// A column readiness needs that other tools' files may leave out (repair-metrics reads
/// them as optional): its absence is an error naming the file, the row and the column.
fn required<T>(repairs_csv: &Path, r: &RepairRow, column: &str, value: Option<T>) -> Result<T> {
    value.ok_or_else(|| {
        file_error(
            repairs_csv,
            format!(
                "run {} epoch {} class {}: column `{column}` is empty or missing; readiness \
                 needs it (`report` does not)",
                r.run, r.epoch, r.target_class
            ),
        )
    })
}

/// The dense series of the experiment folder `dir`, one per (run, class), of the
/// study's method (the rules decide when to repair with it; the rows of other methods
/// are left out): an error names the file or the gap when a repair, its selection
/// columns, a run's history or a checkpoint is missing.
pub fn readiness_series(dir: &Path) -> Result<Vec<RepairSeries>> {
    let repairs_csv = dir.join("repairs.csv");
    let mut rows = read_repairs(&repairs_csv).map_err(|e| file_error(&repairs_csv, e))?;
    rows.retain(|r| r.method.as_str() == STUDY_METHOD && r.search_seed.is_none());
    if rows.is_empty() {
        return Err(file_error(
            &repairs_csv,
            format!("no repairs of the study's method `{STUDY_METHOD}`"),
        ));
    }
    let mut by_series: BTreeMap<SeriesKey, Vec<&RepairRow>> = BTreeMap::new();
    for r in &rows {
        let key = SeriesKey {
            dataset: r.dataset.clone(),
            model: r.model.clone(),
            run: r.run,
            seed: required(&repairs_csv, r, "seed", r.seed)?,
            target_class: r.target_class,
        };
        by_series.entry(key).or_default().push(r);
    }
    let mut layers: BTreeMap<usize, Vec<Option<f64>>> = BTreeMap::new();
    let mut losses: BTreeMap<usize, Vec<(usize, f64)>> = BTreeMap::new();
    let mut series = Vec::new();
    for (key, mut rows) in by_series {
        rows.sort_by_key(|r| r.epoch);
        let run_dir = run_folder(dir, key.run);
        if let std::collections::btree_map::Entry::Vacant(entry) = losses.entry(key.run) {
            let trained = load_trained(&run_dir)?.ok_or_else(|| {
                file_error(
                    &run_dir.join("trained.json"),
                    "missing: the run did not finish",
                )
            })?;
            let history = trained.report.history.iter();
            entry.insert(history.map(|h| (h.epoch, h.val_loss)).collect());
        }
        // A grid that is not dense is refused below, naming its gap, before any
        // checkpoint is looked for.
        let dense = rows.iter().enumerate().all(|(k, r)| r.epoch == k + 1);
        if let std::collections::btree_map::Entry::Vacant(entry) = layers.entry(key.run) {
            let last = rows.last().map_or(0, |r| r.epoch);
            entry.insert(if dense {
                layer_changes(&run_dir, last)?
            } else {
                Vec::new()
            });
        }
        let (losses, changes) = (&losses[&key.run], &layers[&key.run]);
        let mut signals = Vec::with_capacity(rows.len());
        let mut test = Vec::with_capacity(rows.len());
        // Every epoch's per-image test bits, or none when a unit has no file (an older
        // folder: the report then has no cross-fitted oracle).
        let mut bits: Option<Vec<SetCorrectness>> = Some(Vec::with_capacity(rows.len()));
        for r in rows {
            let at = format!("run {} epoch {} class {}", r.run, r.epoch, r.target_class);
            let missing = |what: &str| {
                file_error(
                    &repairs_csv,
                    format!(
                        "{at}: no {what}; rerun the experiment with this version (it redoes \
                         such units in milliseconds)"
                    ),
                )
            };
            let val_loss = losses
                .iter()
                .find(|(e, _)| *e == r.epoch)
                .map(|&(_, l)| l)
                .ok_or_else(|| {
                    file_error(
                        &run_dir.join("trained.json"),
                        format!("no validation loss of epoch {}", r.epoch),
                    )
                })?;
            let unit_dir = row_folder(dir, r);
            let unit = unit_dir.join("repair.json");
            let sites: UnitSites = read_json(&unit)?;
            let bits_file = unit_dir.join(CORRECTNESS_FILE);
            let read = if bits_file.is_file() {
                Some(
                    UnitCorrectness::read(&bits_file)
                        .map_err(|e| PipelineError::Invalid(e.to_string()))?,
                )
            } else {
                None
            };
            // The selection set's image counts: the standard errors of its estimates.
            let selection_images = read.as_ref().map(|u| ImageCounts {
                class: u.selection.class.count(),
                total: u.selection.rows(),
            });
            bits = match (bits, read) {
                (Some(mut all), Some(read)) => {
                    let test_bits = read.test.ok_or_else(|| {
                        file_error(&bits_file, "no test set: the unit was not scored on one")
                    })?;
                    all.push(test_bits);
                    Some(all)
                }
                _ => None,
            };
            let selection = |cls: Option<f64>, total: Option<f64>| -> Result<Accuracy> {
                Ok(Accuracy {
                    cls: cls.ok_or_else(|| missing("selection accuracy"))?,
                    total: total.ok_or_else(|| missing("selection accuracy"))?,
                })
            };
            signals.push(EpochSignals {
                epoch: r.epoch,
                val_loss,
                base: selection(r.selection_base_acc_cls, r.selection_base_acc_total)?,
                repaired: selection(r.selection_repaired_acc_cls, r.selection_repaired_acc_total)?,
                rr: required(&repairs_csv, r, "rr", r.rr)?,
                br: required(&repairs_csv, r, "br", r.br)?,
                negatives: r.negatives.ok_or_else(|| missing("negatives"))?,
                fitness_before: r.fitness_before,
                // repairs.csv writes 0 when there was nothing to repair.
                fitness_after: match r.fitness_before {
                    Some(_) => Some(required(&repairs_csv, r, "fitness", r.fitness)?),
                    None => None,
                },
                sites: sites.sites,
                layer_change: changes.get(r.epoch - 1).copied().flatten(),
                kept_original: sites.kept_original,
                selection_images,
            });
            test.push(EpochOutcome {
                epoch: r.epoch,
                base: Accuracy {
                    cls: r.base_acc_cls,
                    total: r.base_acc_total,
                },
                repaired: Accuracy {
                    cls: r.repaired_acc_cls,
                    total: r.repaired_acc_total,
                },
            });
        }
        let mut series_of =
            RepairSeries::new(key, signals, test).map_err(|e| file_error(&repairs_csv, e))?;
        if let Some(bits) = bits {
            series_of = series_of
                .with_test_bits(bits)
                .map_err(|e| file_error(&repairs_csv, e))?;
        }
        series.push(series_of);
    }
    Ok(series)
}

/// The relative change of the last layer at each epoch 1..=last (none at epoch 1), from
/// the run's checkpoints; a missing one is an error naming it.
fn layer_changes(run_dir: &Path, last: usize) -> Result<Vec<Option<f64>>> {
    let mut previous: Option<Vec<f32>> = None;
    let mut out = Vec::with_capacity(last);
    for epoch in 1..=last {
        let checkpoint = run_dir.join(format!("checkpoints/epoch-{epoch:03}.safetensors"));
        if !checkpoint.is_file() {
            // A dense grid checkpoints every epoch: a missing one is a damaged folder,
            // and its layer-change signal (and the next epoch's) would be silently empty.
            return Err(file_error(
                &checkpoint,
                "missing: the readiness signals need every epoch's checkpoint of a dense \
                 grid (rerun the experiment into this folder to train it again)",
            ));
        }
        let weights = last_layer_weights(&checkpoint)?;
        out.push(
            previous
                .as_deref()
                .and_then(|p| relative_change(p, &weights)),
        );
        previous = Some(weights);
    }
    Ok(out)
}

/// The files of the evaluation: `readiness.csv` (every signal per run, class, α and
/// epoch), `readiness_picks.csv` (each rule's pick per run, class and α),
/// `readiness_summary.csv`, `signal_correlations.csv`, `selection_tracking.csv`,
/// `readiness.md`, and under `figures/` one SVG per (run, class) and the correlations.
pub fn write_readiness(
    series: &[RepairSeries],
    options: &ReadinessOptions,
    out: &Path,
) -> Result<ReadinessSummary> {
    let alphas: Vec<Alpha> = options
        .alphas
        .iter()
        .map(|&a| Alpha::new(a).map_err(|e| PipelineError::Invalid(e.to_string())))
        .collect::<Result<_>>()?;
    if alphas.is_empty() {
        return Err(PipelineError::Invalid("no α to evaluate".into()));
    }
    let figures = out.join("figures");
    std::fs::create_dir_all(&figures).map_err(|e| file_error(&figures, e))?;
    let csv = |name: &str, bytes: std::result::Result<Vec<u8>, repair_metrics::MetricsError>| {
        let path = out.join(name);
        write_atomic(&path, &bytes.map_err(|e| file_error(&path, e))?)?;
        Ok::<(), PipelineError>(())
    };
    let rows = signal_rows(series, &alphas);
    csv("readiness.csv", to_csv(&rows))?;
    let rules: Vec<Box<dyn ReadinessRule>> = options.rules.iter().map(rule_of).collect();
    let results = evaluate(series, &alphas, &rules, options.patience);
    csv("readiness_picks.csv", to_csv(&results))?;
    let summary = summarise(&results, options.resamples, options.seed);
    csv("readiness_summary.csv", to_csv(&summary))?;
    let gain = gain_shares(series, &results, &alphas, &options.cross_fit);
    if let Some(gain) = &gain {
        csv("readiness_gain.csv", to_csv(gain))?;
    }
    let correlation = correlations(&rows);
    csv("signal_correlations.csv", to_csv(&correlation))?;
    let tracked = tracking(series, &alphas);
    csv("selection_tracking.csv", to_csv(&tracked))?;
    for s in series {
        // File names from numbers only: names read from the CSV never become paths.
        let path = figures.join(format!(
            "readiness-run-{}-class-{:02}.svg",
            s.key.run, s.key.target_class
        ));
        let picks: Vec<&CaseResult> = results.iter().filter(|r| r.key == s.key).collect();
        let svg = picks_figure(s, &alphas, &picks).map_err(|e| file_error(&path, e))?;
        write_atomic(&path, svg.as_bytes())?;
    }
    let path = figures.join("signal_correlations.svg");
    let svg = correlation_figure(&correlation).map_err(|e| file_error(&path, e))?;
    write_atomic(&path, svg.as_bytes())?;
    let mut markdown = readiness_markdown(series.len(), &summary, &correlation, &tracked);
    markdown.push_str(&gain_markdown(gain.as_deref(), &options.cross_fit));
    write_atomic(&out.join("readiness.md"), markdown.as_bytes())?;
    Ok(ReadinessSummary {
        series: series.len(),
        summary,
        gain,
        markdown,
    })
}

/// `readiness.md`: the summary per α and overall, the goal check of the best real
/// rule, how far selection tracks test, and the signal correlations.
fn readiness_markdown(
    series: usize,
    summary: &[RuleSummary],
    correlation: &[Correlation],
    tracked: &[Tracking],
) -> String {
    let mut s = format!(
        "# Repair readiness\n\n{series} series (run × class). Regret = oracle (best repaired \
         *test* Qual over the epochs trained) − the rule's pick; \"≤ {GOOD_ENOUGH}\" is the \
         share of (run, class, α) within {GOOD_ENOUGH} of the oracle; epochs saved are against \
         `converged` (early stopping, then repair the converged checkpoint). Rules see only \
         the validation (selection) and repair sets of epochs ≤ t.\n\n\
         | α | rule | cases | ≤ {GOOD_ENOUGH} | mean regret [95 % CI] | converged's | mean epochs | saved | Wilcoxon p |\n\
         |---|---|---|---|---|---|---|---|---|\n"
    );
    for r in summary {
        let alpha = r.alpha.map_or("all".to_string(), |a| a.to_string());
        s.push_str(&format!(
            "| {alpha} | {} | {} | {:.0} % | {:.4} [{:.4}, {:.4}] | {:.4} | {:.1} | {:+.0} % | {:.3} |\n",
            r.rule,
            r.cases,
            100.0 * r.share_good,
            r.mean_regret,
            r.regret_ci_low,
            r.regret_ci_high,
            r.converged_mean_regret,
            r.mean_epochs,
            100.0 * r.epochs_saved,
            r.wilcoxon_p,
        ));
    }
    let overall: Vec<&RuleSummary> = summary
        .iter()
        .filter(|r| r.alpha.is_none() && !r.rule.starts_with("converged"))
        .collect();
    if let Some(best) = overall
        .iter()
        .min_by(|a, b| a.mean_regret.total_cmp(&b.mean_regret))
    {
        let check = |ok: bool| if ok { "met" } else { "missed" };
        s.push_str(&format!(
            "\n## Goal, for the best rule over all α: `{}`\n\n\
             - within {GOOD_ENOUGH} of the oracle in ≥ 80 % of cases: {:.0} % — {}\n\
             - less than half the baseline's mean regret: {:.4} against {:.4} — {}\n\
             - ≥ 30 % fewer epochs than `converged`: {:+.0} % — {}\n",
            best.rule,
            100.0 * best.share_good,
            check(best.share_good >= 0.8),
            best.mean_regret,
            best.converged_mean_regret,
            check(best.mean_regret < best.converged_mean_regret / 2.0),
            100.0 * best.epochs_saved,
            check(best.epochs_saved >= 0.3),
        ));
    }
    s.push_str(
        "\n## How far selection Qual tracks test Qual\n\nSpearman's ρ of the repaired \
         selection and test Qual over each run's epochs, per α: median and range over \
         (run, class).\n\n| α | median ρ | min | max |\n|---|---|---|---|\n",
    );
    let mut alphas: Vec<f64> = tracked.iter().map(|t| t.value.alpha).collect();
    alphas.sort_by(f64::total_cmp);
    alphas.dedup();
    for a in alphas {
        let mut rho: Vec<f64> = tracked
            .iter()
            .filter(|t| t.value.alpha == a && t.value.rho.is_finite())
            .map(|t| t.value.rho)
            .collect();
        rho.sort_by(f64::total_cmp);
        if rho.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "| {a} | {:.2} | {:.2} | {:.2} |\n",
            rho[rho.len() / 2],
            rho[0],
            rho[rho.len() - 1]
        ));
    }
    s.push_str(
        "\n## Which signals tell the test gain of repair\n\nSpearman's ρ of each signal \
         with the repaired-minus-base *test* Qual, pooled over (run, class, epoch) and the \
         mean within each (run, class).\n\n| α | signal | ρ pooled | ρ within | points |\n\
         |---|---|---|---|---|\n",
    );
    for c in correlation {
        s.push_str(&format!(
            "| {} | {} | {:.2} | {:.2} | {} |\n",
            c.alpha, c.signal, c.rho_pooled, c.rho_within, c.points
        ));
    }
    s
}

/// The section of `readiness.md` on the share of the achievable gain.
fn gain_markdown(gain: Option<&[GainShare]>, options: &CrossFitOptions) -> String {
    let Some(gain) = gain else {
        return "\n## Share of the achievable gain\n\nNot available: the folder's units have no \
                per-image test correctness (`correct.safetensors`); running the experiment \
                again into it adds them.\n"
            .to_string();
    };
    let mut s = format!(
        "\n## Share of the achievable gain\n\nThe cross-fitted oracle chooses the best epoch \
         on one half of the test images (stratified by the class) and scores it on the other, \
         both ways, averaged over {} seeded halvings: the ceiling a perfect rule reaches on a \
         finite test set, free of the test-max oracle's luck. Every rule and `converged` are \
         scored on the same halves. Share = (rule − converged) / (cross-fitted oracle − \
         converged), of the means; 95 % interval from {} bootstrap resamples of the cases and \
         of each series' test images ({} halvings each).\n\n\
         | α | rule | cases | rule | converged | cross-fitted oracle | test-max oracle | share [95 % CI] |\n\
         |---|---|---|---|---|---|---|---|\n",
        options.halvings, options.resamples, options.resample_halvings
    );
    for g in gain {
        let alpha = g.alpha.map_or("all".to_string(), |a| a.to_string());
        let share = if g.share.is_nan() {
            "— (no gain achievable over `converged`)".to_string()
        } else {
            format!(
                "{:.2} [{:.2}, {:.2}]",
                g.share, g.share_ci_low, g.share_ci_high
            )
        };
        s.push_str(&format!(
            "| {alpha} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {share} |\n",
            g.rule,
            g.cases,
            g.rule_qual,
            g.converged_qual,
            g.cross_fitted_oracle,
            g.test_max_oracle,
        ));
    }
    s
}

/// The default output folder of the evaluation of `dir`.
pub fn readiness_folder(dir: &Path) -> PathBuf {
    dir.join("readiness")
}
