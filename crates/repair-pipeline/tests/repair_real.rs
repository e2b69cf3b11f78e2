//! A real repair: train `cnn-s` briefly on a GTSRB subset, repair its worst class with
//! the study's FL + PSO, check RR, the search history and the files; and the errors a
//! user meets (class out of range, missing or mismatched checkpoint, nothing to repair).

use std::path::PathBuf;

#[path = "../../../fixtures/data_root.rs"]
mod data_root;
use std::sync::OnceLock;

use candle_core::Device;
use repair_core::{DenseLayer, LabelledActivations};
use repair_core::{NoProgress, RepairRequest};
use repair_data::{load_gtsrb, Corpus, Split, SplitConfig, SplitPart};
use repair_method::{repair_layer, RepairSettings};
use repair_pipeline::{
    load_checkpoint, repair_problem_file, repair_unit, train_run, Compute, LoadedCheckpoint,
    PipelineError, RepairReport, RunManifest, TrainRunOptions, UnitOutputs, REPAIRED_LAYER,
};
use repair_train::TrainConfig;
use repair_zoo::{build_model, Classifier, ModelSpec};

fn spec() -> ModelSpec {
    ModelSpec {
        arch: repair_core::Arch::CnnS,
        input: (3, 32, 32),
        num_classes: 43,
        seed: 21,
    }
}

/// One briefly trained model shared by the tests: (corpus, a split whose repair and
/// test parts are cut down to every 4th / 8th image, run folder, checkpoint).
struct Trained {
    corpus: Corpus,
    split: Split,
    _dir: tempfile::TempDir,
    checkpoint: PathBuf,
    loaded: LoadedCheckpoint,
}

fn trained() -> &'static Trained {
    static TRAINED: OnceLock<Trained> = OnceLock::new();
    TRAINED.get_or_init(|| {
        let corpus = load_gtsrb(&data_root::data_root().join("gtsrb"))
            .expect("set EARLY_REPAIR_DATA to the shared datasets folder");
        let mut split = Split::make(&corpus, &SplitConfig::study("gtsrb", 42)).unwrap();
        let every = |v: &[usize], k: usize| v.iter().step_by(k).copied().collect::<Vec<_>>();
        let train_set = corpus.images().subset(every(&split.train, 8));
        let val_set = corpus.images().subset(every(&split.val, 10));
        split.repair = every(&split.repair, 4);
        split.test = every(&split.test, 8);
        let config = TrainConfig {
            max_epochs: 2,
            batch_size: 64,
            ..TrainConfig::paper(21)
        };
        let dir = tempfile::tempdir().unwrap();
        let report = train_run(
            dir.path(),
            &spec(),
            &config,
            &train_set,
            &val_set,
            &Compute::cpu(),
            TrainRunOptions::default(),
        )
        .unwrap();
        let checkpoint = dir.path().join(format!(
            "checkpoints/epoch-{:03}.safetensors",
            report.epochs
        ));
        assert!(checkpoint.is_file());
        let run = RunManifest::for_checkpoint(&checkpoint).unwrap();
        assert_eq!(run.model, spec());
        let loaded = load_checkpoint(&checkpoint, &run, &corpus, &split, &Compute::cpu()).unwrap();
        Trained {
            corpus,
            split,
            _dir: dir,
            checkpoint,
            loaded,
        }
    })
}

/// The class with the most misclassified repair inputs.
fn worst_class(layer: &DenseLayer, rows: &LabelledActivations) -> u32 {
    let predicted = layer.view().predict(rows).unwrap();
    let mut wrong = [0usize; 43];
    for (&p, &y) in predicted.iter().zip(&rows.labels) {
        wrong[y as usize] += usize::from(p != y);
    }
    (0..43).max_by_key(|&c| wrong[c]).unwrap() as u32
}

