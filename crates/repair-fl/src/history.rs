//! History-based localisation, in the spirit of NeuRecover (Tokui et al., "NeuRecover:
//! Regression-Controlled Repair of Deep Neural Networks with Training History", SANER
//! '22): the weights to change are those that training moved on the way from a
//! checkpoint that still handled the failing inputs to the one being repaired, and that
//! the failing inputs' loss is sensitive to.
//!
//! What this implements, on the last layer only (where every method here repairs):
//!
//! * the earlier checkpoint is chosen by the caller (the pipeline takes the saved
//!   checkpoint before this one that classifies the most of this one's negatives right);
//! * each weight is scored by its movement times its gradient loss,
//!   `score(i, j) = |W_ij − W^earlier_ij| · GL(i, j)`, with GL as Arachne's (the
//!   negatives' |Σ ∂CE/∂W_ij|);
//! * the `k` best scores are the sites (ties in Arachne's order: j outer, i inner); a
//!   weight with score 0 (never moved, or no gradient) is never one.
//!
//! Where it departs from NeuRecover: NeuRecover localises over all layers and compares
//! the models' behaviour on the inputs (which parameters the regression- and the
//! fix-inducing inputs' gradients point at); here the penultimate activations are the
//! current checkpoint's (the earlier checkpoint's features differ), so only the
//! last-layer weights and their movement are compared, and one product ranks them
//! instead of NeuRecover's separate sets. The search then uses the
//! `repair_fitness::RegressionControlled` objective (its regression term).

use crate::error::FlError;
use crate::localiser::{at_least_one, checked_gradient, select_all, FaultLocaliser, Localisation};
use repair_core::{CrossEntropy, DenseLayerView, LabelledActivations, Site};

/// Weights ranked by training movement × gradient loss (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryLocaliser<'a> {
    /// The last layer's kernel at the earlier checkpoint, in the current one's layout.
    pub earlier_kernel: &'a [f32],
    /// Number of sites.
    pub k: usize,
    /// The cross-entropy of the gradient loss (the study's Keras: unclipped).
    pub loss: CrossEntropy,
}

/// `|W − W^earlier|` per weight, after checking the shapes and values.
fn movement(layer: &DenseLayerView<'_>, earlier: &[f32]) -> Result<Vec<f64>, FlError> {
    if earlier.len() != layer.kernel.len() {
        return Err(FlError::Config(format!(
            "the earlier checkpoint's last layer has {} weights, this one's {} ({} × {})",
            earlier.len(),
            layer.kernel.len(),
            layer.width,
            layer.classes
        )));
    }
    if let Some(k) = earlier.iter().position(|w| !w.is_finite()) {
        return Err(FlError::Config(format!(
            "the earlier checkpoint's weight {k} is {}",
            earlier[k]
        )));
    }
    Ok(layer
        .kernel
        .iter()
        .zip(earlier)
        .map(|(&w, &e)| (f64::from(w) - f64::from(e)).abs())
        .collect())
}

impl FaultLocaliser for HistoryLocaliser<'_> {
    fn name(&self) -> &'static str {
        "history"
    }

    fn localise(
        &self,
        layer: &DenseLayerView<'_>,
        negatives: &LabelledActivations,
        positives: &LabelledActivations,
    ) -> Result<Localisation, FlError> {
        let k = at_least_one(self.k)?;
        let moved = movement(layer, self.earlier_kernel)?;
        let gl = checked_gradient(layer, negatives, positives, self.loss)?;
        let (d, c) = (layer.width, layer.classes);
        let mut scored: Vec<(Site, f64)> = (0..c)
            .flat_map(|j| (0..d).map(move |i| Site { i, j }))
            .map(|s| (s, moved[s.i * c + s.j] * gl[s.i * c + s.j]))
            .filter(|&(_, score)| score > 0.0)
            .collect();
        if scored.is_empty() {
            return Err(FlError::Config(
                "no last-layer weight both moved since the earlier checkpoint and has a \
                 gradient loss on the negatives"
                    .into(),
            ));
        }
        scored.sort_by(|x, y| y.1.total_cmp(&x.1));
        // The sites with their GL (not the score), as every localiser's candidates.
        let chosen: Vec<(Site, f64)> = scored[..k.min(scored.len())]
            .iter()
            .map(|&(s, _)| (s, gl[s.i * c + s.j]))
            .collect();
        Ok(select_all(layer, negatives, &chosen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2 units, 2 classes, W = [[1, 0], [0, 0.1]] (i rows); one negative a = (2, 1) of
    /// class 1, which the layer calls 0 (z = (2, 0.1)).
    fn layer() -> (Vec<f32>, LabelledActivations) {
        let negatives = LabelledActivations {
            activations: vec![2.0, 1.0],
            labels: vec![1],
        };
        (vec![1.0, 0.0, 0.0, 0.1], negatives)
    }

    fn view(kernel: &[f32]) -> DenseLayerView<'_> {
        DenseLayerView {
            width: 2,
            classes: 2,
            kernel,
            bias: &[0.0, 0.0],
        }
    }

    #[test]
    fn sites_are_the_weights_that_moved_most_times_their_gradient_loss() {
        let (kernel, negatives) = layer();
        let view = view(&kernel);
        // p0 = e^2 / (e^2 + e^0.1); GL = |a_i (p_j − y_j)| = [[2 p0, 2 p0], [p0, p0]].
        let z1 = f64::from(0.1f32); // the layer holds f32
        let p0 = 2f64.exp() / (2f64.exp() + z1.exp());
        // Earlier W = [[1, 0.5], [0.2, 0.1]]: movement [[0, 0.5], [0.2, 0]], so the
        // scores are [[0, p0], [0.2 p0, 0]].
        let earlier = [1.0, 0.5, 0.2, 0.1];
        let none = LabelledActivations::default();
        let history = |k| HistoryLocaliser {
            earlier_kernel: &earlier,
            k,
            loss: CrossEntropy::Logits,
        };
        let one = history(1).localise(&view, &negatives, &none).unwrap();
        assert_eq!(one.sites, vec![Site { i: 0, j: 1 }]);
        assert!((one.candidates[0].gradient_loss - 2.0 * p0).abs() < 1e-12);
        // k = 3: only two weights have a score above 0.
        let three = history(3).localise(&view, &negatives, &none).unwrap();
        assert_eq!(three.sites, vec![Site { i: 0, j: 1 }, Site { i: 1, j: 0 }]);
        assert!(three.candidates.iter().all(|c| c.selected));
        assert!((three.candidates[1].gradient_loss - p0).abs() < 1e-12);
        // The same checkpoint as "earlier": nothing moved.
        let same = HistoryLocaliser {
            earlier_kernel: &kernel,
            k: 2,
            loss: CrossEntropy::Logits,
        };
        let e = same.localise(&view, &negatives, &none).unwrap_err();
        assert!(e.to_string().contains("moved since the earlier"), "{e}");
    }

    #[test]
    fn an_earlier_layer_of_another_shape_or_with_nan_is_refused() {
        let (kernel, negatives) = layer();
        let view = view(&kernel);
        let none = LabelledActivations::default();
        for (earlier, says) in [
            (vec![1.0f32; 6], "has 6 weights, this one's 4 (2 × 2)"),
            (vec![1.0, f32::NAN, 0.0, 0.0], "weight 1 is NaN"),
        ] {
            let h = HistoryLocaliser {
                earlier_kernel: &earlier,
                k: 1,
                loss: CrossEntropy::Logits,
            };
            let e = h
                .localise(&view, &negatives, &none)
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}
