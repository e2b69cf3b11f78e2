//! A repair's files, each written atomically (temp file + rename): `weights.csv`,
//! `history.csv`, `localisation.csv`, `pareto_front.svg`, `repair.json`, and with
//! `--export-problem` the search problem itself.

use std::path::Path;

use repair_data::write_atomic;
use repair_fitness::RepairProblem;
use serde::Serialize;

use crate::error::{file_error, Result};
use repair_method::RepairOutcome;

fn csv_bytes(
    path: &Path,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(|e| file_error(path, e))?;
    for row in rows {
        w.write_record(&row).map_err(|e| file_error(path, e))?;
    }
    w.into_inner().map_err(|e| file_error(path, e))
}

/// Writes `weights.csv` (layer, i, j, original, repaired), `history.csv` (iteration,
/// best, mean, evaluations, elapsed_s, phase), `localisation.csv` (i, j, gradient_loss,
/// forward_impact, selected: the FL candidates), `pareto_front.svg` (them, the front in
/// red: the study's `pareto_front.png`) into `dir`, and `report` as `repair.json`.
/// No figure when nothing was localised (nothing to repair).
pub(crate) fn write_repair_files<R: Serialize>(
    dir: &Path,
    class: u32,
    outcome: &RepairOutcome,
    report: &R,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    let path = dir.join("weights.csv");
    let weights = csv_bytes(
        &path,
        &["layer", "i", "j", "original", "repaired"],
        outcome.changes.iter().map(|c| {
            vec![
                "last".into(),
                c.site.i.to_string(),
                c.site.j.to_string(),
                c.original.to_string(),
                c.repaired.to_string(),
            ]
        }),
    )?;
    write_atomic(&path, &weights)?;
    let path = dir.join("history.csv");
    let history = csv_bytes(
        &path,
        &[
            "iteration",
            "best",
            "mean",
            "evaluations",
            "elapsed_s",
            "phase",
        ],
        outcome.history.iter().map(|h| {
            // The adaptive search's phase of the iteration (a new phase is a switch to
            // new sites; its `best` is on that phase's repair sets); 0 for one search.
            let phase = outcome
                .phases
                .iter()
                .rev()
                .find(|p| p.first_iteration <= h.iteration)
                .map_or(0, |p| p.phase);
            vec![
                h.iteration.to_string(),
                h.best.to_string(),
                h.mean.to_string(),
                h.evaluations.to_string(),
                format!("{:.6}", h.elapsed_s),
                phase.to_string(),
            ]
        }),
    )?;
    write_atomic(&path, &history)?;
    let path = dir.join("localisation.csv");
    let candidates = csv_bytes(
        &path,
        &["i", "j", "gradient_loss", "forward_impact", "selected"],
        outcome.candidates.iter().map(|c| {
            vec![
                c.site.i.to_string(),
                c.site.j.to_string(),
                c.gradient_loss.to_string(),
                c.forward_impact.to_string(),
                c.selected.to_string(),
            ]
        }),
    )?;
    write_atomic(&path, &candidates)?;
    if !outcome.candidates.is_empty() {
        let path = dir.join("pareto_front.svg");
        let points: Vec<(f64, f64, bool)> = outcome
            .candidates
            .iter()
            .map(|c| (c.gradient_loss, c.forward_impact, c.selected))
            .collect();
        let title = format!("Fault localisation, class {class}: Pareto front in red");
        let svg =
            repair_metrics::pareto_figure(&points, &title).map_err(|e| file_error(&path, e))?;
        write_atomic(&path, svg.as_bytes())?;
    }
    let path = dir.join("repair.json");
    write_json(&path, report)?;
    Ok(())
}

