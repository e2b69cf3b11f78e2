//! A weight of the last dense layer, the unit of fault localisation and of the search.

use serde::{Deserialize, Serialize};

/// A weight of the last layer: input (penultimate unit) `i`, output (class) `j`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Site {
    /// Penultimate index (row of the Keras kernel).
    pub i: usize,
    /// Class index (column of the Keras kernel).
    pub j: usize,
}
