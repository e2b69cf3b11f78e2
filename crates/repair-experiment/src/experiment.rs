//! The whole study as one resumable run: split → train each seed → activations of every
//! checkpoint (cached on disk) → target classes → repair every checkpoint × class →
//! `repairs.csv`. Each unit of work (a training run, a checkpoint's activations, a
//! repair) writes its result atomically and is skipped when already there, so a killed
//! run, rerun, finishes with the same files. A [`Shard`] runs one slice of the units
//! and a [`Stage`] one half, so the work can be spread over a cluster.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::Device;
use repair_core::{DenseLayer, LabelledActivations};
use repair_data::{write_atomic, Corpus, Dataset, Manifest, Split, SplitConfig, SplitPart};
use repair_metrics::{compare_run, multiclass_markdown, ConfusionMatrix, RepairRow, ScoredRepair};
use repair_train::{TrainConfig, TrainReport};
use repair_zoo::{build_model, Classifier, ModelSpec};

use crate::experiment_config::ExperimentConfig;
use crate::folder_lock::FolderLock;
use crate::layout::{
    checkpoints_to_repair, joint_folder, joint_method, load_trained, row_folder, run_folder,
    search_seeds, unit_folder, write_experiment_class_accuracy, TrainedRun, JOINT_CSV,
};
use crate::shard::{Shard, Stage};
use repair_core::MethodName;
use repair_method::{predict, RepairSettings, Strategy};
use repair_pipeline::load_checkpoint;
use repair_pipeline::Compute;
use repair_pipeline::RunManifest;
use repair_pipeline::{file_error, PipelineError, Result};
use repair_pipeline::{
    read_csv_rows, read_json, write_csv_rows, write_json, ClassAccuracyRow, CLASS_ACCURACY_CSV,
};
use repair_pipeline::{read_rows_if_all, write_tensors};
use repair_pipeline::{repair_unit, RepairInput, RepairReport, UnitOutputs};
use repair_pipeline::{train_online, OnlineRepair, OnlineReport};
use repair_pipeline::{train_run, TrainRunOptions};

/// A checkpoint to repair: its last layer and cached activations.
struct CachedCheckpoint {
    checkpoint: PathBuf,
    model: ModelSpec,
    layer: DenseLayer,
    repair: LabelledActivations,
    selection: LabelledActivations,
    test: LabelledActivations,
    /// The layer's predictions of `repair`, made once when first asked for (the
    /// `history` method asks for every earlier checkpoint's, for every class).
    repair_predicted: std::sync::OnceLock<Vec<u32>>,
}

impl CachedCheckpoint {
    /// The checkpoint's predicted class of every repair-set row.
    fn repair_predictions(&self) -> Result<&[u32]> {
        if let Some(done) = self.repair_predicted.get() {
            return Ok(done);
        }
        let predicted = predict(&self.layer, &self.repair)?;
        Ok(self.repair_predicted.get_or_init(|| predicted))
    }

    /// What a repair unit of this checkpoint reads (no extraction time: the
    /// activations come from the cache).
    fn input<'a>(&'a self, dataset: &'a str) -> RepairInput<'a> {
        RepairInput {
            checkpoint: &self.checkpoint,
            dataset,
            model: self.model.clone().into(),
            layer: &self.layer,
            repair: &self.repair,
            selection: &self.selection,
            test: Some(&self.test),
            extract_ms: 0.0,
            earlier: None,
        }
    }
}

/// The sets of an activation cache: repair, selection (the validation split) and test.
const CACHED_SETS: [&str; 3] = ["repair", "val", "test"];

/// Where and how to run.
#[derive(Clone)]
pub struct ExperimentRun<'a> {
    /// Dataset name.
    pub dataset: &'a str,
    /// The profile.
    pub config: &'a ExperimentConfig,
    /// The dataset's folder.
    pub data_dir: &'a Path,
    /// Output folder.
    pub out: &'a Path,
    /// Device, build options and progress of training and extraction.
    pub compute: Compute<'a>,
    /// The slice of the work this process does ([`Shard::WHOLE`]: all of it).
    pub shard: Shard,
    /// Which stages it runs.
    pub stage: Stage,
}

