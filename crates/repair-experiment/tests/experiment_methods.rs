//! The repair methods in a tiny experiment on real GTSRB: the study's folder takes the
//! other methods without retraining (its own units reused byte for byte), every method
//! has its rows, unit folders and Table 1 rows, the adaptive units record their phases,
//! the history units their earlier checkpoint, and `verify` accepts the folder.

use std::collections::BTreeSet;
use std::path::PathBuf;

#[path = "../../../fixtures/data_root.rs"]
mod data_root;

use repair_core::MethodName;
use repair_experiment::{
    run_experiment, ExperimentConfig, ExperimentFile, ExperimentRun, Shard, Stage,
};
use repair_method::Strategy;
use repair_metrics::{from_csv, Table1Row};
use repair_pipeline::{Compute, RepairReport};
use repair_report::{verify_experiment, StudyReport};

fn config(settings: &[&str]) -> ExperimentConfig {
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../experiments/gtsrb.toml");
    let base = [
        "train.seeds=[7]",
        "data.train_every=40",
        "data.val_every=20",
        "data.repair_every=20",
        "data.test_every=20",
        "train.max_epochs=3",
        "train.patience=3",
        "train.checkpoint_every=1",
        "repair.worst_classes=2",
        "repair.particles=20",
        "repair.iterations=15",
        "repair.de_generations=15",
    ];
    let all: Vec<String> = base.iter().chain(settings).map(|s| s.to_string()).collect();
    ExperimentFile::load(&shipped)
        .unwrap()
        .profile("quick")
        .unwrap()
        .with_overrides(&all)
        .unwrap()
}

fn run(config: &ExperimentConfig, out: &std::path::Path) -> Vec<repair_metrics::RepairRow> {
    let data = data_root::data_root().join("gtsrb");
    let run = ExperimentRun {
        dataset: "gtsrb",
        config,
        data_dir: &data,
        out,
        compute: Compute::cpu(),
        shard: Shard::WHOLE,
        stage: Stage::All,
    };
    run_experiment(&run, &StudyReport).unwrap().rows
}

