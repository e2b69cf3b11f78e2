//! The checks of [`verify_experiment`](crate::verify_experiment) that read the files
//! behind the tables: a folder is the user's proof of a result, so an edited `rr`, a
//! swapped pattern, a corrupt sidecar, an empty figure or a truncated checkpoint must
//! each fail it. Every check appends problems (naming the file) instead of stopping, so
//! one run of `verify` lists them all.

use std::path::Path;

use repair_core::{UnitCorrectness, CORRECTNESS_FILE};
use repair_metrics::{patterns, table1, to_csv, RepairRow};
use repair_train::{CheckpointInfo, FileDigest, RunDir};

use crate::study_report::ReportOptions;
use repair_experiment::row_folder;
use repair_pipeline::read_json;
use repair_pipeline::RepairReport;
use repair_pipeline::Result;

/// Every row of `repairs.csv` is its unit's `row.json`, and the unit's `repair.json`
/// is a repair report. Returns the units' Pareto figures that exist, for
/// [`check_figures`].
pub(crate) fn check_units(
    out: &Path,
    rows: &[RepairRow],
    problems: &mut Vec<String>,
) -> Vec<std::path::PathBuf> {
    let mut figures = Vec::new();
    for r in rows {
        let unit = row_folder(out, r);
        let row_json = unit.join("row.json");
        if row_json.is_file() {
            match read_json::<RepairRow>(&row_json) {
                Err(e) => problems.push(e.to_string()),
                Ok(written) if written != *r => problems.push(format!(
                    "repairs.csv: run {} epoch {} class {} differs from {}{}",
                    r.run,
                    r.epoch,
                    r.target_class,
                    row_json.display(),
                    first_difference(r, &written)
                )),
                Ok(_) => {}
            }
        }
        let report = unit.join("repair.json");
        if report.is_file() {
            // A unit of an older version (no selection set yet) has the older schema:
            // it must still be JSON; a rerun of the experiment redoes it (ms).
            let parsed = if r.selection_repaired_acc_cls.is_some() {
                read_json::<RepairReport>(&report).map(|r| r.outcome.kept_original)
            } else {
                read_json::<serde_json::Map<String, serde_json::Value>>(&report).map(|_| false)
            };
            match parsed {
                Err(e) => problems.push(e.to_string()),
                Ok(true) => check_original_weights(&unit.join("weights.csv"), problems),
                Ok(false) => {}
            }
        }
        check_correctness(&unit, r, problems);
        let pareto = unit.join("pareto_front.svg");
        if pareto.is_file() {
            figures.push(pareto);
        }
    }
    figures
}

/// The unit's per-image correctness gives the accuracies its row reports: test before
/// and after, and selection before and after where the row has them.
fn check_correctness(unit: &Path, r: &RepairRow, problems: &mut Vec<String>) {
    let path = unit.join(CORRECTNESS_FILE);
    if !path.is_file() {
        return problems.push(format!(
            "{}: missing (a unit from before per-image correctness files: running the \
             experiment again adds them)",
            path.display()
        ));
    }
    let bits = match UnitCorrectness::read(&path) {
        Ok(bits) => bits,
        Err(e) => return problems.push(e.to_string()),
    };
    let Some(test) = &bits.test else {
        return problems.push(format!("{}: no test set", path.display()));
    };
    let sel = &bits.selection;
    let pairs = [
        (
            "test, before",
            Some(test.accuracy(&test.base)),
            Some((r.base_acc_cls, r.base_acc_total)),
        ),
        (
            "test, after",
            Some(test.accuracy(&test.repaired)),
            Some((r.repaired_acc_cls, r.repaired_acc_total)),
        ),
        (
            "selection, before",
            Some(sel.accuracy(&sel.base)),
            r.selection_base_acc_cls.zip(r.selection_base_acc_total),
        ),
        (
            "selection, after",
            Some(sel.accuracy(&sel.repaired)),
            r.selection_repaired_acc_cls
                .zip(r.selection_repaired_acc_total),
        ),
    ];
    for (what, counted, reported) in pairs {
        let (Some(counted), Some(reported)) = (counted, reported) else {
            continue;
        };
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9;
        if !close(counted.0, reported.0) || !close(counted.1, reported.1) {
            problems.push(format!(
                "{}: {what}: the bits give Acc_cls {:.6}, Acc_total {:.6}; repairs.csv says \
                 {:.6}, {:.6}",
                path.display(),
                counted.0,
                counted.1,
                reported.0,
                reported.1
            ));
        }
    }
}