/// The experiment's last stage: what turns the finished `repairs.csv` into the study's
/// tables and figures. The run loop knows only this seam; `repair-report`'s
/// `StudyReport` implements it. The report reads the folder layout and config this crate
/// defines, so this crate cannot name it — as ripgrep's searcher knows only the
/// `Matcher` trait and never the regex engine behind it.
pub trait ReportStage {
    /// What the stage tells its caller (the report's summary).
    type Summary;

    /// Writes the report of the experiment `config` from `repairs_csv` into `out`.
    fn write(
        &self,
        repairs_csv: &Path,
        config: &ExperimentConfig,
        out: &Path,
    ) -> Result<Self::Summary>;
}

/// What [`run_experiment`] did.
#[derive(Debug, Clone)]
pub struct ExperimentOutcome<S> {
    /// The shard's rows of `repairs.csv` (none for stage `Train`).
    pub rows: Vec<RepairRow>,
    /// The report (Table 1, quality, patterns, figures) that the unsharded run of stage
    /// `All` writes into the output folder; the other runs leave it to that one.
    pub report: Option<S>,
}

/// Runs (or resumes) the experiment — the shard's slice of the stage's units. The
/// unsharded run of stage `All` also writes `out/repairs.csv`, the experiment's
/// `class_accuracy.csv` and, through `report`, the report for the config's α values.
pub fn run_experiment<R: ReportStage>(
    run: &ExperimentRun<'_>,
    report: &R,
) -> Result<ExperimentOutcome<R::Summary>> {
    run.config.for_dataset(run.dataset)?;
    if run.out.exists() && !run.out.is_dir() {
        return Err(file_error(run.out, "--out is a file, not a folder"));
    }
    std::fs::create_dir_all(run.out).map_err(|e| file_error(run.out, e))?;
    // One writer per folder (shards of it side by side), held to the end of the report.
    let _lock = FolderLock::acquire(run.out, run.shard)?;
    if run.shard.is_whole() {
        // No other writer can be running: a killed writer's temporaries are stray.
        repair_core::remove_atomic_temporaries(run.out).map_err(|e| file_error(run.out, e))?;
    }
    let rows = run_units(run)?;
    let report = if run.shard.is_whole() && run.stage == Stage::All {
        Some(report.write(&run.out.join("repairs.csv"), run.config, run.out)?)
    } else {
        None
    };
    Ok(ExperimentOutcome { rows, report })
}

