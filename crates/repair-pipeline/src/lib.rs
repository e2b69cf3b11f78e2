//! The study's units of work over the other crates, each one library function that the
//! command line, the experiment and the Python package call, so that `xtask` only parses
//! and calls:
//!
//! * [`train_run`]: one training run (`run.json` as a [`RunManifest`], checkpoints,
//!   resume);
//! * [`load_checkpoint`]: a checkpoint's last layer and repair/test activations;
//! * [`repair_unit`]: one repair of one checkpoint for one class, with its files and one
//!   `repair.json` schema ([`RepairReport`]);
//! * [`repair_problem_file`]: the same repair of a framework-neutral problem file;
//! * `repair_onnx_model` (feature `onnx`): the same repair of an ONNX classifier;
//! * [`train_online`]: training that repairs every epoch and stops when a readiness
//!   rule says so, keeping the best repaired model.
//!
//! The experiment grid over these units is `repair-experiment`'s, and what its folder
//! says is `repair-report`'s. Where and how tensors are computed is a [`Compute`]
//! (device, build options, progress observer). Everything after extraction runs on plain
//! `f32` rows (`repair_core::LabelledActivations`) and the last layer in Keras layout
//! (`repair_core::DenseLayer`), in `f64` arithmetic, with one prediction rule (first
//! arg-max) shared by the repair sets, the fitness, RR and BR.
//!
//! ```
//! use repair_core::NoProgress;
//! use repair_pipeline::Compute;
//!
//! // A command line's `--device cpu`; the convolution as `EARLY_REPAIR_CONV` names it.
//! let compute = Compute::named("cpu", Some("fast"), &NoProgress)?;
//! assert!(compute.device.is_cpu());
//! let e = Compute::named("cpu", Some("winograd"), &NoProgress).unwrap_err();
//! assert!(e.to_string().contains("expected fast or candle"));
//! # Ok::<(), repair_pipeline::PipelineError>(())
//! ```
#![deny(missing_docs)]

mod activation_file;
mod activations;
mod bench;
mod checkpoint;
mod checkpoint_repair;
mod device;
mod error;
mod online;
#[cfg(feature = "onnx")]
mod onnx_repair;
mod problem_repair;
mod repair_unit;
mod reported_model;
mod run_manifest;
mod train_run;
mod training_setup;
mod unit_files;

pub use activation_file::{read_rows_if_all, write_tensors};
pub use activations::{confusion, extract, ClassAccuracy};
pub use bench::{bench_train_step, StepBench};
pub use checkpoint::{
    checkpoint_layer, last_layer_weights, load_checkpoint, load_checkpoint_with, LoadedCheckpoint,
};
pub use checkpoint_repair::{checkpoint_split, repair_checkpoint, CheckpointRepair};
pub use device::{device_named, Compute};
pub use error::{file_error, PipelineError, Result};
pub use online::{train_online, OnlineEpoch, OnlineRepair, OnlineReport};
#[cfg(feature = "onnx")]
pub use onnx_repair::{repair_onnx_model, OnnxRepairInput, REPAIRED_ONNX};
pub use problem_repair::{repair_problem_file, ProblemReport, SitesFrom, REPAIRED_LAYER};
pub use repair_unit::{
    repair_unit, JointClassAccuracy, RepairInput, RepairReport, RepairedModel, UnitOutputs,
};
pub use reported_model::ReportedModel;
pub use run_manifest::{run_dir, RunManifest, RUN_JSON};
pub use train_run::{train_run, TrainRunOptions};
pub use training_setup::{prepare_training, PreparedTraining, TrainingSetup};
pub use unit_files::{
    read_csv_rows, read_json, write_csv_rows, write_json, ClassAccuracyRow, ExperimentClassRow,
    RepairKey, CLASS_ACCURACY_CSV,
};
