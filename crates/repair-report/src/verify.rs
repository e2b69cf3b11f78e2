//! Checks a finished experiment folder against its config: `repairs.csv` has exactly one
//! row per run × checkpoint (up to the converged one) × target class, with the run's
//! seed and converged epoch; every unit's files are there; `quality.csv` holds Qual_α
//! recomputed from the rows' accuracies for every α; `table1.csv` counts every
//! (run, class) once per α; `table1.md` and the figures exist. CI runs it after the
//! `quick` experiment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use repair_metrics::{
    parse_repairs, problems_message, qual, repair_problems, QualityRow, RepairRow, Table1Row,
};

use crate::study_report::VARIANCE_CSV;
use crate::study_report::{run_figures, ReportOptions, TABLE1_FIGURE, WARNINGS_CSV};
use crate::verify_files::{check_checkpoints, check_figures, check_recomputed, check_units};
use repair_experiment::ExperimentConfig;
use repair_experiment::{
    checkpoints_to_repair, load_trained, row_folder, run_folder, search_seeds,
};
use repair_pipeline::{file_error, PipelineError, Result};
use repair_pipeline::{read_csv_rows, ExperimentClassRow, CLASS_ACCURACY_CSV};

/// What a consistent experiment folder holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// Runs (seeds).
    pub runs: usize,
    /// Target classes.
    pub classes: Vec<u32>,
    /// Rows of `repairs.csv` (= repair units).
    pub repairs: usize,
    /// Rows of `quality.csv` checked.
    pub quality_rows: usize,
    /// Figures found (and parsed).
    pub figures: usize,
    /// Checkpoints whose sidecar records no size and hash (written by an older
    /// version), so only their presence and sidecar could be checked.
    pub unhashed_checkpoints: usize,
}

/// Largest difference tolerated between a Qual in `quality.csv` and its recomputation
/// (the CSV writes shortest round-trip floats, so equal values read back equal).
const QUAL_TOLERANCE: f64 = 1e-12;