/// The units of [`run_experiment`], and `repairs.csv` when the run is whole.
fn run_units(run: &ExperimentRun<'_>) -> Result<Vec<RepairRow>> {
    let config = run.config;
    let corpus = Manifest::builtin(run.dataset)?.load(run.data_dir)?;
    let corpus = match config.data.input_side {
        Some(side) => corpus.resized(side, side)?,
        None => corpus,
    };
    let split = study_split(run, &corpus)?;
    // Training units: one per seed, numbered by run.
    let mut runs = Vec::new();
    let mut unfinished = Vec::new();
    for (k, &seed) in config.train.seeds.iter().enumerate() {
        let dir = run_folder(run.out, k + 1);
        let report = if run.shard.owns(k) && run.stage != Stage::Repair {
            Some(finish_run(run, &corpus, &split, seed, &dir)?)
        } else {
            read_trained(run, &corpus, seed, &dir)?
        };
        match report {
            Some(report) => runs.push((k + 1, seed, dir, report)),
            None => unfinished.push(format!("run-{}", k + 1)),
        }
    }
    if run.stage == Stage::Train {
        return Ok(Vec::new());
    }
    if !unfinished.is_empty() {
        return Err(PipelineError::Invalid(format!(
            "shard {}: repairs need every run trained (the target classes come from all of \
             them), but {} in {} {} not finished; run the training stage of every shard \
             (--stage train) first",
            run.shard,
            unfinished.join(", "),
            run.out.display(),
            if unfinished.len() == 1 { "has" } else { "have" },
        )));
    }
    // Activations of every checkpoint to repair, from the cache the training stage wrote.
    let mut loaded: HashMap<(usize, usize), CachedCheckpoint> = HashMap::new();
    for (k, _, dir, report) in &runs {
        for epoch in checkpoints_to_repair(config, report) {
            let cached = activations(run, &corpus, &split, dir, epoch)?;
            loaded.insert((*k, epoch), cached);
        }
    }
    let classes = target_classes(config, &loaded, corpus.images().num_classes())?;
    // The repair units, listed in their numbered order; a shard runs the ones it owns.
    let mut rows = Vec::new();
    let mut joint_rows = Vec::new();
    let units = repair_units(run, &runs, &classes);
    for (number, unit) in units.iter().enumerate() {
        if !run.shard.owns(number) {
            continue;
        }
        let cached = &loaded[&(unit.run, unit.epoch)];
        if unit.joint {
            let earlier = || earlier_layer(&loaded, unit.run, unit.epoch, cached, &classes);
            joint_rows.extend(joint_unit(run, unit, &classes, cached, &earlier)?);
        } else {
            let earlier = || earlier_layer(&loaded, unit.run, unit.epoch, cached, &[unit.class]);
            rows.push(experiment_unit(run, unit, cached, &earlier)?);
        }
    }
    if run.shard.is_whole() && run.config.online.is_some() {
        write_online_csv(
            run.out,
            runs.iter()
                .map(|(k, seed, dir, _)| (*k, *seed, dir.as_path())),
        )?;
    }
    if run.shard.is_whole() {
        write_csv_rows(&run.out.join("repairs.csv"), &rows)?;
        write_experiment_class_accuracy(run.out, &rows)?;
        if config.repair.joint {
            write_csv_rows(&run.out.join(JOINT_CSV), &joint_rows)?;
            write_multiclass(run.out, config, &classes, &rows, &joint_rows)?;
        }
    }
    Ok(rows)
}

/// Every repair unit of the experiment, in the order they are numbered — per run and
/// checkpoint, first each method's multi-class repair (with `repair.joint`), then class ×
/// method × search seed — so that a shard is a filter over this list.
fn repair_units(
    run: &ExperimentRun<'_>,
    runs: &[(usize, u64, std::path::PathBuf, TrainReport)],
    classes: &[u32],
) -> Vec<Unit> {
    let config = run.config;
    let mut units = Vec::new();
    for (k, seed, _, report) in runs {
        for epoch in checkpoints_to_repair(config, report) {
            let unit = |class, method: MethodName, search_seed, dir| Unit {
                dir,
                run: *k,
                seed: *seed,
                epoch,
                converged_epoch: report.converged_epoch,
                class,
                method,
                search_seed,
                joint: false,
            };
            if config.repair.joint {
                for &method in &config.repair.methods {
                    let dir = joint_folder(run.out, *k, epoch, method.as_str());
                    units.push(Unit {
                        joint: true,
                        ..unit(classes[0], method, None, dir)
                    });
                }
            }
            for &class in classes {
                for &method in &config.repair.methods {
                    for search_seed in search_seeds(config) {
                        let m = method.as_str();
                        let dir = unit_folder(run.out, *k, epoch, class, m, search_seed);
                        units.push(unit(class, method, search_seed, dir));
                    }
                }
            }
        }
    }
    units
}

/// The split (made once, then read back), with every part thinned by its stride.
fn study_split(run: &ExperimentRun<'_>, corpus: &Corpus) -> Result<Split> {
    let path = run.out.join("split.json");
    let split = if path.is_file() {
        Split::load(&path, corpus)?
    } else {
        let data = &run.config.data;
        let split = Split::make(
            corpus,
            &SplitConfig::study(run.dataset, data.split_seed).with_rule(data.split_rule),
        )?;
        split.save(&path)?;
        split
    };
    Ok(run.config.data.thin(split, corpus.images())?)
}

