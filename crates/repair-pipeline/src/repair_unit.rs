//! One repair of one checkpoint for one class, the unit of work that `xtask repair` and
//! every (run, checkpoint, class) of an experiment share: repair the last layer on the
//! cached activations, measure it on the test set, write the unit's files. One schema of
//! `repair.json` ([`RepairReport`]) follows from there being one writer.

use std::path::{Path, PathBuf};

use repair_core::{
    DenseLayer, LabelledActivations, NoProgress, Progress, RepairRequest, SetCorrectness, Site,
    UnitCorrectness, CORRECTNESS_FILE,
};
use repair_data::write_atomic;
use repair_zoo::Classifier;
use serde::{Deserialize, Serialize};

use crate::activations::{confusion_of, ClassAccuracy};
use crate::error::{file_error, Result};
use crate::reported_model::ReportedModel;
use crate::unit_files::{
    class_accuracy_rows, export_problem, write_csv_rows, write_repair_files, CLASS_ACCURACY_CSV,
};
use repair_method::{predict, repair_layer_with, RepairOutcome, RepairSettings};

/// What a repair unit reads: a checkpoint's last layer and its cached activations.
#[derive(Debug, Clone)]
pub struct RepairInput<'a> {
    /// The checkpoint the layer and activations come from (recorded, not read).
    pub checkpoint: &'a Path,
    /// Dataset name.
    pub dataset: &'a str,
    /// The model the layer belongs to (recorded in the report).
    pub model: ReportedModel,
    /// Its last layer.
    pub layer: &'a DenseLayer,
    /// Repair-set activations and labels.
    pub repair: &'a LabelledActivations,
    /// Selection-set activations and labels: the validation split, on which a choice
    /// between checkpoints may be made (the test set stays for reporting).
    pub selection: &'a LabelledActivations,
    /// Test-set activations and labels; none: the unit is not scored on a test set (and
    /// writes no `class_accuracy.csv`).
    pub test: Option<&'a LabelledActivations>,
    /// Time it took to extract the activations, milliseconds (0 when they were read
    /// from an experiment's cache).
    pub extract_ms: f64,
    /// The `history` strategy's earlier checkpoint: its epoch and last layer (none:
    /// the configured localiser finds the sites, see [`repair_method::Strategy::History`]).
    pub earlier: Option<(usize, &'a DenseLayer)>,
}

/// The settings `request` asks for (the one mapping, `RepairSettings::requested`), a
/// search its method cannot use refused naming the method.
pub(crate) fn settings_of(request: &RepairRequest) -> Result<RepairSettings> {
    Ok(RepairSettings::requested(request)?)
}

/// A model that can be written again with a repaired last layer.
pub trait RepairedModel {
    /// Writes the model with `layer` as its last layer into the folder `dir`; returns
    /// the file written.
    fn write_repaired(&self, layer: &DenseLayer, dir: &Path) -> Result<PathBuf>;
}

/// A candle checkpoint's model: `repaired.safetensors`, the whole checkpoint with the
/// new last layer (the model itself is not changed).
impl<C: Classifier> RepairedModel for C {
    fn write_repaired(&self, layer: &DenseLayer, dir: &Path) -> Result<PathBuf> {
        let path = dir.join("repaired.safetensors");
        self.save_with_last_layer(layer, &path)?;
        Ok(path)
    }
}

/// What a unit writes besides its result files, and whom it tells how far it is.
pub struct UnitOutputs<'a> {
    /// The model holding the checkpoint: with it, the repaired model is written (a
    /// checkpoint's as `repaired.safetensors`, an ONNX model's as `repaired.onnx`; an
    /// experiment keeps only the changed weights, in `weights.csv`, which a rerun of
    /// `xtask repair` with the same seed reproduces).
    pub repaired_model: Option<&'a dyn RepairedModel>,
    /// Also write the search problem (`problem.safetensors`, `problem.json`).
    pub export_problem: bool,
    /// Told of every search iteration.
    pub progress: &'a dyn Progress,
}

impl Default for UnitOutputs<'_> {
    fn default() -> Self {
        UnitOutputs {
            repaired_model: None,
            export_problem: false,
            progress: &NoProgress,
        }
    }
}

/// Everything `repair.json` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairReport {
    /// The checkpoint repaired.
    pub checkpoint: PathBuf,
    /// The repaired checkpoint written (absent when nothing was repaired, or in an
    /// experiment unit).
    pub repaired_checkpoint: Option<PathBuf>,
    /// Dataset name.
    pub dataset: String,
    /// The model.
    pub model: ReportedModel,
    /// The settings (class, localiser, PSO, seed, ...).
    pub settings: RepairSettings,
    /// The localised sites.
    pub sites: Vec<Site>,
    /// What the repair did (its fields stand in `repair.json` beside these).
    #[serde(flatten)]
    pub outcome: RepairOutcome,
    /// Test-set accuracy (total and class) before the repair (none: not scored).
    pub test_before: Option<ClassAccuracy>,
    /// Test-set accuracy after.
    pub test_after: Option<ClassAccuracy>,
    /// Selection-set (validation) accuracy before the repair.
    pub selection_before: ClassAccuracy,
    /// Selection-set accuracy after.
    pub selection_after: ClassAccuracy,
    /// Activation extraction, milliseconds.
    pub extract_ms: f64,
    /// The `history` strategy's earlier checkpoint epoch (absent: none, or another
    /// strategy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earlier_epoch: Option<usize>,
    /// A multi-class repair's test accuracies, one entry per class repaired (absent for
    /// one class: `test_before` and `test_after` are its).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joint_test: Vec<JointClassAccuracy>,
}

