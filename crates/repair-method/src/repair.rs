//! One repair of one checkpoint for one class (or several), on cached activations, as
//! the study's `repair/arachne/arachne.py` runs it (FL, `optimize`, `evaluate`) with the
//! positives of `dataset/eAIDataset.py` `sample_from_file`: the repair sets and the
//! positives here, FL and the search in [`crate::solve`], then RR and BR on the whole
//! repair set.

use std::time::Instant;

use repair_core::{DenseLayer, LabelledActivations, Progress};

use crate::error::{MethodError, Result};
use crate::outcome::{RepairOutcome, Timings};
use crate::sampling::sample_positives;
use crate::settings::RepairSettings;
use crate::solve::{ms, predict, solve, Sets};

/// Repairs `layer` for `settings.class` on the repair set's cached activations and
/// returns the repaired layer (unchanged when there is nothing to repair).
pub fn repair_layer(
    layer: &DenseLayer,
    repair_set: &LabelledActivations,
    settings: &RepairSettings,
    progress: &dyn Progress,
) -> Result<(DenseLayer, RepairOutcome)> {
    repair_layer_with(layer, repair_set, settings, None, progress)
}

/// [`repair_layer`], with the last layer of an earlier checkpoint for the `history`
/// strategy (`None`: none qualifies; see [`crate::Strategy::History`]).
pub fn repair_layer_with(
    layer: &DenseLayer,
    repair_set: &LabelledActivations,
    settings: &RepairSettings,
    earlier: Option<&DenseLayer>,
    progress: &dyn Progress,
) -> Result<(DenseLayer, RepairOutcome)> {
    let classes = settings.classes();
    if let Some(class) = classes.iter().find(|&&c| c as usize >= layer.classes) {
        return Err(MethodError::Invalid(format!(
            "class {class} is out of range: the model has {} classes (0..={})",
            layer.classes,
            layer.classes - 1
        )));
    }
    if let Some(twice) = first_repeated(&classes) {
        return Err(MethodError::Invalid(format!(
            "class {twice} is listed twice among the classes to repair"
        )));
    }
    let started = Instant::now();
    let predicted = predict(layer, repair_set)?;
    // The negatives of every class repaired (one class: the study's).
    let is_negative = |k: usize| {
        let label = repair_set.labels[k];
        classes.contains(&label) && predicted[k] != label
    };
    let negative_idx: Vec<usize> = (0..repair_set.len()).filter(|&k| is_negative(k)).collect();
    let correct_idx: Vec<usize> = (0..repair_set.len())
        .filter(|&k| predicted[k] == repair_set.labels[k])
        .collect();
    let correct_labels: Vec<u32> = correct_idx.iter().map(|&k| repair_set.labels[k]).collect();
    let sample = sample_positives(
        &correct_labels,
        settings.positives,
        settings.sampler,
        settings.seed,
    );
    let positive_idx: Vec<usize> = sample.iter().map(|&k| correct_idx[k]).collect();
    let (negatives, positives) = (
        rows(repair_set, layer.width, &negative_idx),
        rows(repair_set, layer.width, &positive_idx),
    );
    let mut outcome = RepairOutcome {
        negatives: negative_idx.len(),
        correct: correct_idx.len(),
        positives_sampled: positive_idx.len(),
        nothing_to_repair: negative_idx.is_empty(),
        changes: Vec::new(),
        candidates: Vec::new(),
        fitness_before: None,
        fitness_after: None,
        rr: 0.0,
        br: 0.0,
        evaluations: 0,
        termination: None,
        kept_original: false,
        history: Vec::new(),
        phases: Vec::new(),
        adaptive_stop: None,
        timings: Timings {
            sets_ms: ms(started),
            ..Timings::default()
        },
        problem: None,
    };
    if outcome.nothing_to_repair {
        return Ok((layer.clone(), outcome));
    }
    let solved = solve(
        layer,
        Sets {
            negatives,
            positives,
        },
        None,
        settings,
        earlier,
        progress,
    )?;
    let repaired = outcome.take(solved);
    finish(repair_set, &negative_idx, &correct_idx, repaired, outcome)
}

/// RR and BR of `repaired` on the repair set, into `outcome`.
fn finish(
    repair_set: &LabelledActivations,
    negative_idx: &[usize],
    correct_idx: &[usize],
    repaired: DenseLayer,
    mut outcome: RepairOutcome,
) -> Result<(DenseLayer, RepairOutcome)> {
    let after = predict(&repaired, repair_set)?;
    let fixed = negative_idx
        .iter()
        .filter(|&&k| after[k] == repair_set.labels[k])
        .count();
    let broken = correct_idx
        .iter()
        .filter(|&&k| after[k] != repair_set.labels[k])
        .count();
    outcome.rr = fixed as f64 / negative_idx.len() as f64;
    outcome.br = broken as f64 / correct_idx.len().max(1) as f64;
    Ok((repaired, outcome))
}

/// The first item of `items` that an earlier one equals (a class or method listed twice).
pub fn first_repeated<T: PartialEq>(items: &[T]) -> Option<&T> {
    items
        .iter()
        .enumerate()
        .find_map(|(k, x)| items[..k].contains(x).then_some(x))
}

/// The rows `idx` of `set`.
fn rows(set: &LabelledActivations, width: usize, idx: &[usize]) -> LabelledActivations {
    LabelledActivations {
        activations: idx
            .iter()
            .flat_map(|&k| set.activations[k * width..(k + 1) * width].iter().copied())
            .collect(),
        labels: idx.iter().map(|&k| set.labels[k]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_outside_the_layer_or_listed_twice_is_refused() {
        let layer =
            DenseLayer::new(2, 3, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0], vec![0.0; 3]).unwrap();
        let set = LabelledActivations {
            activations: vec![1.0, 0.0, 0.0, 1.0],
            labels: vec![0, 2],
        };
        for (joint, says) in [
            (vec![3], "class 3 is out of range: the model has 3 classes"),
            (vec![2, 0], "class 0 is listed twice"),
        ] {
            let settings = RepairSettings {
                joint_classes: joint,
                ..RepairSettings::study(0, 0)
            };
            let e = repair_layer(&layer, &set, &settings, &repair_core::NoProgress)
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{e}");
        }
        assert_eq!(first_repeated(&[1, 2, 3]), None);
        assert_eq!(first_repeated(&[1, 2, 1, 2]), Some(&1));
    }
}
