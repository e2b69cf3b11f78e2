//! `solve` is the search part of `repair_layer`: on the negatives and positives a
//! repair set gives, it finds the same layer; given sites skip FL; bad problems are
//! errors that say what is wrong.

use repair_core::{LabelledActivations, MethodName, NoProgress, Search, Site};
use repair_fitness::{RepairProblem, SyntheticSpec};
use repair_method::{repair_layer, solve, RepairSettings, Sets, Strategy};

/// A GTSRB-like problem, smaller: 64 wide, 8 classes.
fn problem() -> RepairProblem {
    RepairProblem::synthetic(SyntheticSpec {
        width: 64,
        classes: 8,
        negatives: 30,
        positives: 120,
        sites: 6,
        columns: 3,
        seed: 11,
    })
}

fn settings(method: MethodName) -> RepairSettings {
    let mut s = RepairSettings {
        particles: 20,
        iterations: 15,
        ..RepairSettings::study(0, 5)
    };
    match method {
        MethodName::Arachne => {}
        MethodName::De => s.search = Search::De,
        MethodName::Adaptive => {
            s.strategy = Strategy::Adaptive {
                window: 3,
                threshold: 0.005,
                max_phases: 3,
            }
        }
        MethodName::History => {
            s.strategy = Strategy::History {
                sites: 6,
                penalty: 1.0,
            }
        }
    }
    s
}

/// The repair set whose wrong rows of class 0 and right rows are the problem's sets,
/// as a model of the problem's layer predicts them.
fn repair_set(p: &RepairProblem) -> LabelledActivations {
    let predicted_negatives = p.layer.view().predict(&p.negatives).unwrap();
    let mut set = LabelledActivations {
        activations: Vec::new(),
        labels: Vec::new(),
    };
    // The synthetic negatives become class 0 rows the layer gets wrong.
    for (k, &pred) in predicted_negatives.iter().enumerate() {
        if pred != 0 {
            set.activations
                .extend_from_slice(&p.negatives.activations[k * 64..(k + 1) * 64]);
            set.labels.push(0);
        }
    }
    let predicted = p.layer.view().predict(&p.positives).unwrap();
    for (k, &pred) in predicted.iter().enumerate() {
        set.activations
            .extend_from_slice(&p.positives.activations[k * 64..(k + 1) * 64]);
        set.labels.push(pred);
    }
    set
}

#[test]
fn solve_on_the_sets_of_a_repair_finds_the_same_layer_for_every_method() {
    let p = problem();
    let set = repair_set(&p);
    for method in MethodName::ALL {
        let s = settings(method);
        let (layer, outcome) = repair_layer(&p.layer, &set, &s, &NoProgress).unwrap();
        assert!(!outcome.nothing_to_repair, "{method}");
        let searched = outcome.problem.clone().unwrap();
        let sets = Sets {
            negatives: searched.negatives.clone(),
            positives: searched.positives.clone(),
        };
        let solved = solve(&p.layer, sets, None, &s, None, &NoProgress).unwrap();
        assert_eq!(solved.repaired, layer, "{method}");
        assert_eq!(
            Some(solved.score.fitness_after),
            outcome.fitness_after,
            "{method}"
        );
        assert_eq!(solved.score.evaluations, outcome.evaluations, "{method}");
        let scores = |h: &[repair_pso::IterationRecord]| -> Vec<(f64, f64, u64)> {
            h.iter().map(|r| (r.best, r.mean, r.evaluations)).collect()
        };
        assert_eq!(
            scores(&solved.history),
            scores(&outcome.history),
            "{method}"
        );
        // RR on the problem's negatives: those the repaired layer now gets right.
        let right = layer.view().predict(&searched.negatives).unwrap();
        let fixed = right
            .iter()
            .zip(&searched.negatives.labels)
            .filter(|(a, b)| a == b)
            .count();
        assert_eq!(
            solved.score.rr,
            fixed as f64 / searched.negatives.len() as f64
        );
    }
}