/// Writes the search problem as `problem.safetensors` (negatives/positives activations
/// f32 and labels u32, kernel `width × classes`, bias, sites as u64 pairs) and
/// `problem.json` (shapes and sites, plus `extra`, e.g. the PSO config), so another
/// tool can run the same search.
pub(crate) fn export_problem<E: Serialize>(
    dir: &Path,
    problem: &RepairProblem,
    extra: &E,
) -> Result<()> {
    let (d, c) = (problem.layer.width, problem.layer.classes);
    let (n, p) = (problem.negatives.len(), problem.positives.len());
    let tensors = dir.join("problem.safetensors");
    let bytes = repair_method::problem_bytes(problem).map_err(|e| file_error(&tensors, e))?;
    write_atomic(&tensors, &bytes)?;
    let json_path = dir.join("problem.json");
    let json = serde_json::json!({
        "width": d,
        "classes": c,
        "negatives": n,
        "positives": p,
        "sites": problem.sites,
        "kernel_layout": "width x classes, kernel[i*classes + j] = W_ij (Keras)",
        "fitness": "(N_patched + 1)/(L_neg + 1) + (N_intact + 1)/(L_pos + 1)",
        "search": extra,
    });
    write_json(&json_path, &json)?;
    Ok(())
}

/// The per-class file of a repair unit and of the experiment.
pub const CLASS_ACCURACY_CSV: &str = "class_accuracy.csv";

/// One class of a repair unit's `class_accuracy.csv`: the test accuracy (recall) of
/// every class before and after the repair, and how often each class is predicted —
/// where a class-specific repair costs the other classes shows here.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ClassAccuracyRow {
    /// The class.
    pub class: u32,
    /// Test inputs of the class.
    pub test_inputs: u64,
    /// Its accuracy at the checkpoint (empty without inputs).
    pub base_acc: Option<f64>,
    /// Its accuracy after repair.
    pub repaired_acc: Option<f64>,
    /// Test inputs the checkpoint labels as the class.
    pub base_predicted: u64,
    /// Test inputs the repaired model labels as the class.
    pub repaired_predicted: u64,
}

/// Which repair a line of the experiment's `class_accuracy.csv` belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RepairKey {
    /// The repair method (`repairs.csv`'s `method`).
    pub method: String,
    /// The run, 1-based.
    pub run: usize,
    /// The run's training seed.
    pub seed: Option<u64>,
    /// The checkpoint's epoch.
    pub epoch: usize,
    /// The repaired class.
    pub target_class: u32,
}

/// One line of the experiment's `class_accuracy.csv`: a unit's [`ClassAccuracyRow`]
/// after the key of its repair.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentClassRow {
    /// Which repair.
    pub repair: RepairKey,
    /// One class's accuracies before and after it.
    pub class: ClassAccuracyRow,
}
repair_metrics::csv_record!(ExperimentClassRow {
    repair: RepairKey,
    class: ClassAccuracyRow
});

/// The per-class rows of one repair from the test confusion matrices.
pub(crate) fn class_accuracy_rows(
    before: &repair_metrics::ConfusionMatrix,
    after: &repair_metrics::ConfusionMatrix,
) -> Vec<ClassAccuracyRow> {
    let some = |v: f64| (!v.is_nan()).then_some(v);
    let (acc_before, acc_after) = (before.per_class_accuracy(), after.per_class_accuracy());
    (0..before.classes())
        .map(|c| ClassAccuracyRow {
            class: c as u32,
            test_inputs: before.inputs(c),
            base_acc: some(acc_before[c]),
            repaired_acc: some(acc_after[c]),
            base_predicted: before.predictions(c),
            repaired_predicted: after.predictions(c),
        })
        .collect()
}

/// Writes rows as a CSV file with a header ([`repair_metrics::to_csv`]), atomically.
pub fn write_csv_rows<T: Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let bytes = repair_metrics::to_csv(rows).map_err(|e| file_error(path, e))?;
    write_atomic(path, &bytes)?;
    Ok(())
}

/// Writes `value` as pretty JSON, atomically; an error names the file.
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| file_error(path, e))?;
    write_atomic(path, &json)?;
    Ok(())
}

/// Reads a JSON file; an error names the file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| file_error(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| file_error(path, e))
}

/// Reads a CSV file written by [`write_csv_rows`], by position under the header that
/// `T` writes ([`repair_metrics::from_csv`]); errors name the file and row.
pub fn read_csv_rows<T: Serialize + serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
    repair_metrics::from_csv(std::io::BufReader::new(file)).map_err(|e| file_error(path, e))
}