/// One class of a multi-class repair on the test set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JointClassAccuracy {
    /// The class.
    pub class: u32,
    /// Before the repair.
    pub before: ClassAccuracy,
    /// After.
    pub after: ClassAccuracy,
}

/// Repairs `input.layer` for `settings.class` and writes into `out`: `weights.csv`,
/// `history.csv`, `localisation.csv`, `pareto_front.svg`, `class_accuracy.csv` (every
/// class's test accuracy before and after), `correct.safetensors` (which test and
/// selection images each model gets right, [`UnitCorrectness`]), `repair.json` (with the
/// test and selection accuracies), and as `outputs` asks the
/// repaired checkpoint and the search problem. A class without negatives is "nothing
/// to repair": the files are still written, and no checkpoint.
pub fn repair_unit(
    input: &RepairInput<'_>,
    settings: &RepairSettings,
    out: &Path,
    outputs: &UnitOutputs<'_>,
) -> Result<RepairReport> {
    let class = settings.class;
    let (repaired, outcome) = repair_layer_with(
        input.layer,
        input.repair,
        settings,
        input.earlier.map(|(_, layer)| layer),
        outputs.progress,
    )?;
    // Both models' predictions of every test and selection image: the confusions of
    // the report and the per-image correctness file come from the same ones.
    let predictions = |rows: &LabelledActivations| -> Result<(Vec<u32>, Vec<u32>)> {
        Ok((predict(input.layer, rows)?, predict(&repaired, rows)?))
    };
    let classes = input.layer.classes;
    let test_predictions = input.test.map(predictions).transpose()?;
    let confusions = match (input.test, &test_predictions) {
        (Some(test), Some((before, after))) => Some((
            confusion_of(classes, test, before)?,
            confusion_of(classes, test, after)?,
        )),
        _ => None,
    };
    let selection_predictions = predictions(input.selection)?;
    let selection_before = ClassAccuracy::of(
        &confusion_of(classes, input.selection, &selection_predictions.0)?,
        class,
    );
    let selection_after = ClassAccuracy::of(
        &confusion_of(classes, input.selection, &selection_predictions.1)?,
        class,
    );
    let bits = |rows: &LabelledActivations, (before, after): &(Vec<u32>, Vec<u32>)| {
        SetCorrectness::of(&rows.labels, class, before, after)
    };
    let correctness = UnitCorrectness {
        test: input
            .test
            .zip(test_predictions.as_ref())
            .map(|(t, p)| bits(t, p)),
        selection: bits(input.selection, &selection_predictions),
    };
    std::fs::create_dir_all(out).map_err(|e| file_error(out, e))?;
    let repaired_checkpoint = match outputs.repaired_model {
        Some(model) if !outcome.nothing_to_repair => Some(model.write_repaired(&repaired, out)?),
        _ => None,
    };
    if outputs.export_problem && !outcome.nothing_to_repair {
        let problem = outcome
            .problem
            .as_ref()
            .expect("a search keeps its problem");
        export_problem(out, problem, settings)?;
    }
    let report = RepairReport {
        checkpoint: input.checkpoint.to_path_buf(),
        repaired_checkpoint,
        dataset: input.dataset.to_string(),
        model: input.model.clone(),
        settings: settings.clone(),
        sites: outcome.changes.iter().map(|c| c.site).collect(),
        test_before: confusions
            .as_ref()
            .map(|(b, _)| ClassAccuracy::of(b, class)),
        test_after: confusions
            .as_ref()
            .map(|(_, a)| ClassAccuracy::of(a, class)),
        selection_before,
        selection_after,
        extract_ms: input.extract_ms,
        joint_test: match &confusions {
            Some((before, after)) if !settings.joint_classes.is_empty() => settings
                .classes()
                .into_iter()
                .map(|class| JointClassAccuracy {
                    class,
                    before: ClassAccuracy::of(before, class),
                    after: ClassAccuracy::of(after, class),
                })
                .collect(),
            _ => Vec::new(),
        },
        earlier_epoch: input.earlier.map(|(epoch, _)| epoch),
        outcome,
    };
    write_atomic(&out.join(CORRECTNESS_FILE), &correctness.to_bytes())?;
    write_repair_files(out, class, &report.outcome, &report)?;
    if let Some((before, after)) = &confusions {
        write_csv_rows(
            &out.join(CLASS_ACCURACY_CSV),
            &class_accuracy_rows(before, after),
        )?;
    }
    Ok(report)
}