#[test]
fn repairing_the_worst_class_fixes_some_negatives_and_the_search_never_loses_ground() {
    let t = trained();
    let run = RunManifest::for_checkpoint(&t.checkpoint).unwrap();
    assert_eq!(run.model, spec());
    let loaded = &t.loaded;
    assert_eq!(
        loaded.repair.len(),
        t.split.indices(SplitPart::Repair).len()
    );
    let class = worst_class(&loaded.layer, &loaded.repair);
    let out = tempfile::tempdir().unwrap();
    let request = RepairRequest::study(class, 3);
    let settings = RepairSettings::requested(&request).unwrap();
    let outputs = UnitOutputs {
        repaired_model: Some(&loaded.model),
        export_problem: true,
        ..UnitOutputs::default()
    };
    let report = repair_unit(&loaded.input("gtsrb"), &settings, out.path(), &outputs).unwrap();
    assert!(report.outcome.negatives > 0 && !report.outcome.nothing_to_repair);
    assert!(!report.sites.is_empty());
    assert!(
        report.outcome.rr > 0.0,
        "RR {} on {} negatives",
        report.outcome.rr,
        report.outcome.negatives
    );
    let (before, after) = (
        report.outcome.fitness_before.unwrap(),
        report.outcome.fitness_after.unwrap(),
    );
    assert!(after.n_patched > before.n_patched, "{before:?} → {after:?}");

    // The search's best never decreases, iteration after iteration.
    let history = std::fs::read_to_string(out.path().join("history.csv")).unwrap();
    let best: Vec<f64> = history
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(best.len() >= 12);
    assert!(best.windows(2).all(|w| w[1] >= w[0]), "{best:?}");
    assert_eq!(*best.last().unwrap(), after.fitness);

    // The files: weights.csv lists the sites; the repaired checkpoint carries them.
    let weights = std::fs::read_to_string(out.path().join("weights.csv")).unwrap();
    assert_eq!(weights.lines().count(), report.sites.len() + 1);
    for name in [
        "repair.json",
        "class_accuracy.csv",
        "localisation.csv",
        "pareto_front.svg",
        "problem.json",
        "problem.safetensors",
    ] {
        assert!(out.path().join(name).is_file(), "{name}");
    }
    let json = std::fs::read(out.path().join("repair.json")).unwrap();
    let written: RepairReport = serde_json::from_slice(&json).unwrap();
    // repair.json holds all but the per-weight, per-candidate and per-iteration records
    // (weights.csv, localisation.csv, history.csv): it reads back to the same file.
    assert_eq!(
        serde_json::to_value(&written).unwrap(),
        serde_json::to_value(&report).unwrap()
    );
    assert!(written.outcome.changes.is_empty() && !report.outcome.changes.is_empty());
    let reloaded = build_model(&spec(), &Device::Cpu).unwrap();
    repair_zoo::Classifier::load(&reloaded, &out.path().join("repaired.safetensors")).unwrap();
    let repaired = reloaded.last_layer().unwrap();
    let (_, outcome) = repair_layer(&loaded.layer, &loaded.repair, &settings, &NoProgress).unwrap();
    for change in &outcome.changes {
        let k = change.site.i * 43 + change.site.j;
        assert_eq!(repaired.kernel[k], change.repaired);
        assert_ne!(loaded.layer.kernel[k], change.repaired);
    }
    // The same seed gives the same repair.
    assert_eq!(outcome.rr, report.outcome.rr);

    // The exported problem, repaired as a problem file with the same
    // settings, gives the same weights (its sites searched, no FL) — and again with
    // FL on the file's sets, the same sites.
    for relocalise in [false, true] {
        let again = tempfile::tempdir().unwrap();
        let exported = out.path().join("problem.safetensors");
        let by_file =
            repair_problem_file(&exported, &request, relocalise, again.path(), &NoProgress)
                .unwrap();
        assert_eq!(by_file.sites, report.sites);
        assert_eq!(
            Some(by_file.score.fitness_after),
            report.outcome.fitness_after
        );
        assert_eq!(
            std::fs::read_to_string(again.path().join("weights.csv")).unwrap(),
            weights
        );
        let layer = std::fs::read(again.path().join(REPAIRED_LAYER)).unwrap();
        let layer = safetensors::SafeTensors::deserialize(&layer).unwrap();
        let kernel = layer.tensor("kernel").unwrap();
        assert_eq!(kernel.shape(), [repaired.width, 43]);
        let values: Vec<f32> = kernel
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(values, repaired.kernel);
    }
}

