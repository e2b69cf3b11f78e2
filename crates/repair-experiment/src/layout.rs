//! Where an experiment keeps what: the folder of each run, of each repair unit and of
//! each joint repair, and the files that mark a stage complete. The run loop writes
//! this layout and the report crate reads it; one definition serves both.

use std::path::{Path, PathBuf};

use repair_metrics::{RepairRow, STUDY_METHOD};
use repair_pipeline::Result;
use repair_pipeline::{
    read_csv_rows, read_json, write_csv_rows, ClassAccuracyRow, ExperimentClassRow, RepairKey,
    CLASS_ACCURACY_CSV,
};
use repair_train::TrainReport;

use crate::experiment_config::ExperimentConfig;

/// The joint repairs' rows, beside `repairs.csv`.
pub const JOINT_CSV: &str = "joint.csv";

/// What `RUN/trained.json` records: the run's training ended and the activations of
/// every checkpoint to repair are cached. Written last, so its presence marks the run's
/// training stage complete — also for shards that did not train it.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct TrainedRun {
    /// Hash of the training config, to refuse a folder trained with another one.
    pub config_hash: String,
    /// How its training ended (the training wall time is its last record's `elapsed_s`).
    pub report: TrainReport,
    /// Wall seconds of extracting the checkpoints' activations, for the per-stage times
    /// of a study.
    #[serde(default)]
    pub extract_s: f64,
}

/// The folder of run `run` (1-based) of an experiment.
pub fn run_folder(out: &Path, run: usize) -> std::path::PathBuf {
    out.join(format!("run-{run}"))
}

/// The folder of one repair unit; its `row.json` marks it complete.
pub fn unit_folder(
    out: &Path,
    run: usize,
    epoch: usize,
    class: u32,
    method: &str,
    search_seed: Option<u64>,
) -> std::path::PathBuf {
    let unit = format!("epoch-{epoch:03}/class-{class:02}");
    // The study's method keeps the folder it had before there were methods, and the
    // study's one search per unit the folder it had before repair seeds.
    let dir = match method {
        STUDY_METHOD => run_folder(out, run).join("repairs").join(unit),
        other => run_folder(out, run)
            .join("repairs")
            .join(repair_core::file_name_part(other))
            .join(unit),
    };
    match search_seed {
        None => dir,
        Some(seed) => dir.join(format!("search-seed-{seed}")),
    }
}

/// The unit folder of a `repairs.csv` row.
pub fn row_folder(out: &Path, r: &RepairRow) -> PathBuf {
    unit_folder(
        out,
        r.run,
        r.epoch,
        r.target_class,
        &r.method,
        r.search_seed,
    )
}

/// The search seeds of each unit: `None` (the problem's seed, the study's one search),
/// then 1, 2, … up to `repair_seeds` searches.
pub fn search_seeds(config: &ExperimentConfig) -> Vec<Option<u64>> {
    std::iter::once(None)
        .chain((1..config.repair.repair_seeds as u64).map(Some))
        .collect()
}

/// The unit folder of the joint repair of every target class at `epoch` with `method`.
pub fn joint_folder(out: &Path, run: usize, epoch: usize, method: &str) -> PathBuf {
    run_folder(out, run)
        .join("repairs")
        .join(repair_core::file_name_part(&joint_method(method)))
        .join(format!("epoch-{epoch:03}"))
}

/// The `method` label of a joint repair with `method`.
pub fn joint_method(method: &str) -> String {
    format!("{method}-joint")
}

/// `RUN/trained.json`, if the run's training stage is complete.
pub fn load_trained(dir: &Path) -> Result<Option<TrainedRun>> {
    let path = dir.join("trained.json");
    if !path.is_file() {
        return Ok(None);
    }
    read_json(&path).map(Some)
}

/// Saved checkpoints up to the converged one (and after it on request).
pub fn checkpoints_to_repair(config: &ExperimentConfig, report: &TrainReport) -> Vec<usize> {
    report
        .checkpoints
        .iter()
        .copied()
        .filter(|&e| config.repair.after_convergence || e <= report.converged_epoch)
        .collect()
}

/// `class_accuracy.csv` of the whole experiment: every repair unit's per-class rows,
/// keyed by run, seed, checkpoint and repaired class, in `repairs.csv` order.
pub fn write_experiment_class_accuracy(out: &Path, rows: &[RepairRow]) -> Result<()> {
    let mut all = Vec::new();
    // The study's one search per unit (a unit's repeats with other search seeds stay
    // in their folders).
    for r in rows.iter().filter(|r| r.search_seed.is_none()) {
        let unit = row_folder(out, r);
        let classes: Vec<ClassAccuracyRow> = read_csv_rows(&unit.join(CLASS_ACCURACY_CSV))?;
        let repair = RepairKey {
            method: r.method.to_string(),
            run: r.run,
            seed: r.seed,
            epoch: r.epoch,
            target_class: r.target_class,
        };
        all.extend(classes.into_iter().map(|class| ExperimentClassRow {
            repair: repair.clone(),
            class,
        }));
    }
    write_csv_rows(&out.join(CLASS_ACCURACY_CSV), &all)
}
