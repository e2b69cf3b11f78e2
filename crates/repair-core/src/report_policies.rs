//! How the study's pattern classification settles its two ambiguous cases, by name:
//! a tie for the best repaired Qual, and a checkpoint whose repair is missing.

use serde::{Deserialize, Serialize};

use crate::choice::Choice;

/// Which checkpoint wins a tie for the best Qual.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TiePolicy {
    /// A tie with the converged checkpoint counts as post-convergence (the default:
    /// an early repair must be strictly better to count); other ties go to the earliest.
    #[default]
    Post,
    /// The earliest checkpoint wins, as the study's notebook (pandas `idxmax`).
    Earliest,
}

impl Choice for TiePolicy {
    const WHAT: &'static str = "tie policy";
    const ALL: &'static [Self] = &[TiePolicy::Post, TiePolicy::Earliest];

    fn name(self) -> &'static str {
        match self {
            TiePolicy::Post => "post",
            TiePolicy::Earliest => "earliest",
        }
    }
}

crate::choice_text!(TiePolicy);

/// What a missing repair does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncompletePolicy {
    /// The (run, class) is reported as incomplete.
    #[default]
    Mark,
    /// Classified on the checkpoints that are there (the study's GTSRB counts did
    /// this; incomplete only if none is).
    Available,
}

impl Choice for IncompletePolicy {
    const WHAT: &'static str = "incomplete policy";
    const ALL: &'static [Self] = &[IncompletePolicy::Mark, IncompletePolicy::Available];

    fn name(self) -> &'static str {
        match self {
            IncompletePolicy::Mark => "mark",
            IncompletePolicy::Available => "available",
        }
    }
}

crate::choice_text!(IncompletePolicy);