/// Arachne v2's DE in place of the PSO, on the same real checkpoint and class:
/// same localisation, a fitness at least as good as the checkpoint's, exactly repeated
/// by its seed, and its evaluations those of population × (generations run + 1); a
/// search seed apart from the problem's seed changes the search, not the problem.
#[test]
fn the_de_search_repairs_the_same_sites_and_repeats_with_its_seed() {
    let t = trained();
    let class = worst_class(&t.loaded.layer, &t.loaded.repair);
    let pso = RepairSettings::study(class, 3);
    let de = RepairSettings {
        search: repair_core::Search::De,
        particles: 100,
        iterations: 100,
        ..pso.clone()
    };
    let (_, by_pso) = repair_layer(&t.loaded.layer, &t.loaded.repair, &pso, &NoProgress).unwrap();
    let (layer, by_de) = repair_layer(&t.loaded.layer, &t.loaded.repair, &de, &NoProgress).unwrap();
    let sites =
        |o: &repair_method::RepairOutcome| -> Vec<_> { o.changes.iter().map(|c| c.site).collect() };
    assert_eq!(sites(&by_de), sites(&by_pso));
    let (before, after) = (by_de.fitness_before.unwrap(), by_de.fitness_after.unwrap());
    assert!(after.fitness >= before.fitness, "{after:?} < {before:?}");
    assert_eq!(by_de.evaluations, 100 * (by_de.history.len() as u64 + 1));
    let (again, repeat) =
        repair_layer(&t.loaded.layer, &t.loaded.repair, &de, &NoProgress).unwrap();
    assert_eq!((&again, repeat.rr, repeat.br), (&layer, by_de.rr, by_de.br));
    // Another search seed: the same problem (positives, sites), another search.
    let reseeded = RepairSettings {
        search_seed: Some(99),
        ..de.clone()
    };
    let (_, other) =
        repair_layer(&t.loaded.layer, &t.loaded.repair, &reseeded, &NoProgress).unwrap();
    assert_eq!(sites(&other), sites(&by_de));
    assert_eq!(other.positives_sampled, by_de.positives_sampled);
    assert_ne!(other.history, by_de.history);
    // search_seed = seed is the default.
    let same = RepairSettings {
        search_seed: Some(de.seed),
        ..de.clone()
    };
    let (unchanged, _) =
        repair_layer(&t.loaded.layer, &t.loaded.repair, &same, &NoProgress).unwrap();
    assert_eq!(unchanged, layer);
}

#[test]
fn a_class_without_negatives_is_nothing_to_repair() {
    let t = trained();
    let loaded = &t.loaded;
    let predicted = loaded.layer.view().predict(&loaded.repair).unwrap();
    // Keep only the rows the model gets right: no class has a negative left.
    let keep: Vec<usize> = (0..loaded.repair.len())
        .filter(|&k| predicted[k] == loaded.repair.labels[k])
        .collect();
    let d = loaded.layer.width;
    let rows = LabelledActivations {
        activations: keep
            .iter()
            .flat_map(|&k| loaded.repair.activations[k * d..(k + 1) * d].to_vec())
            .collect(),
        labels: keep.iter().map(|&k| loaded.repair.labels[k]).collect(),
    };
    let (layer, outcome) = repair_layer(
        &loaded.layer,
        &rows,
        &RepairSettings::study(1, 0),
        &NoProgress,
    )
    .unwrap();
    assert!(outcome.nothing_to_repair);
    assert_eq!(layer, loaded.layer);
    assert!(outcome.changes.is_empty());
}

