//! The readiness evaluation of a tiny dense experiment on real GTSRB: one series per
//! (run, class) with every epoch, `converged` stopping where training stopped, the
//! files written; the picks do not move when the test columns change; a grid with a
//! gap is refused naming it.

use std::path::{Path, PathBuf};

#[path = "../../../fixtures/data_root.rs"]
mod data_root;

use repair_experiment::{
    run_experiment, ExperimentConfig, ExperimentFile, ExperimentRun, Shard, Stage,
};
use repair_metrics::RepairRow;
use repair_pipeline::Compute;
use repair_readiness::rule_named;
use repair_report::{readiness_series, write_readiness, ReadinessOptions, StudyReport};

fn dense_config(extra: &[&str]) -> ExperimentConfig {
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../experiments/gtsrb.toml");
    let file = ExperimentFile::load(&shipped).unwrap();
    let mut settings: Vec<String> = [
        "train.seeds=[7]",
        "data.train_every=40",
        "data.val_every=20",
        "data.repair_every=20",
        "data.test_every=20",
        "train.max_epochs=4",
        "train.checkpoint_every=1",
        "repair.after_convergence=true",
        "repair.worst_classes=2",
        "repair.particles=20",
        "repair.iterations=12",
    ]
    .map(String::from)
    .to_vec();
    settings.extend(extra.iter().map(|s| s.to_string()));
    file.profile("quick")
        .unwrap()
        .with_overrides(&settings)
        .unwrap()
}

/// What an online run of `config` trains: the GTSRB corpus, the split (`split_file`, else
/// the study's with seed 42) thinned as `config` says, and the model of seed 7.
fn online_run(
    config: &ExperimentConfig,
    split_file: Option<&Path>,
) -> (
    repair_data::Corpus,
    repair_data::Split,
    repair_zoo::ModelSpec,
) {
    let corpus = repair_data::Manifest::builtin("gtsrb")
        .unwrap()
        .load(&data_root::data_root().join("gtsrb"))
        .unwrap();
    let split = match split_file {
        Some(path) => repair_data::Split::load(path, &corpus),
        None => repair_data::Split::make(&corpus, &repair_data::SplitConfig::study("gtsrb", 42)),
    }
    .unwrap();
    let split = config.data.thin(split, corpus.images()).unwrap();
    let shape = repair_data::Dataset::image_shape(corpus.images());
    let spec = repair_zoo::ModelSpec {
        arch: config.train.model,
        input: (shape.channels, shape.height, shape.width),
        num_classes: repair_data::Dataset::num_classes(corpus.images()),
        seed: 7,
    };
    (corpus, split, spec)
}

fn run(config: &ExperimentConfig, out: &Path) -> Vec<RepairRow> {
    let run = ExperimentRun {
        dataset: "gtsrb",
        config,
        data_dir: &data_root::data_root().join("gtsrb"),
        out,
        compute: Compute::cpu(),
        shard: Shard::WHOLE,
        stage: Stage::All,
    };
    run_experiment(&run, &StudyReport).unwrap().rows
}

