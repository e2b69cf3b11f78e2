//! Every subcommand and flag of `cargo xtask`, in one place.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Project automation for early-repair.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
pub struct Xtask {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check, fetch and split datasets.
    Data {
        /// The data operation.
        #[command(subcommand)]
        command: DataCommand,
    },
}

/// `cargo xtask data …`
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Verify a data folder against `datasets/<DATASET>.toml` and print a per-class table.
    Check {
        /// Dataset name: gtsrb or pneumonia.
        dataset: String,
        #[command(flatten)]
        data: DataDir,
        /// Skip the SHA-256 of every file (sizes and counts are still checked).
        #[arg(long)]
        no_hash: bool,
    },
    /// Download and unpack the official archives listed in the manifest.
    Fetch {
        /// Dataset name (only gtsrb has downloadable official archives).
        dataset: String,
        /// Folder to unpack into (gets `GTSRB/Final_Training`, `GTSRB/Final_Test`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Make the seeded train/val/repair/test split and save it as JSON.
    Split {
        /// Dataset name: gtsrb or pneumonia.
        dataset: String,
        #[command(flatten)]
        data: DataDir,
        /// Seed of the split.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// study (the paper's rule), by-track (GTSRB: whole tracks per split) or official.
        #[arg(long, default_value = "study")]
        rule: repair_data::SplitRule,
        /// Output JSON file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Where a dataset's packed files are.
#[derive(Debug, clap::Args)]
pub struct DataDir {
    /// The dataset's folder. Default: `$EARLY_REPAIR_DATA/<DATASET>`.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

impl DataDir {
    /// The folder to read `dataset` from.
    pub fn resolve(&self, dataset: &str) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.data {
            return Ok(dir.clone());
        }
        match std::env::var_os("EARLY_REPAIR_DATA") {
            Some(root) => Ok(PathBuf::from(root).join(dataset)),
            None => anyhow::bail!(
                "no data folder: pass --data DIR or set EARLY_REPAIR_DATA to the folder holding {dataset}/"
            ),
        }
    }
}
