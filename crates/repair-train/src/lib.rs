//! Trainer: SGD with momentum 0.9, lr 1e-2 decayed ×0.1 every 10 epochs, batch 128,
//! early stopping on validation loss (patience 5), checkpoints at epoch 1, every 5
//! epochs, at convergence (lowest validation loss) and at the last epoch; resumable
//! after an interruption with the same result as an uninterrupted run.
//!
//! The study code's actual settings (lr 1e-4, compounding decay: its `dataset/train.py`)
//! are [`TrainConfig::study_code`]. Batch order depends only on (seed, epoch) and the
//! models have no dropout, so the "RNG position" a resume needs is the epoch number.
//!
//! ```
//! use repair_train::TrainConfig;
//!
//! // The paper's schedule: at most 30 epochs of batch 128, early stopping after 5.
//! let config = TrainConfig::paper(1024);
//! assert_eq!((config.max_epochs, config.batch_size, config.patience), (30, 128, 5));
//! ```
#![deny(missing_docs)]

mod config;
mod early_stopping;
mod error;
mod evaluate;
mod schedule;
mod sgd;
mod state;
mod trainer;

pub use config::TrainConfig;
pub use early_stopping::EarlyStopping;
pub use error::{Result, TrainError};
pub use evaluate::{evaluate, Evaluation};
pub use schedule::LrSchedule;
pub use sgd::{SgdConfig, SgdMomentum};
pub use state::{CheckpointInfo, EpochRecord, FileDigest, ResumeState, RunDir};
pub use trainer::{
    train, train_step, train_with, EpochEnd, EpochHook, NoHook, RunOptions, StepResult, TrainReport,
};