fn options() -> ReadinessOptions {
    ReadinessOptions {
        rules: ["best-repaired:1", "saturated:1:0:0"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect(),
        alphas: vec![0.2, 0.8],
        patience: 3,
        resamples: 200,
        seed: 1,
        cross_fit: repair_readiness::CrossFitOptions {
            resamples: 20,
            ..Default::default()
        },
    }
}

#[test]
fn a_dense_experiment_evaluates_and_the_test_columns_do_not_move_a_pick() {
    let config = dense_config(&[]);
    let out = tempfile::tempdir().unwrap();
    let rows = run(&config, out.path());
    let last = rows.iter().map(|r| r.epoch).max().unwrap();
    assert!(rows.iter().all(|r| r.selection_repaired_acc_cls.is_some()));
    let series = readiness_series(out.path()).unwrap();
    assert_eq!(series.len(), 2);
    for s in &series {
        let epochs: Vec<usize> = s.signals.iter().map(|e| e.epoch).collect();
        assert_eq!(epochs, (1..=last).collect::<Vec<_>>());
        assert!(s.signals[0].layer_change.is_none());
        assert!(s.signals[1..].iter().all(|e| e.layer_change.unwrap() > 0.0));
    }
    let report = out.path().join("readiness");
    let summary = write_readiness(&series, &options(), &report).unwrap();
    // Per α (2) and overall, for the baseline and the two rules.
    assert_eq!(summary.summary.len(), 9);
    for name in [
        "readiness.csv",
        "readiness_picks.csv",
        "readiness_summary.csv",
        "signal_correlations.csv",
        "selection_tracking.csv",
        "readiness_gain.csv",
        "readiness.md",
        "figures/signal_correlations.svg",
    ] {
        assert!(report.join(name).is_file(), "{name}");
    }
    // Every unit kept its per-image test bits: the cross-fitted oracle is there, and no
    // higher than the test-max one.
    assert!(series.iter().all(|s| s.test_bits.is_some()));
    let gain = summary.gain.as_ref().unwrap();
    assert_eq!(gain.len(), 9);
    assert!(gain
        .iter()
        .all(|g| g.cross_fitted_oracle <= g.test_max_oracle + 1e-12));
    assert!(summary.markdown.contains("## Share of the achievable gain"));
    // One figure per (run, class), named by numbers only, and the correlations.
    let mut figures: Vec<String> = std::fs::read_dir(report.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    figures.sort();
    let classes: Vec<u32> = series.iter().map(|s| s.key.target_class).collect();
    assert_eq!(
        figures,
        [
            format!("readiness-run-1-class-{:02}.svg", classes[0]),
            format!("readiness-run-1-class-{:02}.svg", classes[1]),
            "signal_correlations.svg".to_string()
        ]
    );
    // `converged` trains as long as the run did: the dense grid ends where training did.
    for (rule, _, trained) in repair_readiness_picks(&series) {
        if rule == "converged(p=3)" {
            assert_eq!(trained, last);
        }
    }

    // The same grid with other test accuracies: the same picks and epochs.
    let picked = |dir: &Path| repair_readiness_picks(&readiness_series(dir).unwrap());
    let before = picked(out.path());
    let csv = out.path().join("repairs.csv");
    let mut changed: Vec<RepairRow> = csv::Reader::from_path(&csv)
        .unwrap()
        .deserialize()
        .map(|r| r.unwrap())
        .collect();
    for (k, r) in changed.iter_mut().enumerate() {
        r.repaired_acc_cls = (k % 5) as f64 / 5.0;
        r.repaired_acc_total = 1.0 - (k % 3) as f64 / 4.0;
        r.base_acc_cls = 0.5;
    }
    let mut writer = csv::Writer::from_path(&csv).unwrap();
    for r in &changed {
        writer.serialize(r).unwrap();
    }
    writer.flush().unwrap();
    // The units' bits no longer count those accuracies: refused, naming the epoch.
    let e = readiness_series(out.path()).unwrap_err().to_string();
    assert!(e.contains("the bits count Acc_cls"), "{e}");
    // Without the bits (a folder of an older version), the same picks and epochs.
    for r in &changed {
        let bits = repair_experiment::row_folder(out.path(), r).join("correct.safetensors");
        let _ = std::fs::remove_file(bits);
    }
    assert_eq!(picked(out.path()), before);

    // A column report does without (other tools' files) is one readiness needs: named.
    // (The seed is left out of every row: a run half with and half without one is
    // already refused by the check every reader makes.)
    type Blank = fn(&mut RepairRow);
    let cases: [(&str, Blank, bool); 3] = [
        ("rr", |r| r.rr = None, false),
        ("seed", |r| r.seed = None, true),
        ("fitness", |r| r.fitness = None, false),
    ];
    for (column, blank, every_row) in cases {
        let mut rows = changed.clone();
        let blanked = if every_row { 0..rows.len() } else { 1..2 };
        rows[blanked].iter_mut().for_each(blank);
        let mut writer = csv::Writer::from_path(&csv).unwrap();
        for r in &rows {
            writer.serialize(r).unwrap();
        }
        writer.flush().unwrap();
        let e = readiness_series(out.path()).unwrap_err().to_string();
        assert!(
            e.contains("repairs.csv") && e.contains(&format!("column `{column}` is empty")),
            "{e}"
        );
    }
    // A checkpoint of the dense grid gone: named, not a silently empty signal.
    let mut writer = csv::Writer::from_path(&csv).unwrap();
    for r in &changed {
        writer.serialize(r).unwrap();
    }
    writer.flush().unwrap();
    readiness_series(out.path()).unwrap();
    let gone = out.path().join("run-1/checkpoints/epoch-002.safetensors");
    std::fs::remove_file(&gone).unwrap();
    let e = readiness_series(out.path()).unwrap_err().to_string();
    assert!(
        e.contains("epoch-002.safetensors") && e.contains("missing"),
        "{e}"
    );
}

/// (rule, picked epoch, epochs trained) of every case.
fn repair_readiness_picks(
    series: &[repair_readiness::RepairSeries],
) -> Vec<(String, usize, usize)> {
    let alphas = [0.2, 0.8].map(|a| repair_readiness::Alpha::new(a).unwrap());
    let rules: Vec<_> = options()
        .rules
        .iter()
        .map(repair_readiness::rule_of)
        .collect();
    repair_readiness::evaluate(series, &alphas, &rules, 3)
        .into_iter()
        .map(|r| {
            (
                r.outcome.rule,
                r.outcome.picked_epoch,
                r.outcome.epochs_trained,
            )
        })
        .collect()
}

#[test]
fn a_grid_that_is_not_dense_is_refused_naming_the_gap() {
    // Checkpoints 1, 2, 4 (every 2, plus the last): epoch 3 has no repair.
    let config = dense_config(&["train.checkpoint_every=2"]);
    let out = tempfile::tempdir().unwrap();
    run(&config, out.path());
    let e = readiness_series(out.path()).unwrap_err().to_string();
    assert!(e.contains("repairs.csv") && e.contains("dense"), "{e}");
}

#[test]
fn the_online_mode_stops_and_keeps_the_model_the_offline_evaluation_picks_and_resumes() {
    let config = dense_config(&["train.max_epochs=8"]);
    let experiment = tempfile::tempdir().unwrap();
    run(&config, experiment.path());
    let series = readiness_series(experiment.path()).unwrap();
    let rule = rule_named("best-repaired:1").unwrap();
    let alpha = repair_readiness::Alpha::new(0.5).unwrap();
    let offline = repair_readiness::simulate(rule.as_ref(), &series[0].signals, alpha);
    let class = series[0].key.target_class;
    // This seed's rule stops before training ends (epoch 6 of 8, picking 5).
    assert!(offline.stopped && offline.epochs_trained < series[0].last_epoch());

    // The same run online: the experiment's split, training config and repair settings.
    let (corpus, split, spec) = online_run(&config, Some(&experiment.path().join("split.json")));
    let online = repair_pipeline::OnlineRepair {
        dataset: "gtsrb",
        rule: "best-repaired:1".parse().unwrap(),
        alpha: 0.5,
        request: config
            .repair
            .request_for(repair_core::MethodName::Arachne, class, 7),
    };
    let dir = tempfile::tempdir().unwrap();
    let go = |stop_after| {
        repair_pipeline::train_online(
            dir.path(),
            &spec,
            &config.train.config(7),
            &corpus,
            &split,
            &Compute::cpu(),
            &online,
            stop_after,
        )
        .unwrap()
    };
    // Interrupted after 2 epochs (unless the rule stopped by then), and the second
    // epoch's record lost as a kill between its checkpoint and its record would.
    if offline.epochs_trained > 2 {
        assert!(go(Some(2)).is_none());
        std::fs::remove_file(dir.path().join("online/epoch-002/record.json")).unwrap();
    }
    let report = go(None).expect("finished");
    assert_eq!(report.picked_epoch, offline.epoch);
    assert_eq!(report.epochs_trained, offline.epochs_trained);
    assert_eq!(report.stopped_by_rule, offline.stopped);
    // The same repair as the experiment's unit of that epoch, and the kept model is
    // that checkpoint with the repaired weights.
    let unit = experiment.path().join(format!(
        "run-1/repairs/epoch-{:03}/class-{class:02}",
        offline.epoch
    ));
    let online_unit = dir
        .path()
        .join(format!("online/epoch-{:03}", offline.epoch));
    assert_eq!(
        std::fs::read(unit.join("weights.csv")).unwrap(),
        std::fs::read(online_unit.join("weights.csv")).unwrap()
    );
    let layer_of = |path: &Path| {
        let model = repair_zoo::build_model(&spec, &candle_core::Device::Cpu).unwrap();
        repair_zoo::Classifier::load(&model, path).unwrap();
        repair_zoo::Classifier::last_layer(&model).unwrap()
    };
    let kept = layer_of(&report.best_repaired);
    let checkpoint = layer_of(&experiment.path().join(format!(
        "run-1/checkpoints/epoch-{:03}.safetensors",
        offline.epoch
    )));
    let repaired: repair_pipeline::RepairReport =
        serde_json::from_slice(&std::fs::read(unit.join("repair.json")).unwrap()).unwrap();
    let changed: Vec<usize> = (0..kept.kernel.len())
        .filter(|&k| kept.kernel[k] != checkpoint.kernel[k])
        .collect();
    let sites: Vec<usize> = repaired
        .sites
        .iter()
        .map(|s| s.i * kept.classes + s.j)
        .filter(|&k| kept.kernel[k] != checkpoint.kernel[k])
        .collect();
    assert_eq!(changed, {
        let mut s = sites.clone();
        s.sort_unstable();
        s
    });
    assert!(!changed.is_empty());
    assert_eq!(kept.bias, checkpoint.bias);
    let written: repair_pipeline::OnlineReport =
        serde_json::from_slice(&std::fs::read(dir.path().join("online.json")).unwrap()).unwrap();
    assert_eq!(written, report);
    // Online = offline for every rule: the signals the online run recorded are the ones
    // the offline evaluation reads from the experiment folder, so each rule decides the
    // same after every epoch.
    let recorded: Vec<repair_readiness::EpochSignals> = (1..=report.epochs_trained)
        .map(|e| {
            let path = dir.path().join(format!("online/epoch-{e:03}/record.json"));
            let epoch: repair_pipeline::OnlineEpoch =
                serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            epoch.signals
        })
        .collect();
    let offline_signals = &series[0].signals[..report.epochs_trained];
    assert!(recorded.iter().all(|s| s.selection_images.is_some()));
    for rule in [
        "converged:2",
        "best-repaired:2",
        "significant:2:1",
        "saturated",
        "smoothed",
    ] {
        let rule = rule_named(rule).unwrap();
        for t in 1..=recorded.len() {
            assert_eq!(
                rule.decide(&recorded[..t], alpha),
                rule.decide(&offline_signals[..t], alpha),
                "{} after epoch {t}",
                rule.name()
            );
        }
    }
}

#[test]
fn an_online_experiment_trains_each_run_online_and_lists_the_picks() {
    let config = dense_config(&[
        "train.max_epochs=8",
        "online.rule=best-repaired:1",
        "online.alpha=0.5",
        "repair.classes=[1]",
    ]);
    let out = tempfile::tempdir().unwrap();
    let rows = run(&config, out.path());
    let online = std::fs::read_to_string(out.path().join("online.csv")).unwrap();
    let lines: Vec<&str> = online.lines().collect();
    assert_eq!(lines.len(), 2, "{online}");
    assert!(lines[0].starts_with("run,seed,rule,alpha,class,picked_epoch,epochs_trained"));
    let trained: usize = lines[1].split(',').nth(6).unwrap().parse().unwrap();
    // The checkpoints up to the rule's stop are the experiment's units.
    let last = rows.iter().map(|r| r.epoch).max().unwrap();
    assert_eq!(last, trained);
    assert!(out.path().join("run-1/best-repaired.safetensors").is_file());
    let verified = repair_report::verify_experiment(out.path(), &config).unwrap();
    assert_eq!(verified.repairs, rows.len());
}

/// The online mode's repairs go through the safeguard: an epoch whose search ends below
/// its checkpoint keeps the checkpoint (a legal pick), and its signals record it.
#[test]
fn the_online_mode_records_the_epochs_whose_repair_kept_the_checkpoint() {
    let config = dense_config(&[]);
    let (corpus, split, spec) = online_run(&config, None);
    // A swarm of 4 × 2: small enough to end below the checkpoint at some epoch.
    let online = repair_pipeline::OnlineRepair {
        dataset: "gtsrb",
        rule: "converged".parse().unwrap(),
        alpha: 0.5,
        request: repair_core::RepairRequest {
            particles: 4,
            iterations: 2,
            ..repair_core::RepairRequest::study(1, 7)
        },
    };
    let dir = tempfile::tempdir().unwrap();
    let train = |online: &repair_pipeline::OnlineRepair<'_>| {
        let train_config = config.train.config(7);
        let compute = Compute::cpu();
        repair_pipeline::train_online(
            dir.path(),
            &spec,
            &train_config,
            &corpus,
            &split,
            &compute,
            online,
            None,
        )
    };
    let report = train(&online).unwrap().expect("finished");
    let mut kept = 0;
    for epoch in &report.epochs {
        let unit = dir
            .path()
            .join(format!("online/epoch-{:03}", epoch.signals.epoch));
        let repaired: repair_pipeline::RepairReport =
            serde_json::from_slice(&std::fs::read(unit.join("repair.json")).unwrap()).unwrap();
        assert_eq!(epoch.signals.kept_original, repaired.outcome.kept_original);
        if repaired.outcome.kept_original {
            kept += 1;
            let (before, after) = (
                repaired.outcome.fitness_before.unwrap().fitness,
                repaired.outcome.fitness_after.unwrap().fitness,
            );
            assert!(after <= before, "epoch {}", epoch.signals.epoch);
            assert_eq!(repaired.selection_after, repaired.selection_before);
            let weights = std::fs::read_to_string(unit.join("weights.csv")).unwrap();
            for line in weights.lines().skip(1) {
                let cells: Vec<&str> = line.split(',').collect();
                assert_eq!(cells[3], cells[4], "{line}");
            }
        }
    }
    assert!(
        kept > 0,
        "no epoch's 4 × 2 search ended below its checkpoint"
    );

    // A rerun with another rule, α or class would relabel these epochs' decisions:
    // refused, naming the flag and both values.
    for (rule, alpha, class, says) in [
        (
            "best-repaired",
            0.5,
            1,
            "--rule converged, not best-repaired",
        ),
        ("converged", 0.8, 1, "--alpha 0.5, not 0.8"),
        ("converged", 0.5, 2, "--repair-class 1, not 2"),
    ] {
        let other = repair_pipeline::OnlineRepair {
            dataset: "gtsrb",
            rule: rule.parse().unwrap(),
            alpha,
            request: repair_core::RepairRequest {
                particles: 4,
                iterations: 2,
                ..repair_core::RepairRequest::study(class, 7)
            },
        };
        let e = train(&other).unwrap_err().to_string();
        assert!(e.contains("settings.json") && e.contains(says), "{e}");
    }
}
