//! The model architectures of the zoo, by name: what experiment files' `train.model`
//! and `xtask train --model` choose; `repair-zoo` builds them.

use serde::{Deserialize, Serialize};

use crate::choice::Choice;

/// A model architecture of the zoo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Arch {
    /// The small CPU CNN (3 conv blocks, 256-wide penultimate layer).
    #[serde(rename = "cnn-s")]
    CnnS,
    /// Its wider sibling.
    #[serde(rename = "cnn-m")]
    CnnM,
    /// torchvision's VGG16 conv base with the study's dense head (GTSRB).
    #[serde(rename = "vgg16")]
    Vgg16,
    /// DenseNet-121 (the study's RSNA model).
    #[serde(rename = "densenet121")]
    Densenet121,
}

impl Choice for Arch {
    const WHAT: &'static str = "model";
    const ALL: &'static [Self] = &[Arch::CnnS, Arch::CnnM, Arch::Vgg16, Arch::Densenet121];

    fn name(self) -> &'static str {
        self.name()
    }
}

impl Arch {
    /// The name in files and results (`cnn-s`, ...): a model spec's `arch`.
    pub const fn name(self) -> &'static str {
        match self {
            Arch::CnnS => "cnn-s",
            Arch::CnnM => "cnn-m",
            Arch::Vgg16 => "vgg16",
            Arch::Densenet121 => "densenet121",
        }
    }
}

crate::choice_text!(Arch);
