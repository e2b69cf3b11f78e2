//! The last dense layer as plain `f32` data in the study's Keras layout: the one layer
//! type of the repair crates, owned ([`DenseLayer`]) or borrowed ([`DenseLayerView`]).
//!
//! Keras stores a `Dense` kernel as (inputs, outputs), so the study's Arachne indexes
//! W_ij with i the penultimate unit and j the class (ER `arachne.py`, `weights.csv`);
//! candle's and PyTorch's `Linear` weight is its transpose. Converting to and from a
//! model's tensors is the model crate's job.

use serde::{Deserialize, Serialize};

use crate::activations::LabelledActivations;
use crate::error::{finite, length, ProblemError};
use crate::logits::{first_argmax, logits};
use crate::site::Site;

/// Checks a last layer in Keras layout: `kernel` of `width × classes` and `bias` of
/// `classes` finite values.
pub(crate) fn check_layer(
    width: usize,
    classes: usize,
    kernel: &[f32],
    bias: &[f32],
) -> Result<(), ProblemError> {
    // An empty layer has nothing to localise or search (and would reach a kernel that
    // splits its rows into chunks of `width`).
    for (what, n) in [
        ("the layer's width", width),
        ("the layer's classes", classes),
    ] {
        if n == 0 {
            return Err(ProblemError::Setting {
                what,
                value: 0.0,
                must: "at least 1",
            });
        }
    }
    length("kernel", kernel.len(), width * classes)?;
    length("bias", bias.len(), classes)?;
    finite("kernel", kernel)?;
    finite("bias", bias)
}

/// The last dense layer, owned: `logits = b + a·W` with W of `width × classes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseLayer {
    /// Penultimate width D.
    pub width: usize,
    /// Number of classes C.
    pub classes: usize,
    /// W, `width × classes` row-major (`kernel[i · classes + j]` = W_ij).
    pub kernel: Vec<f32>,
    /// b, `classes`.
    pub bias: Vec<f32>,
}

impl DenseLayer {
    /// A checked layer: `kernel` of `width × classes` and `bias` of `classes` finite values.
    pub fn new(
        width: usize,
        classes: usize,
        kernel: Vec<f32>,
        bias: Vec<f32>,
    ) -> Result<Self, ProblemError> {
        check_layer(width, classes, &kernel, &bias)?;
        Ok(DenseLayer {
            width,
            classes,
            kernel,
            bias,
        })
    }

    /// A borrowed view.
    pub fn view(&self) -> DenseLayerView<'_> {
        DenseLayerView {
            width: self.width,
            classes: self.classes,
            kernel: &self.kernel,
            bias: &self.bias,
        }
    }

    /// The layer with `values` written into `sites`, rounded to `f32` as when the
    /// values are written into a model.
    pub fn patched(&self, sites: &[Site], values: &[f64]) -> DenseLayer {
        let mut out = self.clone();
        for (s, &v) in sites.iter().zip(values) {
            out.kernel[s.i * self.classes + s.j] = v as f32;
        }
        out
    }
}

/// The last dense layer, borrowed (what the fault localisers read).
#[derive(Debug, Clone, Copy)]
pub struct DenseLayerView<'a> {
    /// Penultimate width D.
    pub width: usize,
    /// Number of classes C.
    pub classes: usize,
    /// W, `width × classes` row-major.
    pub kernel: &'a [f32],
    /// b, `classes`.
    pub bias: &'a [f32],
}

impl DenseLayerView<'_> {
    /// Checks the layer and a set of rows against it; `what` names the rows.
    pub fn check(
        &self,
        what: &'static str,
        rows: &LabelledActivations,
    ) -> Result<(), ProblemError> {
        check_layer(self.width, self.classes, self.kernel, self.bias)?;
        rows.check(what, self.width, self.classes)
    }

    /// W_ij of a site.
    pub fn weight(&self, site: Site) -> f32 {
        self.kernel[site.i * self.classes + site.j]
    }

    /// Logits of one row into `out` ([`logits`]).
    pub fn logits(&self, activations: &[f32], out: &mut [f64]) {
        logits(activations, self.kernel, self.bias, out);
    }

    /// Softmax probabilities of one row, in `f64`.
    pub fn probabilities(&self, activations: &[f32], out: &mut [f64]) {
        self.logits(activations, out);
        let max = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut sum = 0.0;
        for o in out.iter_mut() {
            *o = (*o - max).exp();
            sum += *o;
        }
        for o in out.iter_mut() {
            *o /= sum;
        }
    }

    /// Predicted class of each row: the first arg-max of b + a·W accumulated in `f64`,
    /// the same rule and arithmetic as the repair fitness. Rows of another width are a
    /// [`ProblemError::Length`] on `activations`.
    pub fn predict(&self, rows: &LabelledActivations) -> Result<Vec<u32>, ProblemError> {
        length(
            "activations",
            rows.activations.len(),
            rows.len() * self.width,
        )?;
        let mut z = vec![0.0f64; self.classes];
        Ok(rows
            .activations
            .chunks(self.width.max(1))
            .take(rows.len())
            .map(|a| {
                self.logits(a, &mut z);
                first_argmax(&z) as u32
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_of_the_wrong_size_or_with_nan_is_refused_naming_the_buffer() {
        let e = DenseLayer::new(2, 2, vec![0.0; 3], vec![0.0; 2]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "repair problem: kernel has 3 values, expected 4"
        );
        let e = DenseLayer::new(1, 2, vec![0.0, f32::NAN], vec![0.0; 2]).unwrap_err();
        assert_eq!(e.to_string(), "repair problem: kernel[1] is NaN");
        // An empty layer, however it arrives (a problem file, numpy arrays).
        let e = DenseLayer::new(0, 2, Vec::new(), vec![0.0; 2]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "repair problem: the layer's width is 0, but must be at least 1"
        );
        let e = DenseLayer::new(3, 0, Vec::new(), Vec::new()).unwrap_err();
        assert!(e.to_string().contains("the layer's classes is 0"), "{e}");
    }

    #[test]
    fn probabilities_sum_to_one_and_follow_the_logits() {
        let layer = DenseLayer::new(1, 2, vec![0.0, 2.0f32.ln()], vec![0.0, 0.0]).unwrap();
        let mut p = [0.0; 2];
        layer.view().probabilities(&[1.0], &mut p);
        assert!(
            (p[0] - 1.0 / 3.0).abs() < 1e-7 && (p[1] - 2.0 / 3.0).abs() < 1e-7,
            "{p:?}"
        );
    }

    #[test]
    fn rows_of_another_width_are_refused() {
        let layer = DenseLayer::new(2, 2, vec![0.0; 4], vec![0.0; 2]).unwrap();
        let rows = LabelledActivations {
            activations: vec![1.0; 3],
            labels: vec![0],
        };
        assert!(layer.view().predict(&rows).is_err());
    }
}