#[test]
fn every_method_repairs_the_same_checkpoints_and_reports_its_own_table() {
    let out = tempfile::tempdir().unwrap();
    let study = config(&[]);
    let first = run(&study, out.path());
    assert!(first.iter().all(|r| r.method.as_str() == "arachne"));
    let unit = |r: &repair_metrics::RepairRow, method: &str| {
        let base = out.path().join(format!("run-{}/repairs", r.run));
        let leaf = format!("epoch-{:03}/class-{:02}", r.epoch, r.target_class);
        match method {
            "arachne" => base.join(leaf),
            m => base.join(m).join(leaf),
        }
    };
    let study_weights = std::fs::read(unit(&first[0], "arachne").join("weights.csv")).unwrap();

    let methods = config(&[r#"repair.methods=["arachne", "de", "adaptive", "history"]"#]);
    let rows = run(&methods, out.path());
    assert_eq!(rows.len(), 4 * first.len());
    // The study's units are the same repairs, reused.
    let again: Vec<_> = rows
        .iter()
        .filter(|r| r.method.as_str() == "arachne")
        .collect();
    assert_eq!(again.len(), first.len());
    for (a, b) in again.iter().zip(&first) {
        assert_eq!(a.repaired_acc_cls, b.repaired_acc_cls);
    }
    assert_eq!(
        std::fs::read(unit(&first[0], "arachne").join("weights.csv")).unwrap(),
        study_weights
    );
    for method in MethodName::ALL {
        let of: Vec<_> = rows
            .iter()
            .filter(|r| r.method.as_str() == method.as_str())
            .collect();
        assert_eq!(of.len(), first.len(), "{method}");
        for r in of {
            let dir = unit(r, method.as_str());
            let report: RepairReport =
                serde_json::from_slice(&std::fs::read(dir.join("repair.json")).unwrap()).unwrap();
            assert_eq!(
                report.settings,
                methods
                    .repair
                    .settings_for(method, r.target_class, r.seed.unwrap())
                    .unwrap()
            );
            let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
            assert!(history.starts_with("iteration,best,mean,evaluations,elapsed_s,phase\n"));
            match method {
                MethodName::De => assert_eq!(report.outcome.evaluations % 20, 0),
                MethodName::Adaptive => {
                    assert!(
                        !report.outcome.phases.is_empty() && report.outcome.adaptive_stop.is_some()
                    );
                    // Each phase's iterations are in history.csv under its number.
                    let phases: BTreeSet<&str> = history
                        .lines()
                        .skip(1)
                        .map(|l| l.rsplit(',').next().unwrap())
                        .collect();
                    assert_eq!(phases.len(), report.outcome.phases.len(), "{history}");
                    assert!(
                        report
                            .outcome
                            .phases
                            .iter()
                            .map(|p| p.iterations)
                            .sum::<usize>()
                            <= 15
                    );
                }
                MethodName::History => {
                    assert!(matches!(report.settings.strategy, Strategy::History { .. }));
                    // The earlier checkpoint is one before this one, never epoch 1's own.
                    if let Some(e) = report.earlier_epoch {
                        assert!(e < r.epoch, "{e} ≥ {}", r.epoch);
                    }
                    if r.epoch == 1 {
                        assert_eq!(report.earlier_epoch, None);
                    }
                }
                MethodName::Arachne => assert!(report.outcome.phases.is_empty()),
            }
        }
    }
    // One Table 1 row per (method, α), the study's first.
    let table: Vec<Table1Row> =
        from_csv(&std::fs::read(out.path().join("table1.csv")).unwrap()[..]).unwrap();
    assert_eq!(table.len(), 4 * methods.report.alphas.len());
    assert_eq!(table[0].key.method.as_str(), "arachne");
    let md = std::fs::read_to_string(out.path().join("table1.md")).unwrap();
    assert!(md.contains("| gtsrb | adaptive | 0.5 |"), "{md}");
    // Each method's figures of each (run, class).
    for r in rows.iter().filter(|r| r.method.as_str() == "history") {
        let name = format!(
            "figures/quality-gtsrb-cnn-s-run{}-class{}-history.svg",
            r.run, r.target_class
        );
        assert!(out.path().join(&name).is_file(), "{name}");
    }
    let verified = verify_experiment(out.path(), &methods).unwrap();
    assert_eq!(verified.repairs, rows.len());

    // Both classes at once, per checkpoint and method, against the single repairs.
    let joint = config(&[
        r#"repair.methods=["arachne", "de", "adaptive", "history"]"#,
        "repair.joint=true",
    ]);
    let again = run(&joint, out.path());
    assert_eq!(again, rows, "the single units are reused");
    let joint_rows = repair_metrics::read_repairs(&out.path().join("joint.csv")).unwrap();
    assert_eq!(
        joint_rows.len(),
        rows.len(),
        "one row per class of each joint unit"
    );
    assert!(joint_rows.iter().all(|r| r.method.ends_with("-joint")));
    let dir = out.path().join(format!(
        "run-1/repairs/arachne-joint/epoch-{:03}",
        first[0].epoch
    ));
    let report: RepairReport =
        serde_json::from_slice(&std::fs::read(dir.join("repair.json")).unwrap()).unwrap();
    let classes: BTreeSet<u32> = first.iter().map(|r| r.target_class).collect();
    assert_eq!(
        report
            .joint_test
            .iter()
            .map(|c| c.class)
            .collect::<BTreeSet<_>>(),
        classes
    );
    let multiclass: Vec<repair_metrics::MulticlassRow> =
        from_csv(&std::fs::read(out.path().join("multiclass.csv")).unwrap()[..]).unwrap();
    assert_eq!(multiclass.len(), 4 * joint.report.alphas.len());
    let md = std::fs::read_to_string(out.path().join("multiclass.md")).unwrap();
    assert!(md.contains("| gtsrb | history |"), "{md}");
    verify_experiment(out.path(), &joint).unwrap();
    // The folder as the study's again: its Table 1 has the study's rows only.
    let back = run(&study, out.path());
    assert_eq!(back.len(), first.len());
    verify_experiment(out.path(), &study).unwrap();
}

#[test]
fn repair_seeds_repeat_each_search_on_the_same_problem_and_split_the_variance() {
    let out = tempfile::tempdir().unwrap();
    let once = run(&config(&[]), out.path());
    let table_once = std::fs::read(out.path().join("table1.csv")).unwrap();
    let thrice = config(&["repair.repair_seeds=3"]);
    let rows = run(&thrice, out.path());
    assert_eq!(rows.len(), 3 * once.len());
    let seeds: BTreeSet<Option<u64>> = rows.iter().map(|r| r.search_seed).collect();
    assert_eq!(seeds, [None, Some(1), Some(2)].into_iter().collect());
    // The first search of each unit is the study's, reused; the tables are its.
    let first: Vec<_> = rows
        .iter()
        .filter(|r| r.search_seed.is_none())
        .cloned()
        .collect();
    assert_eq!(first, once);
    assert_eq!(
        std::fs::read(out.path().join("table1.csv")).unwrap(),
        table_once
    );
    // A repeat is another search on the same problem: same positives and sites.
    let r = &once[0];
    let unit = out.path().join(format!(
        "run-1/repairs/epoch-{:03}/class-{:02}",
        r.epoch, r.target_class
    ));
    let read = |dir: PathBuf| -> RepairReport {
        serde_json::from_slice(&std::fs::read(dir.join("repair.json")).unwrap()).unwrap()
    };
    let (study, repeat) = (read(unit.clone()), read(unit.join("search-seed-2")));
    assert_eq!(repeat.settings.search_seed, Some(2));
    assert_eq!(
        (
            &repeat.sites,
            repeat.outcome.positives_sampled,
            repeat.outcome.negatives
        ),
        (
            &study.sites,
            study.outcome.positives_sampled,
            study.outcome.negatives
        )
    );
    let variance: Vec<repair_metrics::VarianceRow> =
        from_csv(&std::fs::read(out.path().join("variance.csv")).unwrap()[..]).unwrap();
    assert_eq!(variance.len(), thrice.report.alphas.len());
    assert!(variance.iter().all(|v| v.split.repair_seeds == 3));
    verify_experiment(out.path(), &thrice).unwrap();
}