#[test]
fn bad_requests_are_clear_errors() {
    let t = trained();
    let run = RunManifest::for_checkpoint(&t.checkpoint).unwrap();
    let loaded = &t.loaded;
    let err = repair_layer(
        &loaded.layer,
        &loaded.repair,
        &RepairSettings::study(43, 0),
        &NoProgress,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("class 43 is out of range: the model has 43 classes"),
        "{err}"
    );

    let missing = t.checkpoint.with_file_name("epoch-999.safetensors");
    let err = load_checkpoint(&missing, &run, &t.corpus, &t.split, &Compute::cpu())
        .err()
        .unwrap();
    assert!(
        matches!(err, PipelineError::File { .. }) && err.to_string().contains("epoch-999"),
        "{err}"
    );

    // The checkpoint read as a wider model: a mis-shaped tensor, named.
    let wider = RunManifest {
        model: ModelSpec {
            arch: repair_core::Arch::CnnM,
            ..spec()
        },
        ..run.clone()
    };
    let err = load_checkpoint(&t.checkpoint, &wider, &t.corpus, &t.split, &Compute::cpu())
        .err()
        .unwrap();
    assert!(
        err.to_string().contains(&*t.checkpoint.to_string_lossy()),
        "{err}"
    );

    let ten = RunManifest {
        model: ModelSpec {
            num_classes: 10,
            ..spec()
        },
        ..run.clone()
    };
    let err = load_checkpoint(&t.checkpoint, &ten, &t.corpus, &t.split, &Compute::cpu())
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("the model has 10 classes, the dataset 43"),
        "{err}"
    );
}

/// The repair seed on which a 4 × 2 swarm ends below this checkpoint's own layer for its
/// worst class (found by trying seeds 0, 1, 2, …: the first one does).
const WORSE_SEED: u64 = 0;

/// The safeguard on a checkpoint's repair: where the unguarded search ends below the
/// checkpoint's layer, the guarded repair writes the checkpoint's own weights as
/// `repaired.safetensors`, its report says `kept_original`, and the test accuracy is
/// unchanged.
#[test]
fn a_checkpoint_whose_search_ends_below_it_is_returned_unchanged() {
    let t = trained();
    let class = worst_class(&t.loaded.layer, &t.loaded.repair);
    let settings = |keep_worse| {
        RepairSettings::requested(&RepairRequest {
            particles: 4,
            iterations: 2,
            keep_worse,
            ..RepairRequest::study(class, WORSE_SEED)
        })
        .unwrap()
    };
    let outputs = UnitOutputs {
        repaired_model: Some(&t.loaded.model),
        ..UnitOutputs::default()
    };
    let worse = tempfile::tempdir().unwrap();
    let input = t.loaded.input("gtsrb");
    let unguarded = repair_unit(&input, &settings(true), worse.path(), &outputs).unwrap();
    let (before, after) = (
        unguarded.outcome.fitness_before.unwrap(),
        unguarded.outcome.fitness_after.unwrap(),
    );
    assert!(
        after.fitness < before.fitness,
        "seed {WORSE_SEED} no longer ends below the checkpoint: {} → {}",
        before.fitness,
        after.fitness
    );
    let out = tempfile::tempdir().unwrap();
    let report = repair_unit(&input, &settings(false), out.path(), &outputs).unwrap();
    assert!(report.outcome.kept_original);
    assert_eq!(report.outcome.fitness_before, Some(before));
    assert_eq!(report.outcome.fitness_after, Some(after));
    assert_eq!((report.outcome.rr, report.outcome.br), (0.0, 0.0));
    assert_eq!(report.test_after, report.test_before);
    let written = build_model(&spec(), &Device::Cpu).unwrap();
    written
        .load(&out.path().join("repaired.safetensors"))
        .unwrap();
    assert_eq!(written.last_layer().unwrap(), t.loaded.layer, "bit for bit");
    let json: RepairReport =
        serde_json::from_slice(&std::fs::read(out.path().join("repair.json")).unwrap()).unwrap();
    assert!(json.outcome.kept_original);
}
