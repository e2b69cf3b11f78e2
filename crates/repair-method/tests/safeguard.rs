//! Never worse than what you gave it. Arachne's swarm never holds the original weights,
//! so a search can end below where it began (the study's code returns such a result).
//! On a seeded problem where the unguarded search does, `solve` returns the given layer
//! bit for bit and says so; `keep_worse` returns the search's best, as the study did.

use repair_core::{LabelledActivations, MethodName, NoProgress, RepairRequest};
use repair_fitness::{RepairProblem, SyntheticSpec};
use repair_method::{repair_layer, solve, RepairSettings, Sets};

/// A seeded problem (64 wide, 10 classes) on which a swarm of 4 × 2 ends below the
/// original with both the study's PSO and DE, repair seed the same: the first such seed
/// of 0..300 (found by trying them; committed here).
pub const WORSE_SEED: u64 = 131;

fn problem() -> RepairProblem {
    RepairProblem::synthetic(SyntheticSpec {
        width: 64,
        classes: 10,
        negatives: 40,
        positives: 160,
        sites: 6,
        columns: 3,
        seed: WORSE_SEED,
    })
}

fn settings(method: MethodName, keep_worse: bool) -> RepairSettings {
    RepairSettings::requested(&RepairRequest {
        method,
        particles: 4,
        iterations: 2,
        keep_worse,
        ..RepairRequest::study(0, WORSE_SEED)
    })
    .unwrap()
}

fn sets(p: &RepairProblem) -> Sets {
    Sets {
        negatives: p.negatives.clone(),
        positives: p.positives.clone(),
    }
}

/// RR and BR of the problem's own layer on its sets.
fn rates(p: &RepairProblem) -> (f64, f64) {
    let share = |set: &LabelledActivations, right: bool| {
        let predicted = p.layer.view().predict(set).unwrap();
        let n = predicted
            .iter()
            .zip(&set.labels)
            .filter(|(a, b)| (a == b) == right)
            .count();
        n as f64 / set.len() as f64
    };
    (share(&p.negatives, true), share(&p.positives, false))
}

#[test]
fn a_search_that_ends_below_the_original_returns_the_original_bit_for_bit() {
    let p = problem();
    for method in [MethodName::Arachne, MethodName::De] {
        let worse = solve(
            &p.layer,
            sets(&p),
            Some(p.sites.clone()),
            &settings(method, true),
            None,
            &NoProgress,
        )
        .unwrap();
        let (before, after) = (worse.score.fitness_before, worse.score.fitness_after);
        assert!(
            after.fitness < before.fitness,
            "{method}: seed {WORSE_SEED} no longer ends below the original ({} → {})",
            before.fitness,
            after.fitness
        );
        assert!(!worse.score.kept_original && worse.repaired != p.layer);

        let guarded = solve(
            &p.layer,
            sets(&p),
            Some(p.sites.clone()),
            &settings(method, false),
            None,
            &NoProgress,
        )
        .unwrap();
        assert!(guarded.score.kept_original, "{method}");
        assert_eq!(
            guarded.repaired, p.layer,
            "{method}: the given layer, bit for bit"
        );
        // Both fitnesses are reported: the original's, and the search's best.
        assert_eq!(guarded.score.fitness_before, before);
        assert_eq!(guarded.score.fitness_after, after);
        // RR and BR are the given layer's.
        assert_eq!((guarded.score.rr, guarded.score.br), rates(&p), "{method}");
        assert!(guarded
            .changes
            .iter()
            .all(|c| c.repaired.to_bits() == c.original.to_bits()));
    }
}

#[test]
fn a_search_that_beats_the_original_is_returned_as_found() {
    let p = problem();
    let big = RepairSettings {
        particles: 30,
        iterations: 20,
        ..settings(MethodName::Arachne, false)
    };
    let solved = solve(
        &p.layer,
        sets(&p),
        Some(p.sites.clone()),
        &big,
        None,
        &NoProgress,
    )
    .unwrap();
    assert!(solved.score.fitness_after.fitness > solved.score.fitness_before.fitness);
    assert!(!solved.score.kept_original && solved.repaired != p.layer);
}

/// The repair of a repair set (what a checkpoint's repair runs) goes through the same
/// safeguard: its outcome says so, and its RR and BR are the original's.
#[test]
fn the_repair_of_a_repair_set_keeps_the_original_and_says_so() {
    let p = problem();
    // The negatives are class 0 rows the layer gets wrong; the positives keep the
    // layer's own prediction, so they are right.
    let mut set = LabelledActivations {
        activations: Vec::new(),
        labels: Vec::new(),
    };
    let wrong = p.layer.view().predict(&p.negatives).unwrap();
    for (k, &pred) in wrong.iter().enumerate() {
        if pred != 0 {
            set.activations
                .extend_from_slice(&p.negatives.activations[k * 64..(k + 1) * 64]);
            set.labels.push(0);
        }
    }
    let right = p.layer.view().predict(&p.positives).unwrap();
    set.activations.extend_from_slice(&p.positives.activations);
    set.labels.extend(right);
    let mut kept = 0;
    for seed in 0..10 {
        let s = |keep_worse| RepairSettings {
            seed,
            ..settings(MethodName::Arachne, keep_worse)
        };
        let (layer, outcome) = repair_layer(&p.layer, &set, &s(false), &NoProgress).unwrap();
        let (_, unguarded) = repair_layer(&p.layer, &set, &s(true), &NoProgress).unwrap();
        let (before, after) = (
            unguarded.fitness_before.unwrap().fitness,
            unguarded.fitness_after.unwrap().fitness,
        );
        assert_eq!(outcome.kept_original, after <= before, "seed {seed}");
        if outcome.kept_original {
            kept += 1;
            assert_eq!(layer, p.layer, "seed {seed}");
            assert_eq!((outcome.rr, outcome.br), (0.0, 0.0), "seed {seed}");
        } else {
            assert!(
                outcome.fitness_after.unwrap().fitness > before,
                "seed {seed}"
            );
        }
    }
    assert!(kept > 0, "no seed of 0..10 ended below the original");
}
