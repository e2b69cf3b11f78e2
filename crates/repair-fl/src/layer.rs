//! The inputs every localiser reads: the last dense layer and cached activations.

use repair_pso::{check_layer, logits, ProblemError, Rows};

/// The last dense layer, Keras layout: `kernel[i · classes + j]` = W_ij for penultimate
/// unit i and class j (the transpose of candle's `Linear` weight).
#[derive(Debug, Clone, Copy)]
pub struct LastLayer<'a> {
    /// Penultimate width D.
    pub width: usize,
    /// Classes C.
    pub classes: usize,
    /// W, `width × classes`.
    pub kernel: &'a [f32],
    /// b, `classes`.
    pub bias: &'a [f32],
}

impl LastLayer<'_> {
    /// Checks the layer and a set of rows against it.
    pub fn check(&self, what: &'static str, rows: &Rows) -> Result<(), ProblemError> {
        check_layer(self.width, self.classes, self.kernel, self.bias)?;
        rows.check(what, self.width, self.classes)
    }

    /// Softmax probabilities of one row, in `f64`.
    pub fn probabilities(&self, activations: &[f32], out: &mut [f64]) {
        logits(activations, self.kernel, self.bias, out);
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
}
