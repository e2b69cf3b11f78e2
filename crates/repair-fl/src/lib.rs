//! Fault localisation on the last dense layer, over plain `f32` slices of cached
//! penultimate activations; it knows nothing of training or tensors.
//!
//! * [`FaultLocaliser`]: the seam — last layer + negatives (+ positives) → sites.
//! * [`Arachne`]: the study's Arachne v1 (`repair/arachne/arachne.py`): gradient loss
//!   GL = |Σ ∂CE/∂W| over the negatives (analytic; unclipped, as the study's Keras), top N_g = 20 · |negatives|
//!   by GL, forward impact FI = |ā_i W_ij|, and the Pareto front of (GL, FI) with exact
//!   duplicates kept.
//! * [`GradientTopK`] and [`RandomSites`]: the baselines of the Arachne paper.
//! * [`HistoryLocaliser`]: the weights training moved since an earlier checkpoint,
//!   times their gradient loss (the `history` method, after NeuRecover).
//!
//! ```
//! use repair_core::{DenseLayerView, LabelledActivations};
//! use repair_fl::{Arachne, FaultLocaliser};
//!
//! // 2 units, 2 classes; one negative of class 1 that the layer calls class 0.
//! let kernel = [1.0, 0.0, 0.0, 0.1];
//! let layer = DenseLayerView { width: 2, classes: 2, kernel: &kernel, bias: &[0.0, 0.0] };
//! let negatives = LabelledActivations { activations: vec![2.0, 1.0], labels: vec![1] };
//! let none = LabelledActivations::default();
//! let found = Arachne::default().localise(&layer, &negatives, &none).unwrap();
//! assert!(!found.sites.is_empty());
//! ```
#![deny(missing_docs)]

mod error;
mod gradient;
mod history;
mod localiser;
mod pareto;

pub use error::FlError;
pub use gradient::gradient_loss;
pub use history::HistoryLocaliser;
pub use localiser::{
    Arachne, Candidate, FaultLocaliser, GradientTopK, ImpactActivation, Localisation, RandomSites,
};
pub use pareto::pareto_front;