/// The model and training config of one seed's run.
fn run_setup(run: &ExperimentRun<'_>, corpus: &Corpus, seed: u64) -> (ModelSpec, TrainConfig) {
    let c = &run.config.train;
    let shape = corpus.images().image_shape();
    let spec = ModelSpec {
        arch: c.model,
        input: (shape.channels, shape.height, shape.width),
        num_classes: corpus.images().num_classes(),
        seed,
    };
    (spec, c.config(seed))
}

/// The training stage of one run: train (or resume), cache the activations of every
/// checkpoint to repair, then write `trained.json`. A run that has it is read back.
fn finish_run(
    run: &ExperimentRun<'_>,
    corpus: &Corpus,
    split: &Split,
    seed: u64,
    dir: &Path,
) -> Result<TrainReport> {
    if let Some(report) = read_trained(run, corpus, seed, dir)? {
        return Ok(report);
    }
    let (spec, train_config) = run_setup(run, corpus, seed);
    let report = match &run.config.online {
        None => train_run(
            dir,
            &spec,
            &train_config,
            &split.view(corpus, SplitPart::Train),
            &split.view(corpus, SplitPart::Val),
            &run.compute,
            TrainRunOptions::default(),
        )?,
        Some(online) => {
            let class = run.config.repair.classes[0];
            let repair = OnlineRepair {
                dataset: run.dataset,
                rule: online.rule.clone(),
                alpha: online.alpha,
                request: run
                    .config
                    .repair
                    .request_for(MethodName::Arachne, class, seed),
            };
            train_online(
                dir,
                &spec,
                &train_config,
                corpus,
                split,
                &run.compute,
                &repair,
                None,
            )?
            .expect("runs to the end")
            .training
        }
    };
    let started = std::time::Instant::now();
    for epoch in checkpoints_to_repair(run.config, &report) {
        activations(run, corpus, split, dir, epoch)?;
    }
    let extract_s = started.elapsed().as_secs_f64();
    let path = dir.join("trained.json");
    let record = TrainedRun {
        config_hash: train_config.hash(),
        extract_s,
        report,
    };
    write_json(&path, &record)?;
    Ok(record.report)
}

/// The report of a run whose training stage is complete (`RUN/trained.json`), if it is.
fn read_trained(
    run: &ExperimentRun<'_>,
    corpus: &Corpus,
    seed: u64,
    dir: &Path,
) -> Result<Option<TrainReport>> {
    let Some(record) = load_trained(dir)? else {
        return Ok(None);
    };
    let (_, train_config) = run_setup(run, corpus, seed);
    if record.config_hash != train_config.hash() {
        return Err(file_error(
            &dir.join("trained.json"),
            format!(
                "trained with config {}, but this experiment's is {}: use another --out",
                record.config_hash,
                train_config.hash()
            ),
        ));
    }
    Ok(Some(record.report))
}