/// Checks the experiment in `out`, made with `config`. On failure the error lists every
/// problem found (the first 20).
pub fn verify_experiment(out: &Path, config: &ExperimentConfig) -> Result<Verified> {
    let repairs_csv = out.join("repairs.csv");
    let rows = parse_repairs(&repairs_csv).map_err(|e| file_error(&repairs_csv, e))?;
    // The check every reader of repairs.csv makes (report, readiness), listed with ours.
    let mut problems: Vec<String> = repair_problems(&rows)
        .into_iter()
        .map(|p| format!("repairs.csv: {p}"))
        .collect();
    let classes: Vec<u32> = if config.repair.classes.is_empty() {
        let found: BTreeSet<u32> = rows.iter().map(|r| r.target_class).collect();
        if found.len() != config.repair.worst_classes {
            problems.push(format!(
                "repairs.csv: {} target classes {found:?}, the config asks for the {} worst",
                found.len(),
                config.repair.worst_classes
            ));
        }
        found.into_iter().collect()
    } else {
        config.repair.classes.clone()
    };
    // Expected units from each run's training record.
    let rows_are_possible = problems.is_empty();
    let mut unhashed = 0;
    let mut expected = BTreeSet::new();
    let mut converged = BTreeMap::new();
    for (k, &seed) in config.train.seeds.iter().enumerate() {
        let run = k + 1;
        match load_trained(&run_folder(out, run))? {
            None => problems.push(format!("run-{run}: no trained.json (training unfinished)")),
            Some(trained) => {
                unhashed += check_checkpoints(out, run, &trained.report.checkpoints, &mut problems);
                converged.insert(run, (seed, trained.report.converged_epoch));
                for epoch in checkpoints_to_repair(config, &trained.report) {
                    for &class in &classes {
                        for method in &config.repair.methods {
                            for search in search_seeds(config) {
                                let m = method.as_str().to_string();
                                expected.insert((run, epoch, class, m, search));
                            }
                        }
                    }
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    for r in &rows {
        let key = (
            r.run,
            r.epoch,
            r.target_class,
            r.method.to_string(),
            r.search_seed,
        );
        let at = format!(
            "repairs.csv: {} run {} epoch {} class {}",
            r.method, r.run, r.epoch, r.target_class
        );
        found.insert(key.clone()); // a second row of a key is one of repair_problems
        if !converged.contains_key(&r.run) {
            continue; // its run is reported above
        }
        if !expected.contains(&key) {
            problems.push(format!("{at}: not a unit of this experiment"));
            continue;
        }
        let (seed, converged_epoch) = converged[&r.run];
        if r.seed != Some(seed)
            || r.converged_epoch != converged_epoch
            || r.model != config.train.model.name()
        {
            let written = r
                .seed
                .map_or_else(|| "(empty)".to_string(), |s| s.to_string());
            problems.push(format!(
                "{at}: seed {written} / converged {} / model {} where run-{} has {seed} / {converged_epoch} / {}",
                r.converged_epoch, r.model, r.run, config.train.model
            ));
        }
        // Other tools' files may leave these out; this project's experiment writes them.
        for (column, written) in [
            ("rr", r.rr.is_some()),
            ("br", r.br.is_some()),
            ("n_sites", r.n_sites.is_some()),
            ("fitness", r.fitness.is_some()),
            ("evaluations", r.evaluations.is_some()),
            ("repair_ms", r.repair_ms.is_some()),
        ] {
            if !written {
                problems.push(format!("{at}: column `{column}` is empty"));
            }
        }
        let unit = row_folder(out, r);
        let mut files = vec!["row.json", "weights.csv", "repair.json", CLASS_ACCURACY_CSV];
        if r.evaluations.unwrap_or(0) > 0 {
            files.push("pareto_front.svg");
        }
        for name in files {
            if !unit.join(name).is_file() {
                problems.push(format!("{}: missing", unit.join(name).display()));
            }
        }
    }
    if config.repair.joint {
        check_joint(out, &expected, classes.len(), &mut problems);
    }
    for (run, epoch, class, method, search) in expected.difference(&found) {
        let seed = search.map_or(String::new(), |s| format!(" search seed {s}"));
        problems.push(format!(
            "repairs.csv: no {method} row for run {run} epoch {epoch} class {class}{seed}"
        ));
    }
    // The tables are the study's one search per unit; the repeats feed variance.csv.
    let all_rows = rows;
    let rows: Vec<RepairRow> = all_rows
        .iter()
        .filter(|r| r.search_seed.is_none())
        .cloned()
        .collect();
    let pareto_figures = check_units(out, &all_rows, &mut problems);
    if config.repair.repair_seeds > 1 {
        for name in [VARIANCE_CSV, "variance.md"] {
            if !out.join(name).is_file() {
                problems.push(format!("{}: missing", out.join(name).display()));
            }
        }
    }
    if rows_are_possible {
        check_recomputed(
            out,
            &rows,
            &ReportOptions::of_experiment(config),
            &mut problems,
        )?;
    }
    let quality_rows = check_quality(out, &rows, &config.report.alphas, &mut problems)?;
    check_table1(out, config, classes.len(), &mut problems)?;
    check_class_accuracy(out, &rows, &mut problems)?;
    let mut figures = 0;
    let pairs: BTreeSet<(&str, &str, &str, usize, u32)> = rows
        .iter()
        .map(|r| {
            let names = (r.dataset.as_str(), r.model.as_str(), r.method.as_str());
            (names.0, names.1, names.2, r.run, r.target_class)
        })
        .collect();
    let mut names: Vec<_> = pairs
        .into_iter()
        .flat_map(|(d, m, how, run, class)| run_figures(d, m, how, run, class))
        .collect();
    names.push(TABLE1_FIGURE.into());
    names.push("table1.md".into());
    names.push(WARNINGS_CSV.into());
    let mut svgs = pareto_figures;
    for name in names {
        let path = out.join(&name);
        if !path.is_file() {
            problems.push(format!("{}: missing", path.display()));
        } else if name.extension().is_some_and(|e| e == "svg") {
            figures += 1;
            svgs.push(path);
        }
    }
    check_figures(svgs.iter().map(|p| p.as_path()), &mut problems);
    if !problems.is_empty() {
        return Err(PipelineError::Invalid(format!(
            "{} is not a consistent experiment: {}",
            out.display(),
            problems_message(&problems)
        )));
    }
    Ok(Verified {
        runs: config.train.seeds.len(),
        classes,
        repairs: rows.len(),
        quality_rows,
        figures,
        unhashed_checkpoints: unhashed,
    })
}

/// `joint.csv` has one row per class of every joint unit (a (run, checkpoint, method) of
/// the single units), and the multi-class comparison was written.
fn check_joint(
    out: &Path,
    expected: &BTreeSet<(usize, usize, u32, String, Option<u64>)>,
    classes: usize,
    problems: &mut Vec<String>,
) {
    let path = out.join(repair_experiment::JOINT_CSV);
    let units: BTreeSet<(usize, usize, &str)> = expected
        .iter()
        .map(|(run, epoch, _, method, _)| (*run, *epoch, method.as_str()))
        .collect();
    match parse_repairs(&path) {
        Err(e) => problems.push(e.to_string()),
        Ok(rows) if rows.len() != units.len() * classes => problems.push(format!(
            "{}: {} rows, want {} joint repairs × {classes} classes",
            path.display(),
            rows.len(),
            units.len()
        )),
        Ok(_) => {}
    }
    for name in ["multiclass.csv", "multiclass.md"] {
        if !out.join(name).is_file() {
            problems.push(format!("{}: missing", out.join(name).display()));
        }
    }
}

/// A CSV the report wrote, or a problem: a file of another layout (an older version's
/// report) gets the command that rewrites it.
fn read_report_csv<T: serde::Serialize + serde::de::DeserializeOwned>(
    path: &Path,
    problems: &mut Vec<String>,
) -> Option<Vec<T>> {
    match read_csv_rows(path) {
        Ok(rows) => Some(rows),
        Err(e) => {
            problems.push(format!(
                "{e} (a report of an older version? `cargo xtask report {}` rewrites it from \
                 repairs.csv)",
                path.parent().unwrap_or(Path::new(".")).display()
            ));
            None
        }
    }
}

/// Every (row, α) has its Qual in `quality.csv`, equal to the recomputed one.
fn check_quality(
    out: &Path,
    rows: &[RepairRow],
    alphas: &[f64],
    problems: &mut Vec<String>,
) -> Result<usize> {
    let path = out.join("quality.csv");
    let Some(written) = read_report_csv::<QualityRow>(&path, problems) else {
        return Ok(0);
    };
    let mut by_key = BTreeMap::new();
    for q in &written {
        let key = (
            q.method.as_str(),
            q.run,
            q.epoch,
            q.target_class,
            q.alpha.to_bits(),
        );
        if by_key.insert(key, q).is_some() {
            problems.push(format!(
                "quality.csv: {} run {} epoch {} class {} α {}: duplicate row",
                q.method, q.run, q.epoch, q.target_class, q.alpha
            ));
        }
    }
    for r in rows {
        for &alpha in alphas {
            let at = format!(
                "quality.csv: {} run {} epoch {} class {} α {alpha}",
                r.method, r.run, r.epoch, r.target_class
            );
            let key = (
                r.method.as_str(),
                r.run,
                r.epoch,
                r.target_class,
                alpha.to_bits(),
            );
            let Some(q) = by_key.get(&key) else {
                problems.push(format!("{at}: missing"));
                continue;
            };
            let err = |e: repair_metrics::MetricsError| PipelineError::Invalid(e.to_string());
            let base = qual(alpha, r.base_acc_cls, r.base_acc_total).map_err(err)?;
            let repaired = qual(alpha, r.repaired_acc_cls, r.repaired_acc_total).map_err(err)?;
            for (name, file, recomputed) in [
                ("base_qual", q.base_qual, base),
                ("repaired_qual", q.repaired_qual, repaired),
            ] {
                if (file - recomputed).abs() > QUAL_TOLERANCE || file.is_nan() {
                    problems.push(format!(
                        "{at}: {name} {file} but the row's accuracies give {recomputed}"
                    ));
                }
            }
        }
    }
    if written.len() != rows.len() * alphas.len() {
        problems.push(format!(
            "quality.csv: {} rows, want {} repairs × {} α = {}",
            written.len(),
            rows.len(),
            alphas.len(),
            rows.len() * alphas.len()
        ));
    }
    Ok(written.len())
}

/// `class_accuracy.csv` has every repair's classes, and its repaired class's row agrees
/// with `repairs.csv` (accuracies, and the predicted share where recorded).
fn check_class_accuracy(out: &Path, rows: &[RepairRow], problems: &mut Vec<String>) -> Result<()> {
    let Some(written) =
        read_report_csv::<ExperimentClassRow>(&out.join(CLASS_ACCURACY_CSV), problems)
    else {
        return Ok(());
    };
    type UnitKey<'a> = (&'a str, usize, usize, u32);
    let mut by_unit: BTreeMap<UnitKey<'_>, Vec<&ExperimentClassRow>> = BTreeMap::new();
    for c in &written {
        let r = &c.repair;
        by_unit
            .entry((r.method.as_str(), r.run, r.epoch, r.target_class))
            .or_default()
            .push(c);
    }
    let counts: BTreeSet<usize> = by_unit.values().map(Vec::len).collect();
    if counts.len() > 1 {
        problems.push(format!(
            "class_accuracy.csv: units list different numbers of classes {counts:?}"
        ));
    }
    let close = |a: Option<f64>, b: f64| (a.unwrap_or(0.0) - b).abs() <= QUAL_TOLERANCE;
    for r in rows {
        let at = format!(
            "class_accuracy.csv: {} run {} epoch {} class {}",
            r.method, r.run, r.epoch, r.target_class
        );
        let unit = by_unit.remove(&(r.method.as_str(), r.run, r.epoch, r.target_class));
        let Some(unit) = unit else {
            problems.push(format!("{at}: missing"));
            continue;
        };
        let Some(own) = unit
            .iter()
            .map(|c| &c.class)
            .find(|c| c.class == r.target_class)
        else {
            problems.push(format!("{at}: no row for the repaired class"));
            continue;
        };
        if !close(own.base_acc, r.base_acc_cls) || !close(own.repaired_acc, r.repaired_acc_cls) {
            problems.push(format!(
                "{at}: accuracies {:?} → {:?}, repairs.csv says {} → {}",
                own.base_acc, own.repaired_acc, r.base_acc_cls, r.repaired_acc_cls
            ));
        }
        let inputs: u64 = unit.iter().map(|c| c.class.test_inputs).sum();
        if let Some(share) = r.repaired_share_cls {
            let counted = own.repaired_predicted as f64 / inputs.max(1) as f64;
            if (counted - share).abs() > QUAL_TOLERANCE {
                problems.push(format!(
                    "{at}: {} of {inputs} predicted as the class, repairs.csv says share {share}",
                    own.repaired_predicted
                ));
            }
        }
    }
    for (method, run, epoch, class) in by_unit.keys() {
        problems.push(format!(
            "class_accuracy.csv: {method} run {run} epoch {epoch} class {class}: not in \
             repairs.csv"
        ));
    }
    Ok(())
}

/// One Table 1 row per α, counting each (run, class) once.
fn check_table1(
    out: &Path,
    config: &ExperimentConfig,
    classes: usize,
    problems: &mut Vec<String>,
) -> Result<()> {
    let Some(table) = read_report_csv::<Table1Row>(&out.join("table1.csv"), problems) else {
        return Ok(());
    };
    let want = config.train.seeds.len() * classes;
    for method in &config.repair.methods {
        for &alpha in &config.report.alphas {
            let row = table
                .iter()
                .find(|t| t.key.alpha == alpha && t.key.method.as_str() == method.as_str());
            match row {
                None => problems.push(format!("table1.csv: no {method} row for α {alpha}")),
                Some(t) => {
                    let c = &t.counts;
                    let counted = c.pre + c.post + c.after + c.incomplete;
                    if counted != want {
                        problems.push(format!(
                            "table1.csv: {method} α {alpha} counts {counted} (run, class) \
                             pairs, want {want}"
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study_report::{write_report, ReportOptions};
    use repair_core::defaults::PAPER_ALPHAS;
    use repair_core::{IncompletePolicy, TiePolicy};
    use repair_experiment::ExperimentFile;
    use repair_experiment::{write_experiment_class_accuracy, TrainedRun};
    use repair_pipeline::{write_csv_rows, ClassAccuracyRow};
    use repair_train::TrainReport;

    const CLASSES: [u32; 2] = [4, 9];

    fn config() -> ExperimentConfig {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/gtsrb.toml");
        let mut config = ExperimentFile::load(&shipped)
            .unwrap()
            .profile("quick")
            .unwrap()
            .clone();
        config.train.seeds = vec![11, 22];
        config.repair.worst_classes = 2;
        config.report.alphas = PAPER_ALPHAS.to_vec();
        config
    }

    fn rows(config: &ExperimentConfig) -> Vec<RepairRow> {
        let mut rows = Vec::new();
        for (k, &seed) in config.train.seeds.iter().enumerate() {
            for epoch in [1, 2] {
                for class in CLASSES {
                    let x = (k * 7 + epoch * 3 + class as usize) as f64 / 40.0;
                    rows.push(RepairRow {
                        dataset: "gtsrb".into(),
                        model: config.train.model.name().to_string(),
                        run: k + 1,
                        seed: Some(seed),
                        target_class: class,
                        epoch,
                        converged_epoch: 2,
                        base_acc_total: 0.5 + x / 4.0,
                        base_acc_cls: x,
                        repaired_acc_total: 0.49 + x / 4.0,
                        repaired_acc_cls: x + 0.1,
                        rr: Some(0.5),
                        br: Some(0.01),
                        n_sites: Some(2),
                        fitness: Some(190.0),
                        evaluations: Some(5_100),
                        repair_ms: Some(20.0),
                        base_share_cls: Some(0.25),
                        repaired_share_cls: Some(0.5),
                        ..RepairRow::default()
                    });
                }
            }
        }
        rows
    }

    /// A finished experiment folder: runs trained to epoch 3, converged at 2.
    fn finished(out: &Path, config: &ExperimentConfig, rows: &[RepairRow]) {
        for run in 1..=config.train.seeds.len() {
            let trained = TrainedRun {
                config_hash: "test".into(),
                report: TrainReport {
                    epochs: 3,
                    converged_epoch: 2,
                    stopped_early: false,
                    stopped_by_hook: false,
                    checkpoints: vec![1, 2, 3],
                    history: Vec::new(),
                },
                extract_s: 1.0,
            };
            let dir = run_folder(out, run);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join("trained.json"),
                serde_json::to_vec(&trained).unwrap(),
            )
            .unwrap();
            // Checkpoints 1–3 (stand-in bytes) with sidecars that record their digests.
            let files = repair_train::RunDir::new(&dir);
            for epoch in 1..=3 {
                let weights = files.checkpoint(epoch);
                std::fs::create_dir_all(weights.parent().unwrap()).unwrap();
                std::fs::write(&weights, format!("weights of epoch {epoch}")).unwrap();
                files
                    .write_info(&repair_train::CheckpointInfo {
                        record: repair_train::EpochRecord {
                            epoch,
                            lr: 0.01,
                            train_loss: 1.0,
                            train_accuracy: 0.5,
                            val_loss: 1.0,
                            val_accuracy: 0.5,
                            elapsed_s: 1.0,
                        },
                        seed: config.train.seeds[run - 1],
                        config_hash: "test".into(),
                        reasons: vec!["every".into()],
                        weights: None,
                    })
                    .unwrap();
            }
        }
        for r in rows {
            let unit = row_folder(out, r);
            std::fs::create_dir_all(&unit).unwrap();
            std::fs::write(unit.join("weights.csv"), "x").unwrap();
            std::fs::write(unit.join("pareto_front.svg"), SVG).unwrap();
            std::fs::write(unit.join("row.json"), serde_json::to_vec(r).unwrap()).unwrap();
            let report = repair_report(config, r);
            std::fs::write(
                unit.join("repair.json"),
                serde_json::to_vec(&report).unwrap(),
            )
            .unwrap();
            // 40 test inputs: 10 of the repaired class, predicted 10 → 20 times.
            let class_rows = [0, r.target_class].map(|class| ClassAccuracyRow {
                class,
                test_inputs: if class == 0 { 30 } else { 10 },
                base_acc: Some(if class == 0 { 0.9 } else { r.base_acc_cls }),
                repaired_acc: Some(if class == 0 { 0.8 } else { r.repaired_acc_cls }),
                base_predicted: if class == 0 { 30 } else { 10 },
                repaired_predicted: 20,
            });
            write_csv_rows(&unit.join(CLASS_ACCURACY_CSV), &class_rows).unwrap();
            std::fs::write(
                unit.join(repair_core::CORRECTNESS_FILE),
                correctness(r).to_bytes(),
            )
            .unwrap();
        }
        report(out, rows);
    }

    /// Per-image bits that count a row's test accuracies: 800 images, the first 40 of
    /// the class (every accuracy of [`rows`] is a whole number of them).
    fn correctness(r: &RepairRow) -> repair_core::UnitCorrectness {
        let right = |cls: f64, total: f64| {
            let class_right = (cls * 40.0).round() as usize;
            let other_right = (total * 800.0).round() as usize - class_right;
            repair_core::RowBits::from_bools((0..800).map(|k| {
                if k < 40 {
                    k < class_right
                } else {
                    k - 40 < other_right
                }
            }))
        };
        let set = repair_core::SetCorrectness {
            class: repair_core::RowBits::from_bools((0..800).map(|k| k < 40)),
            base: right(r.base_acc_cls, r.base_acc_total),
            repaired: right(r.repaired_acc_cls, r.repaired_acc_total),
        };
        repair_core::UnitCorrectness {
            test: Some(set.clone()),
            selection: set,
        }
    }

    const SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>";

    /// A `repair.json` as a unit writes it (its values are not cross-checked).
    fn repair_report(config: &ExperimentConfig, r: &RepairRow) -> repair_pipeline::RepairReport {
        let accuracy = repair_pipeline::ClassAccuracy {
            total: r.base_acc_total,
            class: r.base_acc_cls,
            balanced: 0.5,
            predicted_share: 0.25,
        };
        repair_pipeline::RepairReport {
            checkpoint: "checkpoint.safetensors".into(),
            repaired_checkpoint: None,
            dataset: r.dataset.clone(),
            model: repair_zoo::ModelSpec {
                arch: r.model.parse().unwrap(),
                input: (3, 32, 32),
                num_classes: 43,
                seed: r.seed.unwrap(),
            }
            .into(),
            settings: config.repair.settings(r.target_class, r.seed.unwrap()),
            sites: Vec::new(),
            outcome: repair_method::RepairOutcome {
                negatives: 10,
                correct: 100,
                positives_sampled: 100,
                nothing_to_repair: false,
                changes: Vec::new(),
                candidates: Vec::new(),
                fitness_before: None,
                fitness_after: None,
                rr: r.rr.unwrap(),
                br: r.br.unwrap(),
                evaluations: r.evaluations.unwrap(),
                termination: None,
                kept_original: false,
                history: Vec::new(),
                timings: repair_method::Timings::default(),
                phases: Vec::new(),
                adaptive_stop: None,
                problem: None,
            },
            test_before: Some(accuracy),
            test_after: Some(accuracy),
            selection_before: accuracy,
            selection_after: accuracy,
            extract_ms: 1.0,
            earlier_epoch: None,
            joint_test: Vec::new(),
        }
    }

    fn report(out: &Path, rows: &[RepairRow]) {
        write_csv_rows(&out.join("repairs.csv"), rows).unwrap();
        // Rows without a unit folder (foreign rows) have no per-class file to collect.
        let with_units: Vec<RepairRow> = rows
            .iter()
            .filter(|r| row_folder(out, r).join(CLASS_ACCURACY_CSV).is_file())
            .cloned()
            .collect();
        write_experiment_class_accuracy(out, &with_units).unwrap();
        let options = ReportOptions {
            alphas: PAPER_ALPHAS.to_vec(),
            ties: TiePolicy::Post,
            incomplete: IncompletePolicy::Mark,
        };
        write_report(&[out.join("repairs.csv")], &options, out).unwrap();
    }

    #[test]
    fn a_finished_experiment_is_consistent() {
        let (config, out) = (config(), tempfile::tempdir().unwrap());
        let rows = rows(&config);
        finished(out.path(), &config, &rows);
        let v = verify_experiment(out.path(), &config).unwrap();
        assert_eq!(v.runs, 2);
        assert_eq!(v.classes, CLASSES.to_vec());
        assert_eq!(v.repairs, 8);
        assert_eq!(v.quality_rows, 8 * 3);
        assert_eq!(v.figures, 2 * 2 * 2 + 1);
    }

    #[test]
    fn a_missing_unit_is_named() {
        let (config, out) = (config(), tempfile::tempdir().unwrap());
        let mut rows = rows(&config);
        finished(out.path(), &config, &rows);
        rows.pop();
        report(out.path(), &rows);
        let e = verify_experiment(out.path(), &config)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no arachne row for run 2 epoch 2 class 9"),
            "{e}"
        );
    }

    #[test]
    fn a_quality_that_does_not_follow_from_the_accuracies_is_named() {
        let (config, out) = (config(), tempfile::tempdir().unwrap());
        let rows = rows(&config);
        finished(out.path(), &config, &rows);
        let path = out.path().join("quality.csv");
        let mut written: Vec<QualityRow> = read_csv_rows(&path).unwrap();
        written[4].repaired_qual += 1e-6;
        std::fs::write(&path, repair_metrics::to_csv(&written).unwrap()).unwrap();
        let e = verify_experiment(out.path(), &config)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("quality.csv") && e.contains("repaired_qual"),
            "{e}"
        );
        assert!(e.contains("consistent experiment: 1 problem:"), "{e}");
    }

    #[test]
    fn missing_files_and_foreign_rows_are_named() {
        let (config, out) = (config(), tempfile::tempdir().unwrap());
        let mut rows = rows(&config);
        finished(out.path(), &config, &rows);
        // A repair after convergence, which this config does not ask for, and a wrong seed.
        rows.push(RepairRow {
            epoch: 3,
            ..rows[0].clone()
        });
        report(out.path(), &rows);
        // The report refuses a run whose rows disagree on the seed; verify names it too.
        rows[1].seed = Some(99);
        write_csv_rows(&out.path().join("repairs.csv"), &rows).unwrap();
        std::fs::remove_file(out.path().join(TABLE1_FIGURE)).unwrap();
        std::fs::remove_file(
            repair_experiment::unit_folder(out.path(), 1, 2, 4, "arachne", None)
                .join("pareto_front.svg"),
        )
        .unwrap();
        let e = verify_experiment(out.path(), &config)
            .unwrap_err()
            .to_string();
        assert!(e.contains("table1.svg: missing"), "{e}");
        assert!(e.contains("class-04/pareto_front.svg: missing"), "{e}");
        assert!(e.contains("run 1 epoch 3 class 4: not a unit"), "{e}");
        assert!(e.contains("seed 99"), "{e}");
    }

    #[test]
    fn two_experiments_report_as_one_table_and_a_repeated_repair_is_refused() {
        let (config, a, b) = (
            config(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let rows = rows(&config);
        write_csv_rows(&a.path().join("repairs.csv"), &rows).unwrap();
        let other: Vec<RepairRow> = rows
            .iter()
            .map(|r| RepairRow {
                dataset: "pneumonia".into(),
                ..r.clone()
            })
            .collect();
        write_csv_rows(&b.path().join("repairs.csv"), &other).unwrap();
        let options = ReportOptions {
            alphas: PAPER_ALPHAS.to_vec(),
            ties: TiePolicy::Post,
            incomplete: IncompletePolicy::Mark,
        };
        let both = [a.path().join("repairs.csv"), b.path().join("repairs.csv")];
        let out = tempfile::tempdir().unwrap();
        let summary = write_report(&both, &options, out.path()).unwrap();
        assert_eq!(summary.repairs, 16);
        let table: Vec<Table1Row> = read_csv_rows(&out.path().join("table1.csv")).unwrap();
        let datasets: BTreeSet<&str> = table.iter().map(|t| t.key.dataset.as_str()).collect();
        assert_eq!(datasets, BTreeSet::from(["gtsrb", "pneumonia"]));
        assert_eq!(table.len(), 2 * PAPER_ALPHAS.len());
        let same = [a.path().join("repairs.csv"), a.path().join("repairs.csv")];
        let e = write_report(&same, &options, out.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("run 1 class 4 epoch 1 is also in"), "{e}");
        assert!(write_report(&[], &options, out.path()).is_err());
    }

    /// The tampering a consistent-looking folder must not survive, each alone.
    #[test]
    fn every_kind_of_tampering_is_named() {
        let config = config();
        type Edit<'a> = &'a dyn Fn(&Path);
        let tamper: [(&str, Edit, &str); 8] = [
            (
                "an edited rr",
                &|out| {
                    let path = out.join("repairs.csv");
                    let mut rows: Vec<RepairRow> = read_csv_rows(&path).unwrap();
                    rows[2].rr = Some(0.75);
                    write_csv_rows(&path, &rows).unwrap();
                },
                "rr is 0.75 in repairs.csv, 0.5 in row.json",
            ),
            (
                "swapped patterns",
                &|out| {
                    let path = out.join("patterns.csv");
                    let text = std::fs::read_to_string(&path).unwrap();
                    let swapped = text.replacen(",post-convergence,", ",pre-convergence,", 1);
                    assert_ne!(swapped, text);
                    std::fs::write(&path, swapped).unwrap();
                },
                "patterns.csv: not what repairs.csv gives, first at line",
            ),
            (
                "a corrupt sidecar",
                &|out| {
                    let sidecar = run_folder(out, 2).join("checkpoints/epoch-001.json");
                    std::fs::write(sidecar, "{\"epoch\": 1, ").unwrap();
                },
                "epoch-001.json: not a checkpoint sidecar: EOF while parsing",
            ),
            (
                "an empty figure",
                &|out| std::fs::write(out.join(TABLE1_FIGURE), "").unwrap(),
                "table1.svg: empty figure",
            ),
            (
                "a truncated checkpoint",
                &|out| {
                    let weights = run_folder(out, 1).join("checkpoints/epoch-002.safetensors");
                    let bytes = std::fs::read(&weights).unwrap();
                    std::fs::write(&weights, &bytes[..bytes.len() - 3]).unwrap();
                },
                "epoch-002.safetensors: 15 bytes, but 18 were written",
            ),
            (
                "a replaced checkpoint of the same size",
                &|out| {
                    let weights = run_folder(out, 1).join("checkpoints/epoch-003.safetensors");
                    std::fs::write(&weights, "weights of epoch 9").unwrap();
                },
                "epoch-003.safetensors: content hash",
            ),
            (
                "another unit's per-image bits",
                &|out| {
                    let rows = rows(&self::config());
                    let (a, b) = (row_folder(out, &rows[0]), row_folder(out, &rows[3]));
                    std::fs::copy(
                        b.join(repair_core::CORRECTNESS_FILE),
                        a.join(repair_core::CORRECTNESS_FILE),
                    )
                    .unwrap();
                },
                "correct.safetensors: test, before: the bits give Acc_cls",
            ),
            (
                "a cut per-image file",
                &|out| {
                    let path = row_folder(out, &rows(&self::config())[1])
                        .join(repair_core::CORRECTNESS_FILE);
                    let bytes = std::fs::read(&path).unwrap();
                    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
                },
                "correct.safetensors: not safetensors",
            ),
        ];
        for (what, edit, want) in tamper {
            let out = tempfile::tempdir().unwrap();
            finished(out.path(), &config, &rows(&config));
            verify_experiment(out.path(), &config).unwrap();
            edit(out.path());
            let e = match verify_experiment(out.path(), &config) {
                Ok(v) => panic!("{what}: passed verify ({v:?})"),
                Err(e) => e.to_string(),
            };
            assert!(e.contains(want), "{what}: {e}");
        }
    }

    #[test]
    fn per_class_rows_that_disagree_with_the_repairs_are_named() {
        let (config, out) = (config(), tempfile::tempdir().unwrap());
        let rows = rows(&config);
        finished(out.path(), &config, &rows);
        let path = out.path().join(CLASS_ACCURACY_CSV);
        let mut written: Vec<ExperimentClassRow> = read_csv_rows(&path).unwrap();
        assert_eq!(written.len(), 2 * rows.len());
        written[1].class.repaired_predicted = 21; // run 1 epoch 1 class 4
        written[3].class.repaired_acc = Some(0.0); // run 1 epoch 1 class 9
        written.truncate(written.len() - 2); // run 2 epoch 2 class 9
        write_csv_rows(&path, &written).unwrap();
        let e = verify_experiment(out.path(), &config)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("run 1 epoch 1 class 4: 21 of 40 predicted"),
            "{e}"
        );
        assert!(e.contains("run 1 epoch 1 class 9: accuracies"), "{e}");
        assert!(
            e.contains("class_accuracy.csv: arachne run 2 epoch 2 class 9: missing"),
            "{e}"
        );
    }
}
