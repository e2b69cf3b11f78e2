//! The report of one or more experiments from their `repairs.csv` alone: `quality.csv`,
//! `patterns.csv`, `table1.csv`, `table1.md` and the SVG figures, each written
//! atomically. The file names live here once, for the writer and for
//! [`verify_experiment`](crate::verify_experiment).

use std::path::{Path, PathBuf};

use repair_core::file_name_part;
use repair_core::{IncompletePolicy, TiePolicy};
use repair_data::write_atomic;
use repair_metrics::{
    accuracy_figure, collapse_warnings, patterns, quality, quality_figure, read_repairs,
    regression_counts, regressions_line, table1, table1_figure, table1_markdown, to_csv,
    warnings_markdown, CollapseWarning, MetricsError, QualityRow, RepairRow, RunPattern, Table1Row,
    STUDY_METHOD,
};
use repair_metrics::{variance_markdown, variance_split};

use repair_pipeline::{file_error, PipelineError, Result};

/// How the report reads the repairs.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The α values of Qual_α.
    pub alphas: Vec<f64>,
    /// Ties with the converged checkpoint.
    pub ties: TiePolicy,
    /// Missing repairs.
    pub incomplete: IncompletePolicy,
}

impl ReportOptions {
    /// The options of an experiment's own report (and of `verify`'s recomputation of
    /// it): the config's α values, ties to post-convergence, missing repairs marked.
    pub fn of_experiment(config: &repair_experiment::ExperimentConfig) -> ReportOptions {
        ReportOptions {
            alphas: config.report.alphas.clone(),
            ties: TiePolicy::Post,
            incomplete: IncompletePolicy::Mark,
        }
    }
}

/// The experiment's report stage: [`write_report`] of its `repairs.csv` with
/// [`ReportOptions::of_experiment`], which `repair_experiment::run_experiment` calls
/// when the whole experiment is done.
#[derive(Debug, Clone, Copy, Default)]
pub struct StudyReport;

impl repair_experiment::ReportStage for StudyReport {
    type Summary = ReportSummary;

    fn write(
        &self,
        repairs_csv: &Path,
        config: &repair_experiment::ExperimentConfig,
        out: &Path,
    ) -> Result<ReportSummary> {
        write_report(
            &[repairs_csv.to_path_buf()],
            &ReportOptions::of_experiment(config),
            out,
        )
    }
}

/// What [`write_report`] wrote.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    /// Rows read from `repairs.csv`.
    pub repairs: usize,
    /// Table 1 as Markdown (also `table1.md`, followed by the warnings).
    pub table1_markdown: String,
    /// Best repaired models that label almost everything as the repaired class (also
    /// in `warnings.csv` and `table1.md`).
    pub warnings: Vec<CollapseWarning>,
    /// Per method, the repairs worse than the original on the repair set and those that
    /// lowered the target class's test accuracy, in one line (also in `table1.md`).
    pub regressions: String,
}

/// The repair-seed variance split, written when `repairs.csv` has repeats of a unit.
pub const VARIANCE_CSV: &str = "variance.csv";

/// The warnings file of a report (header only when there is nothing to warn about).
pub const WARNINGS_CSV: &str = "warnings.csv";

/// Figure files of one (dataset, model, method, run, class): Fig. 3 (accuracies over
/// epochs) and Fig. 4 (Qual over epochs per α), relative to the report folder. The
/// names come from a CSV: they enter the file name only through [`file_name_part`], so
/// `../../x` stays a name inside `figures/`. The study's method keeps the names it had
/// before there were methods; another's name ends the stem.
pub(crate) fn run_figures(
    dataset: &str,
    model: &str,
    method: &str,
    run: usize,
    class: u32,
) -> [PathBuf; 2] {
    let (dataset, model) = (file_name_part(dataset), file_name_part(model));
    let mut stem = format!("{dataset}-{model}-run{run}-class{class}");
    if method != STUDY_METHOD {
        stem = format!("{stem}-{}", file_name_part(method));
    }
    [
        Path::new("figures").join(format!("accuracy-{stem}.svg")),
        Path::new("figures").join(format!("quality-{stem}.svg")),
    ]
}

/// The Table 1 chart, relative to the report folder.
pub(crate) const TABLE1_FIGURE: &str = "figures/table1.svg";

