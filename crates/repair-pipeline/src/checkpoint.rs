//! Repairing a saved checkpoint: load it into the model its training run describes,
//! extract the repair- and test-set activations once, repair, write the repaired
//! checkpoint and the result files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;
use repair_core::{DenseLayer, LabelledActivations, Site};
use repair_data::{Corpus, Dataset, Normalisation, Split, SplitPart};
use repair_zoo::{build_model, Classifier, Model, ModelSpec};
use serde::{Deserialize, Serialize};

use crate::activations::{accuracy, extract, ClassAccuracy};
use crate::error::{PipelineError, Result};
use crate::output::{export_problem, write_repair_files};
use crate::repair::{repair_layer, RepairSettings, Timings};

/// The run folder of a checkpoint: `RUN` of `RUN/checkpoints/epoch-NNN.safetensors`
/// (the current folder if the path is shorter).
pub fn run_dir(checkpoint: &Path) -> PathBuf {
    checkpoint
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// What a training run recorded in its `run.json` that a repair needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The model.
    pub model: ModelSpec,
    /// The input normalisation used in training (none in the study).
    pub normalisation: Option<Normalisation>,
}

impl RunInfo {
    /// Reads `run.json` of the run a checkpoint belongs to
    /// (`RUN/checkpoints/epoch-NNN.safetensors` → `RUN/run.json`).
    pub fn for_checkpoint(checkpoint: &Path) -> Result<RunInfo> {
        let run_json = run_dir(checkpoint).join("run.json");
        let bytes = std::fs::read(&run_json).map_err(|e| PipelineError::File {
            path: run_json.clone(),
            problem: format!(
                "{e} (the training run's run.json names the model of {})",
                checkpoint.display()
            ),
        })?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| PipelineError::File {
                path: run_json.clone(),
                problem: format!("not a run.json: {e}"),
            })?;
        let model =
            serde_json::from_value(value["model"].clone()).map_err(|e| PipelineError::File {
                path: run_json.clone(),
                problem: format!("no model spec: {e}"),
            })?;
        let normalisation =
            serde_json::from_value(value["train"]["normalisation"].clone()).unwrap_or(None);
        Ok(RunInfo {
            model,
            normalisation,
        })
    }
}

/// A checkpoint loaded, with its last layer and the cached activations.
pub struct LoadedCheckpoint {
    /// The model holding the checkpoint's weights.
    pub model: Model,
    /// Its last layer.
    pub layer: DenseLayer,
    /// Repair-set activations and labels.
    pub repair: LabelledActivations,
    /// Test-set activations and labels.
    pub test: LabelledActivations,
    /// Time to extract both, milliseconds.
    pub extract_ms: f64,
}

