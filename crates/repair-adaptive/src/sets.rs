//! The repair sets after a phase, as `find_new_neg_pos` of adaptive.py rebuilds them:
//! negatives the patch fixed become positives, positives of a repaired class it broke
//! become negatives.

use repair_core::{DenseLayer, LabelledActivations, ProblemError};

/// The next phase's (negatives, positives) under `layer`: the negatives it still gets
/// wrong and the positives it now gets wrong whose class is one being repaired (a
/// label of the negatives); the positives it still gets right and the negatives it
/// fixed. Rows keep their order (negatives' rows first).
///
/// Where this departs from adaptive.py: it also moves broken inputs of the class from
/// the *unsampled* correct inputs into the negatives; the core sees only the sampled
/// positives, so here only those are. (Its refill of the positives from the unsampled
/// ones never runs: it compares with `len(input_pos)`, the length 2 of an
/// (images, labels) pair.)
pub fn next_sets(
    layer: &DenseLayer,
    negatives: &LabelledActivations,
    positives: &LabelledActivations,
) -> Result<(LabelledActivations, LabelledActivations), ProblemError> {
    let view = layer.view();
    let on_negatives = view.predict(negatives)?;
    let on_positives = view.predict(positives)?;
    let repaired: Vec<u32> = negatives.labels.clone();
    let d = layer.width;
    let (mut neg, mut pos) = (
        LabelledActivations::default(),
        LabelledActivations::default(),
    );
    let push = |to: &mut LabelledActivations, set: &LabelledActivations, k: usize| {
        to.activations
            .extend_from_slice(&set.activations[k * d..(k + 1) * d]);
        to.labels.push(set.labels[k]);
    };
    let still_wrong = |k: usize| on_negatives[k] != negatives.labels[k];
    for k in (0..negatives.len()).filter(|&k| still_wrong(k)) {
        push(&mut neg, negatives, k);
    }
    for (k, (&predicted, &label)) in on_positives.iter().zip(&positives.labels).enumerate() {
        if predicted == label {
            push(&mut pos, positives, k);
        } else if repaired.contains(&label) {
            push(&mut neg, positives, k);
        }
    }
    for k in (0..negatives.len()).filter(|&k| !still_wrong(k)) {
        push(&mut pos, negatives, k);
    }
    Ok((neg, pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_negatives_become_positives_and_broken_positives_of_the_class_negatives() {
        // Identity layer over 2 classes: a row is classified as its larger activation.
        let layer = DenseLayer::new(2, 2, vec![1.0, 0.0, 0.0, 1.0], vec![0.0, 0.0]).unwrap();
        let rows = |a: &[f32], labels: &[u32]| LabelledActivations {
            activations: a.to_vec(),
            labels: labels.to_vec(),
        };
        // Negatives of class 1: (0, 1) is now right, (1, 0) still wrong.
        let negatives = rows(&[0.0, 1.0, 1.0, 0.0], &[1, 1]);
        // Positives: class 1 broken (1, 0), class 0 broken (0, 1) — not a repaired
        // class, so dropped — and class 0 still right (1, 0).
        let positives = rows(&[1.0, 0.0, 0.0, 1.0, 1.0, 0.0], &[1, 0, 0]);
        let (neg, pos) = next_sets(&layer, &negatives, &positives).unwrap();
        assert_eq!(neg, rows(&[1.0, 0.0, 1.0, 0.0], &[1, 1]));
        assert_eq!(pos, rows(&[1.0, 0.0, 0.0, 1.0], &[0, 1]));
    }
}