/// The last layer and the repair, selection (`val`) and test activations of one
/// checkpoint, from the cache `RUN/activations/epoch-NNN.safetensors` or extracted and
/// cached (again, when a cache of before the selection set lacks it).
fn activations(
    run: &ExperimentRun<'_>,
    corpus: &Corpus,
    split: &Split,
    dir: &Path,
    epoch: usize,
) -> Result<CachedCheckpoint> {
    let checkpoint = dir.join(format!("checkpoints/epoch-{epoch:03}.safetensors"));
    let cache = dir.join(format!("activations/epoch-{epoch:03}.safetensors"));
    let info = RunManifest::for_checkpoint(&checkpoint)?;
    let cached = if cache.is_file() {
        read_rows_if_all(&cache, &CACHED_SETS)?
    } else {
        None
    };
    if let Some(sets) = cached {
        let model = build_model(&info.model, &Device::Cpu)?;
        model.load(&checkpoint)?;
        let layer = model.last_layer()?;
        let [repair, selection, test] = <[LabelledActivations; 3]>::try_from(sets)
            .map_err(|_| file_error(&cache, "expected the repair, val and test sets"))?;
        return Ok(CachedCheckpoint {
            checkpoint,
            model: info.model,
            layer,
            repair,
            selection,
            test,
            repair_predicted: Default::default(),
        });
    }
    let loaded = load_checkpoint(&checkpoint, &info, corpus, split, &run.compute)?;
    let width = loaded.layer.width;
    let test = loaded
        .test
        .as_ref()
        .expect("load_checkpoint extracts the test set");
    let sets = repair_core::TensorFile::default()
        .rows(CACHED_SETS[0], &loaded.repair, width)
        .rows(CACHED_SETS[1], &loaded.selection, width)
        .rows(CACHED_SETS[2], test, width);
    write_tensors(&sets, &cache)?;
    Ok(CachedCheckpoint {
        checkpoint,
        model: info.model,
        layer: loaded.layer,
        repair: loaded.repair,
        selection: loaded.selection,
        test: loaded.test.expect("extracted above"),
        repair_predicted: Default::default(),
    })
}

/// The configured classes, or the `worst_classes` with the lowest mean test accuracy
/// over all checkpoints of all runs (the paper's rule), ascending by that accuracy.
fn target_classes(
    config: &ExperimentConfig,
    loaded: &HashMap<(usize, usize), CachedCheckpoint>,
    classes: usize,
) -> Result<Vec<u32>> {
    if !config.repair.classes.is_empty() {
        if let Some(c) = config
            .repair
            .classes
            .iter()
            .find(|&&c| c as usize >= classes)
        {
            return Err(PipelineError::Invalid(format!(
                "class {c} is out of range: the dataset has {classes} classes"
            )));
        }
        return Ok(config.repair.classes.clone());
    }
    let mut sum = vec![0.0; classes];
    let mut keys: Vec<_> = loaded.keys().copied().collect();
    keys.sort_unstable();
    for key in &keys {
        let cached = &loaded[key];
        // One prediction pass per checkpoint; a class absent from the test rows counts
        // as accuracy 0, as `accuracy` reports it.
        let predicted = predict(&cached.layer, &cached.test)?;
        let per_class = ConfusionMatrix::new(classes, &cached.test.labels, &predicted)
            .map_err(|e| PipelineError::Invalid(e.to_string()))?
            .per_class_accuracy();
        for (s, a) in sum.iter_mut().zip(per_class) {
            *s += if a.is_nan() { 0.0 } else { a };
        }
    }
    let mut order: Vec<usize> = (0..classes).collect();
    order.sort_by(|&a, &b| sum[a].total_cmp(&sum[b]).then(a.cmp(&b)));
    Ok(order
        .into_iter()
        .take(config.repair.worst_classes)
        .map(|c| c as u32)
        .collect())
}

/// One repair: where its files go and what identifies it.
struct Unit {
    dir: std::path::PathBuf,
    run: usize,
    seed: u64,
    epoch: usize,
    converged_epoch: usize,
    class: u32,
    method: MethodName,
    search_seed: Option<u64>,
    /// A multi-class repair of every target class (`class` is the first).
    joint: bool,
}