#[test]
fn given_sites_are_searched_without_fault_localisation() {
    let p = problem();
    let sets = Sets {
        negatives: p.negatives.clone(),
        positives: p.positives.clone(),
    };
    let s = settings(MethodName::Arachne);
    let solved = solve(
        &p.layer,
        sets.clone(),
        Some(p.sites.clone()),
        &s,
        None,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(solved.sites, p.sites);
    assert!(solved.candidates.is_empty());
    assert_eq!(solved.changes.len(), p.sites.len());
    // Only the sites changed.
    for (k, (a, b)) in p
        .layer
        .kernel
        .iter()
        .zip(&solved.repaired.kernel)
        .enumerate()
    {
        let site = Site {
            i: k / p.layer.classes,
            j: k % p.layer.classes,
        };
        if !p.sites.contains(&site) {
            assert_eq!(a, b, "{site:?}");
        }
    }
    assert!(solved.score.fitness_after.fitness >= solved.score.fitness_before.fitness);
    let again = solve(&p.layer, sets, Some(p.sites.clone()), &s, None, &NoProgress).unwrap();
    assert_eq!(again.repaired, solved.repaired);
}

#[test]
fn bad_problems_are_errors_that_say_what_is_wrong() {
    let p = problem();
    let s = settings(MethodName::Arachne);
    let sets = || Sets {
        negatives: p.negatives.clone(),
        positives: p.positives.clone(),
    };
    let fails = |sets: Sets, sites: Option<Vec<Site>>, s: &RepairSettings| {
        solve(&p.layer, sets, sites, s, None, &NoProgress)
            .unwrap_err()
            .to_string()
    };
    let mut nan = sets();
    nan.negatives.activations[3] = f32::NAN;
    let e = fails(nan, None, &s);
    assert!(e.contains("negatives") && e.contains("NaN"), "{e}");
    let mut label = sets();
    label.positives.labels[2] = 8;
    let e = fails(label, None, &s);
    assert!(e.contains("positives") && e.contains('8'), "{e}");
    let mut empty = sets();
    empty.negatives = LabelledActivations {
        activations: Vec::new(),
        labels: Vec::new(),
    };
    assert!(fails(empty, None, &s).contains("no negative inputs"));
    let outside = vec![Site { i: 64, j: 0 }];
    let e = fails(sets(), Some(outside), &s);
    assert!(e.contains("outside the layer"), "{e}");
    let e = fails(
        sets(),
        Some(p.sites.clone()),
        &settings(MethodName::Adaptive),
    );
    assert!(e.contains("give no sites"), "{e}");
}

/// No rows: a set with nothing in it.
fn no_rows() -> LabelledActivations {
    LabelledActivations {
        activations: Vec::new(),
        labels: Vec::new(),
    }
}

/// What a solved repair must satisfy whatever its inputs: a finite fitness, a search's
/// best that beats the original or else the original given back (the safeguard), and
/// RR the share of `negatives` the returned layer gets right.
fn assert_sound(
    solved: &repair_method::Solved,
    original: &repair_core::DenseLayer,
    negatives: &LabelledActivations,
    what: &str,
) {
    let (before, after) = (&solved.score.fitness_before, &solved.score.fitness_after);
    assert!(after.fitness.is_finite(), "{what}: {after:?}");
    if solved.score.kept_original {
        assert_eq!(&solved.repaired, original, "{what}");
    } else {
        assert!(
            after.fitness > before.fitness,
            "{what}: {before:?} → {after:?}"
        );
    }
    let right = solved.repaired.view().predict(negatives).unwrap();
    let fixed = right
        .iter()
        .zip(&negatives.labels)
        .filter(|(a, b)| a == b)
        .count();
    assert_eq!(
        solved.score.rr,
        fixed as f64 / negatives.len() as f64,
        "{what}"
    );
}

#[test]
fn a_repair_with_no_positives_is_searched_on_its_negatives_alone_by_every_method() {
    let p = problem();
    for method in MethodName::ALL {
        let sets = Sets {
            negatives: p.negatives.clone(),
            positives: no_rows(),
        };
        let solved = solve(&p.layer, sets, None, &settings(method), None, &NoProgress).unwrap();
        assert_sound(&solved, &p.layer, &p.negatives, &format!("{method}"));
        // The intact term is the constant (0 + 1) / (0 + 1): nothing to break.
        let after = &solved.score.fitness_after;
        assert_eq!((after.n_intact, after.loss_pos), (0, 0.0), "{method}");
        assert_eq!(solved.score.br, 0.0, "{method}");
        assert!(solved.score.rr > 0.0, "{method}: nothing fixed");
    }
    // Through the repair entry point: a repair set on which the model gets every row
    // wrong has no correct input to sample positives from.
    let all_wrong = {
        let set = repair_set(&p);
        let predicted = p.layer.view().predict(&set).unwrap();
        let keep: Vec<usize> = (0..set.len())
            .filter(|&k| predicted[k] != set.labels[k])
            .collect();
        LabelledActivations {
            activations: keep
                .iter()
                .flat_map(|&k| set.activations[k * 64..(k + 1) * 64].iter().copied())
                .collect(),
            labels: keep.iter().map(|&k| set.labels[k]).collect(),
        }
    };
    let (_, outcome) = repair_layer(
        &p.layer,
        &all_wrong,
        &settings(MethodName::Arachne),
        &NoProgress,
    )
    .unwrap();
    assert_eq!((outcome.correct, outcome.positives_sampled), (0, 0));
    assert_eq!(outcome.br, 0.0);
    assert!(outcome.rr > 0.0 && outcome.fitness_after.unwrap().fitness.is_finite());
}

#[test]
fn one_negative_or_a_swarm_of_one_particle_is_searched_not_refused() {
    let p = problem();
    let one_negative = LabelledActivations {
        activations: p.negatives.activations[..64].to_vec(),
        labels: p.negatives.labels[..1].to_vec(),
    };
    for method in MethodName::ALL {
        let sets = Sets {
            negatives: one_negative.clone(),
            positives: p.positives.clone(),
        };
        let solved = solve(&p.layer, sets, None, &settings(method), None, &NoProgress).unwrap();
        assert_sound(
            &solved,
            &p.layer,
            &one_negative,
            &format!("{method}, one negative"),
        );
        assert!([0.0, 1.0].contains(&solved.score.rr));
    }
    // One particle: PSO's swarm (and the phases of adaptive and history) still moves;
    // DE needs three others to mutate from, so it says so instead.
    for method in MethodName::ALL {
        let s = RepairSettings {
            particles: 1,
            ..settings(method)
        };
        let sets = Sets {
            negatives: p.negatives.clone(),
            positives: p.positives.clone(),
        };
        match (method, solve(&p.layer, sets, None, &s, None, &NoProgress)) {
            (MethodName::De, Err(e)) => {
                assert!(e.to_string().contains("population"), "{e}")
            }
            (_, Ok(solved)) => {
                assert_sound(
                    &solved,
                    &p.layer,
                    &p.negatives,
                    &format!("{method}, one particle"),
                );
                assert!(solved.score.evaluations > 0, "{method}");
            }
            (_, Err(e)) => panic!("{method}, one particle: {e}"),
        }
    }
}