/// A repair that says it kept the original layer lists every searched weight at its
/// original value in `weights.csv` (layer, i, j, original, repaired).
fn check_original_weights(weights: &Path, problems: &mut Vec<String>) {
    let mut reader = match csv::Reader::from_path(weights) {
        Ok(reader) => reader,
        Err(e) => return problems.push(format!("{}: {e}", weights.display())),
    };
    for (k, record) in reader.records().enumerate() {
        match record {
            Err(e) => return problems.push(format!("{}: {e}", weights.display())),
            Ok(row) if row.get(3) != row.get(4) => {
                return problems.push(format!(
                    "{}: row {} changes W[{}, {}] from {} to {}, but repair.json says the \
                     repair kept the original layer",
                    weights.display(),
                    k + 1,
                    row.get(1).unwrap_or("?"),
                    row.get(2).unwrap_or("?"),
                    row.get(3).unwrap_or("?"),
                    row.get(4).unwrap_or("?")
                ))
            }
            Ok(_) => {}
        }
    }
}

/// ": column X is A here, B there" for the first column two rows differ in.
fn first_difference(csv: &RepairRow, json: &RepairRow) -> String {
    let (Ok(a), Ok(b)) = (serde_json::to_value(csv), serde_json::to_value(json)) else {
        return String::new();
    };
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return String::new();
    };
    a.iter()
        .find(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, v)| {
            let there = b.get(k).map_or("absent".to_string(), ToString::to_string);
            format!(": {k} is {v} in repairs.csv, {there} in row.json")
        })
        .unwrap_or_default()
}

/// `patterns.csv` and `table1.csv` are what the rows give (recomputed with the
/// experiment's report options and compared byte for byte with what the report
/// writes).
pub(crate) fn check_recomputed(
    out: &Path,
    rows: &[RepairRow],
    options: &ReportOptions,
    problems: &mut Vec<String>,
) -> Result<()> {
    let err =
        |e: repair_metrics::MetricsError| repair_pipeline::PipelineError::Invalid(e.to_string());
    let run_patterns =
        patterns(rows, &options.alphas, options.ties, options.incomplete).map_err(err)?;
    let table = table1(&run_patterns);
    for (name, recomputed) in [
        ("patterns.csv", to_csv(&run_patterns).map_err(err)?),
        ("table1.csv", to_csv(&table).map_err(err)?),
    ] {
        let path = out.join(name);
        let Ok(written) = std::fs::read(&path) else {
            problems.push(format!("{}: missing", path.display()));
            continue;
        };
        if written != recomputed {
            problems.push(format!(
                "{}: not what repairs.csv gives{}",
                path.display(),
                first_line_difference(&written, &recomputed)
            ));
        }
    }
    Ok(())
}

/// ", first at line N: `file` where the rows give `recomputed`".
fn first_line_difference(written: &[u8], recomputed: &[u8]) -> String {
    let (a, b) = (
        String::from_utf8_lossy(written),
        String::from_utf8_lossy(recomputed),
    );
    let (mut a_lines, mut b_lines) = (a.lines(), b.lines());
    for line in 1.. {
        match (a_lines.next(), b_lines.next()) {
            (None, None) => break,
            (x, y) if x == y => continue,
            (x, y) => {
                return format!(
                    ", first at line {line}: `{}` where the rows give `{}`",
                    x.unwrap_or("(end of file)"),
                    y.unwrap_or("(end of file)")
                )
            }
        }
    }
    String::new()
}