/// The last layer of the `history` method's earlier checkpoint for the repair of
/// `classes` at `epoch` of run `run`: of the run's checkpoints before it, the one whose
/// layer classifies the most of this checkpoint's negatives right (on its own cached
/// activations of the same repair images; ties to the latest), with its epoch; none
/// when no earlier checkpoint gets any of them right.
fn earlier_layer(
    loaded: &HashMap<(usize, usize), CachedCheckpoint>,
    run: usize,
    epoch: usize,
    current: &CachedCheckpoint,
    classes: &[u32],
) -> Result<Option<(usize, DenseLayer)>> {
    let now = current.repair_predictions()?;
    let labels = &current.repair.labels;
    let negatives: Vec<usize> = (0..current.repair.len())
        .filter(|&k| classes.contains(&labels[k]) && now[k] != labels[k])
        .collect();
    let mut best: Option<(usize, usize)> = None;
    let mut epochs: Vec<usize> = loaded
        .keys()
        .filter(|&&(r, e)| r == run && e < epoch)
        .map(|&(_, e)| e)
        .collect();
    epochs.sort_unstable();
    for e in epochs {
        let then = &loaded[&(run, e)];
        if then.repair.labels != current.repair.labels {
            return Err(file_error(
                &then.checkpoint,
                "its cached repair set is not the same images as the later checkpoint's",
            ));
        }
        let predicted = then.repair_predictions()?;
        let right = negatives
            .iter()
            .filter(|&&k| predicted[k] == labels[k])
            .count();
        if right > 0 && best.is_none_or(|(_, most)| right >= most) {
            best = Some((e, right));
        }
    }
    Ok(best.map(|(e, _)| (e, loaded[&(run, e)].layer.clone())))
}

/// One repair unit of the experiment ([`repair_unit`]), or its saved result when it was
/// made with the same settings.
fn experiment_unit(
    run: &ExperimentRun<'_>,
    unit: &Unit,
    cached: &CachedCheckpoint,
    earlier: &dyn Fn() -> Result<Option<(usize, DenseLayer)>>,
) -> Result<RepairRow> {
    let (class, seed) = (unit.class, unit.seed);
    let settings = RepairSettings {
        search_seed: unit.search_seed,
        ..run
            .config
            .repair
            .settings_for(unit.method, class, seed)
            .map_err(|e| PipelineError::Invalid(e.to_string()))?
    };
    let row_path = unit.dir.join("row.json");
    // Units from before per-class files or the selection set were written, and units
    // of other settings (the repair section changed), are redone (deterministic, ms).
    if row_path.is_file() && unit.dir.join(CLASS_ACCURACY_CSV).is_file() {
        let row: RepairRow = read_json(&row_path)?;
        if row.selection_repaired_acc_cls.is_some() && made_with(&unit.dir, &settings) {
            return Ok(row);
        }
    }
    let report = run_unit(run, unit, cached, &settings, earlier)?;
    let row = repair_row(unit, &report)?;
    // Last: its presence marks the unit complete.
    write_json(&row_path, &row)?;
    Ok(row)
}

/// Whether the unit in `dir` was repaired with `settings` (its `repair.json` says so)
/// and wrote every file a unit writes now (a folder from before per-image correctness
/// files does its units again, once).
fn made_with(dir: &Path, settings: &RepairSettings) -> bool {
    dir.join(repair_core::CORRECTNESS_FILE).is_file()
        && read_json::<RepairReport>(&dir.join("repair.json"))
            .is_ok_and(|report| report.settings == *settings)
}

/// Repairs a unit with `settings` into its folder; the `history` strategy gets its
/// earlier checkpoint from `earlier`.
fn run_unit(
    run: &ExperimentRun<'_>,
    unit: &Unit,
    cached: &CachedCheckpoint,
    settings: &RepairSettings,
    earlier: &dyn Fn() -> Result<Option<(usize, DenseLayer)>>,
) -> Result<RepairReport> {
    let earlier = match settings.strategy {
        Strategy::History { .. } => earlier()?,
        _ => None,
    };
    let input = RepairInput {
        earlier: earlier.as_ref().map(|(e, layer)| (*e, layer)),
        ..cached.input(run.dataset)
    };
    repair_unit(&input, settings, &unit.dir, &UnitOutputs::default())
}

