//! The report of one or more experiments from their `repairs.csv` alone: `quality.csv`,
//! `patterns.csv`, `table1.csv`, `table1.md` and the SVG figures, each written
//! atomically. The file names live here once, for the writer and for
//! [`verify_experiment`](crate::verify_experiment).

use std::path::{Path, PathBuf};

use repair_data::write_atomic;
use repair_metrics::{
    accuracy_figure, collapse_warnings, patterns, quality, quality_figure, read_repairs, table1,
    table1_figure, table1_markdown, to_csv, warnings_markdown, CollapseWarning, IncompletePolicy,
    MetricsError, QualityRow, RepairRow, RunPattern, Table1Row, TiePolicy,
};

use crate::error::{file_error, PipelineError, Result};

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
}

/// The warnings file of a report (header only when there is nothing to warn about).
pub const WARNINGS_CSV: &str = "warnings.csv";

/// Figure files of one (dataset, model, run, class): Fig. 3 (accuracies over epochs)
/// and Fig. 4 (Qual over epochs per α), relative to the report folder.
pub(crate) fn run_figures(dataset: &str, model: &str, run: usize, class: u32) -> [PathBuf; 2] {
    let stem = format!("{dataset}-{model}-run{run}-class{class}");
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
    let mut repairs = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for path in csv_paths {
        for row in read_repairs(path).map_err(|e| file_error(path, e))? {
            let key = (
                row.dataset.clone(),
                row.model.clone(),
                row.run,
                row.target_class,
                row.epoch,
            );
            if let Some(other) = seen.insert(key, path) {
                return Err(file_error(
                    path,
                    format!(
                        "{} {} run {} class {} epoch {} is also in {}",
                        row.dataset,
                        row.model,
                        row.run,
                        row.target_class,
                        row.epoch,
                        other.display()
                    ),
                ));
            }
            repairs.push(row);
        }
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
    let file = format!("{markdown}{}", warnings_markdown(&warnings));
    write_atomic(&out.join("table1.md"), file.as_bytes())?;
    Ok(ReportSummary {
        repairs: repairs.len(),
        table1_markdown: markdown,
        warnings,
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
    let mut keys: Vec<(&str, &str, usize, u32)> = repairs
        .iter()
        .map(|r| (r.dataset.as_str(), r.model.as_str(), r.run, r.target_class))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    for (dataset, model, run, class) in keys {
        let same = |d: &str, m: &str, r: usize, c: u32| {
            d == dataset && m == model && r == run && c == class
        };
        let rows: Vec<&RepairRow> = repairs
            .iter()
            .filter(|r| same(&r.dataset, &r.model, r.run, r.target_class))
            .collect();
        let quality: Vec<&QualityRow> = quality_rows
            .iter()
            .filter(|r| same(&r.dataset, &r.model, r.run, r.target_class))
            .collect();
        let best: Vec<(f64, Option<usize>)> = run_patterns
            .iter()
            .filter(|p| same(&p.key.dataset, &p.key.model, p.key.run, p.key.target_class))
            .map(|p| (p.key.alpha, p.result.best_epoch))
            .collect();
        let [accuracy, qual] = run_figures(dataset, model, run, class).map(|p| out.join(p));
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
