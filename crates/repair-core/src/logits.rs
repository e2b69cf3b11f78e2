//! The one prediction rule of the repair crates: logits b + a·W in `f64` from `f32`
//! inputs, and the first arg-max.

/// Logits b + a·W of one row, accumulated in `f64` from the `f32` inputs (kernel
/// `width × classes`, Keras layout): the arithmetic of the fitness, so callers that
/// classify rows (repair sets, RR, BR) agree with it bit for bit.
pub fn logits(activations: &[f32], kernel: &[f32], bias: &[f32], out: &mut [f64]) {
    let classes = bias.len();
    for (o, &b) in out.iter_mut().zip(bias) {
        *o = f64::from(b);
    }
    for (i, &a) in activations.iter().enumerate() {
        if a == 0.0 {
            continue; // exact: the kernel is finite (ReLU outputs are often 0)
        }
        let a = f64::from(a);
        let w = &kernel[i * classes..(i + 1) * classes];
        for (o, &w) in out.iter_mut().zip(w) {
            *o += a * f64::from(w);
        }
    }
}

/// Index of the largest logit, the first on ties (numpy's / Keras' argmax).
pub fn first_argmax(z: &[f64]) -> usize {
    let mut best = 0;
    for (j, &v) in z.iter().enumerate().skip(1) {
        if v > z[best] {
            best = j;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_the_first_index() {
        assert_eq!(first_argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(first_argmax(&[2.0, 2.0]), 0);
    }

    #[test]
    fn logits_are_the_bias_plus_the_activations_times_the_kernel() {
        // W = [[1, 2], [3, 4]] (i rows, j columns), b = [0.5, -0.5], a = [2, 0.25].
        let mut z = [0.0; 2];
        logits(&[2.0, 0.25], &[1.0, 2.0, 3.0, 4.0], &[0.5, -0.5], &mut z);
        assert_eq!(z, [0.5 + 2.0 + 0.75, -0.5 + 4.0 + 1.0]);
    }
}