/// The joint repair of `classes` at one checkpoint with one method: a unit like the
/// single ones (in [`joint_folder`], its rows in `rows.json`), one `joint.csv` row per
/// class, each with that class's accuracies and the repair's shared columns.
fn joint_unit(
    run: &ExperimentRun<'_>,
    unit: &Unit,
    classes: &[u32],
    cached: &CachedCheckpoint,
    earlier: &dyn Fn() -> Result<Option<(usize, DenseLayer)>>,
) -> Result<Vec<RepairRow>> {
    let settings = RepairSettings {
        joint_classes: classes[1..].to_vec(),
        ..run
            .config
            .repair
            .settings_for(unit.method, classes[0], unit.seed)
            .map_err(|e| PipelineError::Invalid(e.to_string()))?
    };
    let rows_path = unit.dir.join("rows.json");
    if rows_path.is_file() && made_with(&unit.dir, &settings) {
        return read_json(&rows_path);
    }
    let report = run_unit(run, unit, cached, &settings, earlier)?;
    let shared = repair_row(unit, &report)?;
    let mut rows = Vec::new();
    for joint in &report.joint_test {
        rows.push(RepairRow {
            method: joint_method(unit.method.as_str()).as_str().into(),
            target_class: joint.class,
            base_acc_cls: joint.before.class,
            repaired_acc_cls: joint.after.class,
            base_share_cls: Some(joint.before.predicted_share),
            repaired_share_cls: Some(joint.after.predicted_share),
            // The selection-set columns are the first class's: the report keeps one.
            ..shared.clone()
        });
    }
    if rows.len() != classes.len() {
        // Nothing to repair: no test scores per class were taken.
        return Err(file_error(
            &unit.dir,
            "the joint repair has no per-class test accuracies",
        ));
    }
    write_json(&rows_path, &rows)?;
    Ok(rows)
}

/// `multiclass.csv` and `multiclass.md`: the joint repairs against the single ones
/// ([`repair_metrics::compare_run`]), every single repair scored on all the target
/// classes from its unit's `class_accuracy.csv`.
fn write_multiclass(
    out: &Path,
    config: &ExperimentConfig,
    classes: &[u32],
    rows: &[RepairRow],
    joint_rows: &[RepairRow],
) -> Result<()> {
    let mut all = Vec::new();
    for method in &config.repair.methods {
        let joint_label = joint_method(method.as_str());
        let runs: std::collections::BTreeSet<usize> = rows.iter().map(|r| r.run).collect();
        for run_number in runs {
            let mut scored = Vec::new();
            let mut names = None;
            for r in rows.iter().filter(|r| {
                r.run == run_number
                    && r.method.as_str() == method.as_str()
                    && r.search_seed.is_none()
            }) {
                names.get_or_insert((r.dataset.clone(), r.model.clone()));
                let unit = row_folder(out, r);
                let per_class: Vec<ClassAccuracyRow> =
                    read_csv_rows(&unit.join(CLASS_ACCURACY_CSV))?;
                scored.push(ScoredRepair {
                    run: r.run,
                    epoch: r.epoch,
                    repaired_for: Some(r.target_class),
                    acc_total: r.repaired_acc_total,
                    acc_by_class: per_class
                        .iter()
                        .filter(|c| classes.contains(&c.class))
                        .map(|c| (c.class, c.repaired_acc.unwrap_or(0.0)))
                        .collect(),
                });
            }
            let mut joint: BTreeMap<usize, ScoredRepair> = BTreeMap::new();
            for r in joint_rows
                .iter()
                .filter(|r| r.run == run_number && r.method.as_str() == joint_label)
            {
                joint
                    .entry(r.epoch)
                    .or_insert_with(|| ScoredRepair {
                        run: r.run,
                        epoch: r.epoch,
                        repaired_for: None,
                        acc_total: r.repaired_acc_total,
                        acc_by_class: BTreeMap::new(),
                    })
                    .acc_by_class
                    .insert(r.target_class, r.repaired_acc_cls);
            }
            scored.extend(joint.into_values());
            let Some((dataset, model)) = names else {
                continue;
            };
            let method_label = method.as_str().into();
            let key = (dataset.as_str(), model.as_str(), &method_label, run_number);
            all.extend(
                compare_run(key, classes, &scored, &config.report.alphas)
                    .map_err(|e| file_error(&out.join(JOINT_CSV), e))?,
            );
        }
    }
    write_csv_rows(&out.join("multiclass.csv"), &all)?;
    let path = out.join("multiclass.md");
    write_atomic(&path, multiclass_markdown(&all).as_bytes())?;
    Ok(())
}