/// Each listed checkpoint of run `run` exists, its sidecar parses, and the weights
/// have the size and hash the sidecar recorded when they were written. Returns how
/// many had no recorded digest (sidecars written before digests were).
pub(crate) fn check_checkpoints(
    out: &Path,
    run: usize,
    checkpoints: &[usize],
    problems: &mut Vec<String>,
) -> usize {
    let dir = RunDir::new(&repair_experiment::run_folder(out, run));
    let mut unhashed = 0;
    for &epoch in checkpoints {
        let weights = dir.checkpoint(epoch);
        let sidecar = dir.checkpoint_info(epoch);
        if !weights.is_file() {
            problems.push(format!("{}: missing", weights.display()));
            continue;
        }
        let info: CheckpointInfo = match dir.read_info(epoch) {
            Ok(info) => info,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        if info.record.epoch != epoch {
            problems.push(format!(
                "{}: describes epoch {}, not {epoch}",
                sidecar.display(),
                info.record.epoch
            ));
        }
        let Some(recorded) = info.weights else {
            unhashed += 1;
            continue;
        };
        match FileDigest::of_file(&weights) {
            Err(e) => problems.push(format!("{}: {e}", weights.display())),
            Ok(found) if found.bytes != recorded.bytes => problems.push(format!(
                "{}: {} bytes, but {} were written (truncated or replaced)",
                weights.display(),
                found.bytes,
                recorded.bytes
            )),
            Ok(found) if found.hash != recorded.hash => problems.push(format!(
                "{}: content hash {} differs from the {} recorded when it was written",
                weights.display(),
                found.hash,
                recorded.hash
            )),
            Ok(_) => {}
        }
    }
    unhashed
}

/// Every figure is an SVG document with something drawn in it.
pub(crate) fn check_figures<'a>(
    figures: impl IntoIterator<Item = &'a Path>,
    problems: &mut Vec<String>,
) {
    for path in figures {
        if let Err(problem) = svg_problem(path) {
            problems.push(format!("{}: {problem}", path.display()));
        }
    }
}

fn svg_problem(path: &Path) -> std::result::Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    if text.trim().is_empty() {
        return Err("empty figure".into());
    }
    let doc = roxmltree::Document::parse(&text).map_err(|e| format!("not an SVG file: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg" {
        return Err(format!(
            "not an SVG file: its root is <{}>",
            root.tag_name().name()
        ));
    }
    if !root.children().any(|c| c.is_element()) {
        return Err("an SVG with nothing drawn".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_cut_or_foreign_figure_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let good = write(
            "good.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>",
        );
        let cases = [
            (write("empty.svg", ""), "empty figure"),
            (
                write(
                    "cut.svg",
                    "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/>",
                ),
                "not an SVG file",
            ),
            (write("html.svg", "<html><p/></html>"), "its root is <html>"),
            (
                write(
                    "blank.svg",
                    "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
                ),
                "nothing drawn",
            ),
        ];
        let mut problems = Vec::new();
        check_figures([good.as_path()], &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        for (path, want) in &cases {
            let mut problems = Vec::new();
            check_figures([path.as_path()], &mut problems);
            assert_eq!(problems.len(), 1);
            assert!(problems[0].contains(want), "{}", problems[0]);
        }
    }

    #[test]
    fn the_first_differing_line_is_quoted() {
        let d = first_line_difference(b"a\nb\nc\n", b"a\nx\nc\n");
        assert_eq!(d, ", first at line 2: `b` where the rows give `x`");
        assert_eq!(first_line_difference(b"a\n", b"a\n"), "");
        assert!(first_line_difference(b"a\n", b"a\nb\n").contains("(end of file)"));
    }
}

#[cfg(test)]
mod original_weights_tests {
    use super::*;

    #[test]
    fn a_repair_that_says_it_kept_the_original_must_list_every_weight_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let weights = dir.path().join("weights.csv");
        std::fs::write(
            &weights,
            "layer,i,j,original,repaired\nlast,3,1,0.25,0.25\nlast,7,2,-0.5,-0.5\n",
        )
        .unwrap();
        let mut problems = Vec::new();
        check_original_weights(&weights, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        std::fs::write(
            &weights,
            "layer,i,j,original,repaired\nlast,3,1,0.25,0.25\nlast,7,2,-0.5,0.75\n",
        )
        .unwrap();
        check_original_weights(&weights, &mut problems);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("weights.csv: row 2 changes W[7, 2] from -0.5 to 0.75")
                && problems[0].contains("kept the original layer"),
            "{}",
            problems[0]
        );
    }
}