/// Loads `checkpoint` into a `run` model on `device` and extracts the repair and test
/// activations of `split`.
pub fn load_checkpoint(
    checkpoint: &Path,
    run: &RunInfo,
    corpus: &Corpus,
    split: &Split,
    device: &Device,
    progress: bool,
) -> Result<LoadedCheckpoint> {
    if !checkpoint.is_file() {
        return Err(PipelineError::File {
            path: checkpoint.to_path_buf(),
            problem: "no such checkpoint".into(),
        });
    }
    let classes = corpus.images().num_classes();
    if run.model.num_classes != classes {
        return Err(PipelineError::Invalid(format!(
            "{}: the model has {} classes, the dataset {classes}",
            checkpoint.display(),
            run.model.num_classes
        )));
    }
    let model = build_model(&run.model, device)?;
    model.load(checkpoint)?;
    let layer = model.last_layer()?;
    let started = Instant::now();
    let norm = run.normalisation.as_ref();
    let part = |part| {
        extract(
            &model,
            &split.view(corpus, part),
            256,
            norm,
            device,
            progress,
        )
    };
    let repair = part(SplitPart::Repair)?;
    let test = part(SplitPart::Test)?;
    Ok(LoadedCheckpoint {
        model,
        layer,
        repair,
        test,
        extract_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}

/// Everything `repair.json` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairReport {
    /// The checkpoint repaired.
    pub checkpoint: PathBuf,
    /// The repaired checkpoint written (absent when nothing was repaired).
    pub repaired_checkpoint: Option<PathBuf>,
    /// Dataset name.
    pub dataset: String,
    /// The model.
    pub model: ModelSpec,
    /// The settings (class, localiser, PSO, seed, ...).
    pub settings: RepairSettings,
    /// Negatives (misclassified repair inputs of the class).
    pub negatives: usize,
    /// Correctly classified repair inputs.
    pub correct: usize,
    /// Positives sampled for the search.
    pub positives_sampled: usize,
    /// True when there were no negatives.
    pub nothing_to_repair: bool,
    /// The localised sites.
    pub sites: Vec<Site>,
    /// Fitness of the original and repaired weights.
    pub fitness_before: Option<repair_fitness::FitnessDetail>,
    /// Fitness of the repaired weights.
    pub fitness_after: Option<repair_fitness::FitnessDetail>,
    /// Repair rate on the negatives.
    pub rr: f64,
    /// Break rate on all initially correct repair inputs.
    pub br: f64,
    /// Objective evaluations.
    pub evaluations: u64,
    /// Why the search ended.
    pub termination: Option<repair_pso::Termination>,
    /// Test-set accuracy (total and class) before the repair.
    pub test_before: ClassAccuracy,
    /// Test-set accuracy after.
    pub test_after: ClassAccuracy,
    /// Activation extraction, milliseconds.
    pub extract_ms: f64,
    /// The other phases.
    pub timings: Timings,
}

/// Repairs a loaded checkpoint and writes into `out`: `repaired.safetensors` (same
/// layout as the input), `weights.csv`, `history.csv`, `repair.json`, and with
/// `export` the search problem. A class without negatives is "nothing to repair": the
/// files are still written, and no checkpoint.
pub fn repair_checkpoint(
    loaded: &LoadedCheckpoint,
    checkpoint: &Path,
    dataset: &str,
    settings: &RepairSettings,
    out: &Path,
    export: bool,
    progress: bool,
) -> Result<RepairReport> {
    let (repaired, outcome) = repair_layer(&loaded.layer, &loaded.repair, settings, progress)?;
    let test_before = accuracy(&loaded.layer, &loaded.test, settings.class)?;
    let test_after = accuracy(&repaired, &loaded.test, settings.class)?;
    std::fs::create_dir_all(out).map_err(|e| PipelineError::File {
        path: out.to_path_buf(),
        problem: e.to_string(),
    })?;
    let repaired_checkpoint = if outcome.nothing_to_repair {
        None
    } else {
        let path = out.join("repaired.safetensors");
        let original = loaded.model.last_layer()?;
        loaded.model.set_last_layer(&repaired)?;
        let saved = loaded.model.save(&path);
        loaded.model.set_last_layer(&original)?;
        saved?;
        Some(path)
    };
    if export && !outcome.nothing_to_repair {
        let problem = outcome
            .problem
            .as_ref()
            .expect("a search keeps its problem");
        export_problem(out, problem, settings)?;
    }
    let report = RepairReport {
        checkpoint: checkpoint.to_path_buf(),
        repaired_checkpoint,
        dataset: dataset.to_string(),
        model: loaded.model.spec().clone(),
        settings: settings.clone(),
        negatives: outcome.negatives,
        correct: outcome.correct,
        positives_sampled: outcome.positives_sampled,
        nothing_to_repair: outcome.nothing_to_repair,
        sites: outcome.changes.iter().map(|c| c.site).collect(),
        fitness_before: outcome.fitness_before,
        fitness_after: outcome.fitness_after,
        rr: outcome.rr,
        br: outcome.br,
        evaluations: outcome.evaluations,
        termination: outcome.termination,
        test_before,
        test_after,
        extract_ms: loaded.extract_ms,
        timings: outcome.timings,
    };
    write_repair_files(out, settings.class, &outcome, &report)?;
    Ok(report)
}