/// The `repairs.csv` row of a unit's report.
fn repair_row(unit: &Unit, report: &RepairReport) -> Result<RepairRow> {
    let (Some(before), Some(after)) = (&report.test_before, &report.test_after) else {
        return Err(file_error(
            &unit.dir,
            "the repair was not scored on the test set",
        ));
    };
    Ok(RepairRow {
        dataset: report.dataset.clone(),
        model: report.model.name(),
        method: unit.method.as_str().into(),
        run: unit.run,
        seed: Some(unit.seed),
        search_seed: unit.search_seed,
        target_class: unit.class,
        epoch: unit.epoch,
        converged_epoch: unit.converged_epoch,
        base_acc_total: before.total,
        base_acc_cls: before.class,
        repaired_acc_total: after.total,
        repaired_acc_cls: after.class,
        rr: Some(report.outcome.rr),
        br: Some(report.outcome.br),
        n_sites: Some(report.sites.len()),
        // 0 when there was nothing to repair, as the files have always said.
        // The fitness of the model this row's accuracies describe: the search's best, or
        // the checkpoint's own when the repair kept it (`repair.json` has both).
        fitness: Some(
            if report.outcome.kept_original {
                report.outcome.fitness_before
            } else {
                report.outcome.fitness_after
            }
            .map_or(0.0, |f| f.fitness),
        ),
        evaluations: Some(report.outcome.evaluations),
        repair_ms: Some(report.outcome.timings.fl_ms + report.outcome.timings.search_ms),
        base_balanced_acc: Some(before.balanced),
        repaired_balanced_acc: Some(after.balanced),
        base_share_cls: Some(before.predicted_share),
        repaired_share_cls: Some(after.predicted_share),
        selection_base_acc_total: Some(report.selection_before.total),
        selection_base_acc_cls: Some(report.selection_before.class),
        selection_repaired_acc_total: Some(report.selection_after.total),
        selection_repaired_acc_cls: Some(report.selection_after.class),
        negatives: Some(report.outcome.negatives),
        fitness_before: report.outcome.fitness_before.map(|f| f.fitness),
    })
}

/// One run of an online experiment: a line of `online.csv`.
#[derive(serde::Serialize)]
struct OnlineRow {
    run: usize,
    seed: u64,
    rule: String,
    alpha: f64,
    class: u32,
    picked_epoch: usize,
    epochs_trained: usize,
    stopped_by_rule: bool,
    selection_qual: f64,
    test_qual: f64,
    test_base_qual: f64,
    train_s: f64,
    online_s: f64,
    converged_at_least: usize,
    epochs_saved_at_least: usize,
}

/// `online.csv`: every run's `online.json` in one table.
fn write_online_csv<'a>(
    out: &Path,
    runs: impl Iterator<Item = (usize, u64, &'a Path)>,
) -> Result<()> {
    let mut rows = Vec::new();
    for (run, seed, dir) in runs {
        let path = dir.join("online.json");
        let r: OnlineReport = read_json(&path)?;
        rows.push(OnlineRow {
            run,
            seed,
            rule: r.rule,
            alpha: r.alpha,
            class: r.class,
            picked_epoch: r.picked_epoch,
            epochs_trained: r.epochs_trained,
            stopped_by_rule: r.stopped_by_rule,
            selection_qual: r.selection_qual,
            test_qual: r.test_qual,
            test_base_qual: r.test_base_qual,
            train_s: r.train_s,
            online_s: r.online_s,
            converged_at_least: r.converged_at_least,
            epochs_saved_at_least: r.epochs_saved_at_least,
        });
    }
    write_csv_rows(&out.join("online.csv"), &rows)
}
