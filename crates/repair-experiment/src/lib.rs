//! The study as one resumable, shardable experiment over `repair-pipeline`'s units of
//! work:
//!
//! * [`ExperimentFile`] / [`ExperimentConfig`]: an experiment file's profiles, loaded
//!   and checked once ([`ExperimentFile::load`], [`ExperimentConfig::validate_for`]);
//! * [`ExperimentManifest`]: `experiment.json`, what a folder was made with;
//! * [`run_experiment`]: split → train each seed → cached activations → repair every
//!   checkpoint × class × method → `repairs.csv`, then the report through the
//!   [`ReportStage`] seam (implemented by `repair-report`, which reads what this crate
//!   writes, so this crate cannot call it directly);
//! * [`Shard`] and [`Stage`]: one slice of the units, one half of the work, so that a
//!   cluster can run it; [`slurm_script`] writes the Slurm chain that does;
//! * [`FolderLock`]: one writer per folder (shards side by side);
//! * the folder layout ([`run_folder`], [`row_folder`], …) that the report reads.
//!
//! ```
//! use repair_experiment::{Shard, Stage};
//!
//! // The second of four shards owns units 1, 5, 9, … (units count from 0).
//! let shard: Shard = "2/4".parse().unwrap();
//! assert!(shard.owns(5) && !shard.owns(4));
//! assert_eq!("repair".parse::<Stage>().unwrap(), Stage::Repair);
//! ```
#![deny(missing_docs)]

mod experiment;
mod experiment_config;
mod experiment_manifest;
mod folder_lock;
mod layout;
mod shard;
mod slurm;

pub use experiment::{run_experiment, ExperimentOutcome, ExperimentRun, ReportStage};
pub use experiment_config::{
    BadSetting, DataSection, ExperimentConfig, ExperimentFile, OnlineSection, RepairSection,
    ReportSection, TrainRecipe, TrainSection,
};
pub use experiment_manifest::{ExperimentManifest, EXPERIMENT_JSON};
pub use folder_lock::FolderLock;
pub use layout::{
    checkpoints_to_repair, joint_folder, joint_method, load_trained, row_folder, run_folder,
    search_seeds, unit_folder, write_experiment_class_accuracy, TrainedRun, JOINT_CSV,
};
pub use shard::{Shard, ShardError, Stage};
pub use slurm::{slurm_script, write_script, SlurmPlan};
