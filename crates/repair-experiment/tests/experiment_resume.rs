//! A tiny experiment on real GTSRB: it writes one row per run × checkpoint × class, and
//! a rerun after losing units (a repair's result, a checkpoint's cached activations,
//! `repairs.csv`) rebuilds exactly the same files; and the same experiment run as two
//! shards, stage by stage (their repairs at the same time), then collected, gives the
//! same rows. A second writer of a folder is refused; a killed writer's temporary is
//! removed.

use std::path::PathBuf;

#[path = "../../../fixtures/data_root.rs"]
mod data_root;

use repair_experiment::{run_experiment, ExperimentFile, ExperimentRun, FolderLock, Shard, Stage};
use repair_pipeline::Compute;
use repair_report::StudyReport;

#[test]
fn a_rerun_after_losing_units_gives_identical_files() {
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../experiments/gtsrb.toml");
    let file = ExperimentFile::load(&shipped).unwrap();
    let settings = [
        "train.seeds=[7]",
        "data.train_every=40",
        "data.val_every=20",
        "data.repair_every=20",
        "data.test_every=20",
        "train.max_epochs=2",
        "repair.worst_classes=2",
        "repair.particles=20",
        "repair.iterations=12",
    ]
    .map(String::from);
    let config = file
        .profile("quick")
        .unwrap()
        .with_overrides(&settings)
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = ExperimentRun {
        dataset: "gtsrb",
        config: &config,
        data_dir: &data_root::data_root().join("gtsrb"),
        out: out.path(),
        compute: Compute::cpu(),
        shard: Shard::WHOLE,
        stage: Stage::All,
    };
    let outcome = run_experiment(&run, &StudyReport).unwrap();
    // The whole run writes its own report, for the config's α values.
    let report = outcome.report.expect("a whole run reports");
    assert_eq!(report.repairs, outcome.rows.len());
    assert!(out.path().join("table1.md").is_file());
    let rows = outcome.rows;
    // Checkpoints 1 and 2 (checkpoint_every 1) up to convergence, 2 classes.
    let epochs: std::collections::BTreeSet<usize> = rows.iter().map(|r| r.epoch).collect();
    assert!(!epochs.is_empty() && epochs.iter().all(|&e| e <= rows[0].converged_epoch));
    assert_eq!(rows.len(), epochs.len() * 2);
    let csv = out.path().join("repairs.csv");
    let first = std::fs::read_to_string(&csv).unwrap();
    let unit = out.path().join(format!(
        "run-1/repairs/epoch-{:03}/class-{:02}",
        rows[0].epoch, rows[0].target_class
    ));
    let weights_before = std::fs::read(unit.join("weights.csv")).unwrap();
    // A unit's repair.json has the schema of `xtask repair`'s, and agrees with its row.
    let report: repair_pipeline::RepairReport =
        serde_json::from_slice(&std::fs::read(unit.join("repair.json")).unwrap()).unwrap();
    assert_eq!(report.test_after.unwrap().class, rows[0].repaired_acc_cls);
    assert_eq!(Some(report.sites.len()), rows[0].n_sites);
    assert!(report.checkpoint.ends_with(format!(
        "run-1/checkpoints/epoch-{:03}.safetensors",
        rows[0].epoch
    )));

    std::fs::remove_file(unit.join("row.json")).unwrap();
    std::fs::remove_file(unit.join("weights.csv")).unwrap();
    std::fs::remove_file(out.path().join(format!(
        "run-1/activations/epoch-{:03}.safetensors",
        rows[0].epoch
    )))
    .unwrap();
    std::fs::remove_file(&csv).unwrap();
    // A writer killed between writing and renaming left its temporary; the rerun
    // removes it.
    let stray = unit.join(".weights.csv.999999.tmp");
    std::fs::write(&stray, "half a file").unwrap();
    // While another process holds the folder, a run is refused naming it.
    {
        let _held = FolderLock::acquire(out.path(), Shard::WHOLE).unwrap();
        let e = run_experiment(&run, &StudyReport).unwrap_err().to_string();
        let pid = format!("PID {} on", std::process::id());
        assert!(
            e.contains("being written by another experiment") && e.contains(&pid),
            "{e}"
        );
        assert!(
            stray.exists() && !csv.exists(),
            "a refused run wrote or removed something"
        );
    }
    let again = run_experiment(&run, &StudyReport).unwrap().rows;
    assert!(!stray.exists());
    // Identical but for the wall time of the redone repair.
    assert_eq!(timeless(&again), timeless(&rows));
    assert_eq!(
        without_time(&std::fs::read_to_string(&csv).unwrap()),
        without_time(&first)
    );
    assert_eq!(
        std::fs::read(unit.join("weights.csv")).unwrap(),
        weights_before
    );

    // The same experiment as shards 1/2 and 2/2 in another folder.
    let sharded_out = tempfile::tempdir().unwrap();
    let shard = |i: usize, stage: Stage| ExperimentRun {
        out: sharded_out.path(),
        shard: Shard::new(i, 2).unwrap(),
        stage,
        ..run.clone()
    };
    // Shard 2 owns no training run (one seed), so its repairs must wait for shard 1's.
    assert!(run_experiment(&shard(2, Stage::Train), &StudyReport)
        .unwrap()
        .rows
        .is_empty());
    let early = run_experiment(&shard(2, Stage::Repair), &StudyReport)
        .unwrap_err()
        .to_string();
    assert!(
        early.contains("run-1") && early.contains("--stage train"),
        "{early}"
    );
    assert!(run_experiment(&shard(1, Stage::Train), &StudyReport)
        .unwrap()
        .rows
        .is_empty());
    // The two shards' repairs at the same time, on the one folder (as a Slurm array).
    let (first_half, second) = std::thread::scope(|s| {
        let one = s.spawn(|| run_experiment(&shard(1, Stage::Repair), &StudyReport));
        let two = s.spawn(|| run_experiment(&shard(2, Stage::Repair), &StudyReport));
        (one.join().unwrap().unwrap(), two.join().unwrap().unwrap())
    });
    assert!(second.report.is_none());
    let (first_half, second) = (first_half.rows, second.rows);
    assert_eq!(first_half.len() + second.len(), rows.len());
    assert!(!sharded_out.path().join("repairs.csv").exists());
    let collected = run_experiment(
        &ExperimentRun {
            out: sharded_out.path(),
            ..run.clone()
        },
        &StudyReport,
    )
    .unwrap()
    .rows;
    assert_eq!(timeless(&collected), timeless(&rows));
}

fn timeless(rows: &[repair_metrics::RepairRow]) -> Vec<repair_metrics::RepairRow> {
    rows.iter()
        .map(|r| repair_metrics::RepairRow {
            repair_ms: Some(0.0),
            base_balanced_acc: None,
            repaired_balanced_acc: None,
            base_share_cls: None,
            repaired_share_cls: None,
            ..r.clone()
        })
        .collect()
}

/// The CSV without its `repair_ms` column.
fn without_time(csv: &str) -> Vec<Vec<String>> {
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let t = header.iter().position(|&h| h == "repair_ms").unwrap();
    csv.lines()
        .map(|l| {
            l.split(',')
                .enumerate()
                .filter(|&(k, _)| k != t)
                .map(|(_, v)| v.to_string())
                .collect()
        })
        .collect()
}