/// Reads `csv_paths` (any CSVs with the `repairs.csv` columns; several experiments, e.g.
/// GTSRB and pneumonia, give one Table 1 with a row group per dataset) and writes the
/// report into `out`. A repair listed in two files is an error naming both.
pub fn write_report(
    csv_paths: &[PathBuf],
    options: &ReportOptions,
    out: &Path,
) -> Result<ReportSummary> {
    let Some(first) = csv_paths.first() else {
        return Err(PipelineError::Invalid("no repairs.csv to report on".into()));
    };
    let err = |e| file_error(first, e);
    let mut repairs: Vec<RepairRow> = Vec::new();
    let mut from = Vec::new();
    for path in csv_paths {
        let rows = read_repairs(path).map_err(|e| file_error(path, e))?;
        from.extend(std::iter::repeat_n(path, rows.len()));
        repairs.extend(rows);
    }
    // One file's repeats are refused by read_repairs; here, a repair in two files.
    let mut seen = std::collections::HashMap::new();
    for (row, path) in repairs.iter().zip(&from) {
        if let Some(other) = seen.insert(row.key(), path) {
            return Err(file_error(
                path,
                format!(
                    "{} {} {} run {} class {} epoch {} is also in {}",
                    row.dataset,
                    row.model,
                    row.method,
                    row.run,
                    row.target_class,
                    row.epoch,
                    other.display()
                ),
            ));
        }
    }
    // The tables are the study's one search per unit; a unit's repeats with other
    // search seeds (`repair_seeds`) go into the variance split.
    let seeds: std::collections::BTreeSet<Option<u64>> =
        repairs.iter().map(|r| r.search_seed).collect();
    if seeds.len() > 1 {
        let mut by_seed = Vec::new();
        for &seed in &seeds {
            let of: Vec<RepairRow> = repairs
                .iter()
                .filter(|r| r.search_seed == seed)
                .cloned()
                .collect();
            by_seed.push(
                patterns(&of, &options.alphas, options.ties, options.incomplete).map_err(err)?,
            );
        }
        let split = variance_split(&by_seed);
        let path = out.join(VARIANCE_CSV);
        write_atomic(&path, &to_csv(&split).map_err(|e| file_error(&path, e))?)?;
        write_atomic(
            &out.join("variance.md"),
            variance_markdown(&split).as_bytes(),
        )?;
    }
    repairs.retain(|r| r.search_seed.is_none());
    if repairs.is_empty() {
        return Err(file_error(
            first,
            "every row has a search_seed: the tables report each unit's first search, \
             whose search_seed is empty",
        ));
    }
    let quality_rows = quality(&repairs, &options.alphas).map_err(err)?;
    let run_patterns =
        patterns(&repairs, &options.alphas, options.ties, options.incomplete).map_err(err)?;
    let table = table1(&run_patterns);
    let write_csv = |name: &str, bytes: std::result::Result<Vec<u8>, _>| -> Result<()> {
        let path = out.join(name);
        write_atomic(&path, &bytes.map_err(|e| file_error(&path, e))?)?;
        Ok(())
    };
    write_csv("quality.csv", to_csv(&quality_rows))?;
    write_csv("patterns.csv", to_csv(&run_patterns))?;
    write_csv("table1.csv", to_csv(&table))?;
    let warnings = collapse_warnings(&repairs, &run_patterns);
    write_csv(WARNINGS_CSV, warnings_csv(&warnings))?;
    write_figures(out, &repairs, &quality_rows, &run_patterns, &table)?;
    let markdown = table1_markdown(&table);
    let regressions = regressions_line(&regression_counts(&repairs));
    let file = format!(
        "{markdown}{}{}",
        warnings_markdown(&warnings),
        if regressions.is_empty() {
            String::new()
        } else {
            format!("\n{regressions}")
        }
    );
    write_atomic(&out.join("table1.md"), file.as_bytes())?;
    Ok(ReportSummary {
        repairs: repairs.len(),
        table1_markdown: markdown,
        warnings,
        regressions,
    })
}

