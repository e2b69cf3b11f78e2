//! The training configuration: every knob of the paper's training, serialisable and
//! hashed into every checkpoint so results can be traced back to their settings.

use repair_data::Normalisation;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::schedule::LrSchedule;
use crate::sgd::SgdConfig;

/// How to train (defaults: the paper's training protocol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Upper bound on epochs (the study: 30).
    pub max_epochs: usize,
    /// Mini-batch size (the paper: 128; the study code effectively used 4: its
    /// `dataset/train.py` never passes the batch size on).
    pub batch_size: usize,
    /// Learning rate and momentum (the paper: 1e-2, 0.9; the study code: 1e-4).
    pub sgd: SgdConfig,
    /// Learning-rate schedule (the paper: ×0.1 every 10 epochs).
    pub schedule: LrSchedule,
    /// Early-stopping patience on validation loss (the paper: 5).
    pub patience: usize,
    /// Save a checkpoint every this many epochs, plus epoch 1, the converged epoch and
    /// the last epoch (the paper: 5).
    pub checkpoint_every: usize,
    /// Seed of the batch order (and, through the model spec, of the initial weights).
    pub seed: u64,
    /// Optional per-channel input normalisation (none in the study: inputs in [0, 1]).
    /// Required in the JSON form (`null` for none): a file that lacks it is not read
    /// as "no normalisation".
    #[serde(deserialize_with = "Option::deserialize")]
    pub normalisation: Option<Normalisation>,
}

impl TrainConfig {
    /// The paper's settings with `seed`.
    pub fn paper(seed: u64) -> Self {
        TrainConfig {
            max_epochs: 30,
            batch_size: 128,
            sgd: SgdConfig {
                lr: 1e-2,
                momentum: 0.9,
            },
            schedule: LrSchedule::PAPER,
            patience: 5,
            checkpoint_every: 5,
            seed,
            normalisation: None,
        }
    }

    /// The study code's actual optimiser settings (its `dataset/train.py`): lr 1e-4 with
    /// the compounding schedule; batch size and the rest as the paper.
    pub fn study_code(seed: u64) -> Self {
        TrainConfig {
            sgd: SgdConfig {
                lr: 1e-4,
                momentum: 0.9,
            },
            schedule: LrSchedule::StudyCompounding {
                gamma: 0.1,
                every: 10,
            },
            ..Self::paper(seed)
        }
    }

    /// Refuses settings that cannot train.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(TrainError::Config(m.to_string()));
        if self.max_epochs == 0 {
            return bad("max_epochs must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1");
        }
        if !(self.sgd.lr > 0.0 && self.sgd.lr.is_finite()) {
            return bad("the learning rate must be positive and finite");
        }
        if !(0.0..1.0).contains(&self.sgd.momentum) {
            return bad("momentum must lie in [0, 1)");
        }
        if self.checkpoint_every == 0 {
            return bad("checkpoint_every must be at least 1");
        }
        Ok(())
    }

    /// `xxh3-64:` hash of the JSON form; recorded in checkpoints and resume state.
    pub fn hash(&self) -> String {
        repair_core::content_hash(&serde_json::to_vec(self).expect("config serialises"))
    }
}
