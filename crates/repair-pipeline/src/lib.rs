//! The study's units of work over the other crates, each one library function that the
//! command line and the experiment both call, so that `xtask` only parses and calls:
//!
//! * [`train_run`]: one training run (`run.json` as a [`RunManifest`], checkpoints, resume);
//! * [`load_checkpoint`]: a checkpoint's last layer and repair/test activations;
//! * [`repair_unit`]: one repair of one checkpoint for one class, with its files and one
//!   `repair.json` schema ([`RepairReport`]);
//! * [`run_experiment`]: the whole resumable, shardable study and its report
//!   ([`write_report`]); [`verify_experiment`] checks a finished folder;
//! * [`train_online`]: training that repairs every epoch and stops when a readiness
//!   rule says so, keeping the best repaired model;
//! * [`readiness_series`] / [`write_readiness`]: the repair-readiness evaluation of a
//!   dense experiment (the `repair_readiness` rules against the oracle and `converged`).
//!
//! Where and how tensors are computed is a [`Compute`] (device, build options, progress
//! observer). Everything after extraction runs on plain `f32` rows
//! (`repair_core::LabelledActivations`) and the last layer in Keras layout
//! (`repair_core::DenseLayer`), in `f64` arithmetic, with one prediction rule (first
//! arg-max) shared by the repair sets, the fitness, RR and BR.
#![deny(missing_docs)]

mod activation_file;
mod activations;
mod bench;
mod checkpoint;
mod device;
mod error;
mod experiment;
mod experiment_config;
mod experiment_manifest;
mod folder_lock;
mod online;
#[cfg(feature = "onnx")]
mod onnx_repair;
mod problem_repair;
mod readiness_report;
mod repair_unit;
mod run_manifest;
mod shard;
mod slurm;
mod study_report;
mod train_run;
mod unit_files;
mod verify;
mod verify_files;

pub use activations::{confusion, extract, ClassAccuracy};
pub use bench::{bench_train_step, StepBench};
pub use checkpoint::{checkpoint_layer, load_checkpoint, load_checkpoint_with, LoadedCheckpoint};
pub use device::{device_named, Compute};
pub use error::{PipelineError, Result};
pub use experiment::{run_experiment, ExperimentOutcome, ExperimentRun};
pub use experiment_config::{
    DataSection, ExperimentConfig, ExperimentFile, OnlineSection, RepairSection, ReportSection,
    TrainRecipe, TrainSection,
};
pub use experiment_manifest::{ExperimentManifest, EXPERIMENT_JSON};
pub use folder_lock::FolderLock;
pub use online::{train_online, OnlineEpoch, OnlineRepair, OnlineReport};
#[cfg(feature = "onnx")]
pub use onnx_repair::{repair_onnx_model, OnnxRepairInput, REPAIRED_ONNX};
pub use problem_repair::{repair_problem_file, ProblemReport, SitesFrom, REPAIRED_LAYER};
pub use readiness_report::{
    readiness_folder, readiness_series, write_readiness, ReadinessOptions, ReadinessSummary,
};
pub use repair_adaptive::{MAX_PHASES, STAGNATION_THRESHOLD, STAGNATION_WINDOW};
pub use repair_core::{CrossEntropy, DenseLayer, NoProgress, Progress};
pub use repair_fitness::FitnessDetail;
pub use repair_method::{
    read_problem, repair_layer, repair_layer_with, solve, Layout, LocaliserChoice, LocaliserName,
    MethodError, MethodName, MethodOptions, PositiveSampler, PsoPreset, RepairOutcome,
    RepairSettings, Sets, Solved, Strategy, Timings, WeightChange, BASELINE_SITES,
};
pub use repair_metrics::{IncompletePolicy, RepairRow, TiePolicy, PAPER_ALPHAS};
pub use repair_onnx::Preprocess;
pub use repair_pso::{ARACHNE_ITERATIONS, ARACHNE_PARTICLES};
pub use repair_readiness::{rule_named, ReadinessRule};
pub use repair_train::TrainConfig;
pub use repair_train::{EpochEnd, EpochHook, NoHook};
pub use repair_unit::{
    repair_unit, JointClassAccuracy, RepairInput, RepairReport, RepairedModel, UnitOutputs,
};
pub use repair_zoo::{BuildOptions, ConvBackend, ModelSpec};
pub use run_manifest::{run_dir, RunManifest, RUN_JSON};
pub use shard::{Shard, Stage};
pub use slurm::{slurm_script, write_script, SlurmPlan};
pub use study_report::{write_report, ReportOptions, ReportSummary};
pub use train_run::{train_run, TrainRunOptions};
pub use unit_files::{ClassAccuracyRow, CLASS_ACCURACY_CSV};
pub use verify::{verify_experiment, Verified};