/// `warnings.csv`: its header even without rows, so that "no warning" reads as such.
fn warnings_csv(warnings: &[CollapseWarning]) -> std::result::Result<Vec<u8>, MetricsError> {
    if warnings.is_empty() {
        let mut one = to_csv(&[CollapseWarning::default()])?;
        let header_end = one
            .iter()
            .position(|&b| b == b'\n')
            .map_or(one.len(), |i| i + 1);
        one.truncate(header_end);
        return Ok(one);
    }
    to_csv(warnings)
}

/// Fig. 3 and Fig. 4 per (dataset, model, run, class), and Table 1 as bars, as SVG.
fn write_figures(
    out: &Path,
    repairs: &[RepairRow],
    quality_rows: &[QualityRow],
    run_patterns: &[RunPattern],
    table: &[Table1Row],
) -> Result<()> {
    let mut keys: Vec<(&str, &str, &str, usize, u32)> = repairs
        .iter()
        .map(|r| {
            let names = (r.dataset.as_str(), r.model.as_str(), r.method.as_str());
            (names.0, names.1, names.2, r.run, r.target_class)
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let (dataset, model, method, run, class) = key;
        let same = |d: &str, m: &str, how: &str, r: usize, c: u32| (d, m, how, r, c) == key;
        let rows: Vec<&RepairRow> = repairs
            .iter()
            .filter(|r| same(&r.dataset, &r.model, &r.method, r.run, r.target_class))
            .collect();
        let quality: Vec<&QualityRow> = quality_rows
            .iter()
            .filter(|r| same(&r.dataset, &r.model, &r.method, r.run, r.target_class))
            .collect();
        let best: Vec<(f64, Option<usize>)> = run_patterns
            .iter()
            .filter(|p| {
                let k = &p.key;
                same(&k.dataset, &k.model, &k.method, k.run, k.target_class)
            })
            .map(|p| (p.key.alpha, p.result.best_epoch))
            .collect();
        let [accuracy, qual] = run_figures(dataset, model, method, run, class).map(|p| out.join(p));
        let svg = accuracy_figure(&rows).map_err(|e| file_error(&accuracy, e))?;
        write_atomic(&accuracy, svg.as_bytes())?;
        let svg = quality_figure(&quality, &best).map_err(|e| file_error(&qual, e))?;
        write_atomic(&qual, svg.as_bytes())?;
    }
    let path = out.join(TABLE1_FIGURE);
    let svg = table1_figure(table).map_err(|e| file_error(&path, e))?;
    write_atomic(&path, svg.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use repair_core::defaults::PAPER_ALPHAS;
    use repair_pipeline::write_csv_rows;

    fn options() -> ReportOptions {
        ReportOptions {
            alphas: PAPER_ALPHAS.to_vec(),
            ties: TiePolicy::Post,
            incomplete: IncompletePolicy::Mark,
        }
    }

    fn rows(model: &str) -> Vec<RepairRow> {
        (1..=3)
            .map(|epoch| RepairRow {
                dataset: "gtsrb".into(),
                model: model.into(),
                run: 1,
                seed: Some(5),
                target_class: 2,
                epoch,
                converged_epoch: 2,
                base_acc_total: 0.8,
                base_acc_cls: 0.3 + epoch as f64 / 10.0,
                repaired_acc_total: 0.79,
                repaired_acc_cls: 0.5,
                rr: Some(0.4),
                br: Some(0.01),
                fitness: Some(12.0),
                ..RepairRow::default()
            })
            .collect()
    }

    /// Every file under `dir`, relative to it.
    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    found.push(path.strip_prefix(dir).unwrap().to_path_buf());
                }
            }
        }
        found
    }

    #[test]
    fn repeats_of_a_search_go_to_the_variance_split_and_a_file_of_repeats_only_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("repairs.csv");
        let mut all = rows("cnn-s");
        all.extend(rows("cnn-s").into_iter().map(|r| RepairRow {
            search_seed: Some(1),
            repaired_acc_cls: 0.6,
            ..r
        }));
        write_csv_rows(&csv, &all).unwrap();
        let summary = write_report(std::slice::from_ref(&csv), &options(), dir.path()).unwrap();
        assert_eq!(summary.repairs, 3, "the tables count the first searches");
        assert!(dir.path().join(VARIANCE_CSV).is_file());
        let repeats: Vec<RepairRow> = all
            .into_iter()
            .filter(|r| r.search_seed.is_some())
            .collect();
        write_csv_rows(&csv, &repeats).unwrap();
        let e = write_report(&[csv], &options(), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("every row has a search_seed"), "{e}");
    }

    #[test]
    fn a_file_of_the_studys_columns_only_gives_the_same_report() {
        let dir = tempfile::tempdir().unwrap();
        let (full, bare) = (dir.path().join("full"), dir.path().join("bare"));
        let csv = dir.path().join("repairs.csv");
        write_csv_rows(&csv, &rows("cnn-s")).unwrap();
        write_report(std::slice::from_ref(&csv), &options(), &full).unwrap();
        // The study's ten columns, as its released data has them.
        let study = "dataset,model,run,target_class,epoch,converged_epoch,base_acc_total,\
                     base_acc_cls,repaired_acc_total,repaired_acc_cls\n";
        let lines: String = rows("cnn-s")
            .iter()
            .map(|r| {
                format!(
                    "{},{},{},{},{},{},{},{},{},{}\n",
                    r.dataset,
                    r.model,
                    r.run,
                    r.target_class,
                    r.epoch,
                    r.converged_epoch,
                    r.base_acc_total,
                    r.base_acc_cls,
                    r.repaired_acc_total,
                    r.repaired_acc_cls
                )
            })
            .collect();
        std::fs::write(&csv, format!("{study}{lines}")).unwrap();
        write_report(std::slice::from_ref(&csv), &options(), &bare).unwrap();
        for name in ["table1.csv", "table1.md", "quality.csv", "patterns.csv"] {
            let read = |dir: &Path| std::fs::read(dir.join(name)).unwrap();
            assert_eq!(read(&bare), read(&full), "{name}");
        }
    }

    #[test]
    fn names_from_the_csv_never_write_outside_the_report_folder() {
        let root = tempfile::tempdir().unwrap();
        let (input, out) = (root.path().join("in"), root.path().join("a/b/out"));
        std::fs::create_dir_all(&input).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        let csv = input.join("repairs.csv");
        let mut all = rows("../../../../escaped");
        all.extend(
            rows("/tmp/abs")
                .into_iter()
                .map(|r| RepairRow { run: 2, ..r }),
        );
        write_csv_rows(&csv, &all).unwrap();
        write_report(std::slice::from_ref(&csv), &options(), &out).unwrap();
        // Nothing beside the input and the report folder, and the figures in figures/.
        let everything = files_under(root.path());
        for path in &everything {
            assert!(
                path.starts_with("in") || path.starts_with("a/b/out"),
                "{path:?} written outside --out"
            );
        }
        let figures: Vec<_> = files_under(&out.join("figures"));
        assert_eq!(figures.len(), 2 * 2 + 1, "{figures:?}");
        assert!(figures.iter().all(|f| f.components().count() == 1));
    }

    #[test]
    fn the_report_refuses_what_verify_refuses_naming_the_file_and_row() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("repairs.csv");
        let refused = |rows: &[RepairRow], want: &str| {
            write_csv_rows(&csv, rows).unwrap();
            let e = write_report(std::slice::from_ref(&csv), &options(), dir.path())
                .unwrap_err()
                .to_string();
            assert!(e.contains("repairs.csv") && e.contains(want), "{want}: {e}");
            assert!(
                !dir.path().join("table1.csv").exists(),
                "{want}: wrote a table"
            );
        };
        let good = rows("cnn-s");
        let mut bad = good.clone();
        bad[1].repaired_acc_cls = 1.2;
        refused(
            &bad,
            "data row 2 (run 1 epoch 2 class 2): repaired_acc_cls = 1.2",
        );
        let mut bad = good.clone();
        bad[0].br = Some(f64::NAN);
        refused(&bad, "br = NaN");
        let mut bad = good.clone();
        bad[2].converged_epoch = 3;
        refused(&bad, "converged_epoch 3 where data row 1");
        let mut bad = good.clone();
        bad.push(good[0].clone());
        refused(&bad, "the same repair as data row 1");
        refused(&[], "no repair rows");
        std::fs::write(&csv, "").unwrap();
        let e = write_report(std::slice::from_ref(&csv), &options(), dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("repairs.csv") && e.contains("no repair rows"),
            "{e}"
        );
        write_csv_rows(&csv, &good).unwrap();
        write_report(std::slice::from_ref(&csv), &options(), dir.path()).unwrap();
    }
}
