//! Bad problems give errors that name the value at fault, never a panic; so does a
//! search config that does not fit the problem.

use repair_core::{ProblemError, Site};
use repair_fitness::{ArachneFitness, FullFitness, RepairProblem, SyntheticSpec};
use repair_pso::{run, PsoConfig};

fn problem() -> RepairProblem {
    RepairProblem::synthetic(SyntheticSpec {
        width: 8,
        classes: 4,
        negatives: 3,
        positives: 5,
        sites: 3,
        columns: 2,
        seed: 1,
    })
}

fn both(problem: &RepairProblem) -> [Result<(), ProblemError>; 2] {
    [
        ArachneFitness::new(problem).map(drop),
        FullFitness::new(problem).map(drop),
    ]
}

fn expect(problem: RepairProblem, message: &str) {
    for result in both(&problem) {
        let err = result.expect_err(message);
        assert!(
            err.to_string().contains(message),
            "`{err}` lacks `{message}`"
        );
    }
}

#[test]
fn nan_activations_or_weights_are_named_with_their_index() {
    let mut p = problem();
    p.negatives.activations[5] = f32::NAN;
    expect(p, "negatives[5] is NaN");
    let mut p = problem();
    p.layer.kernel[7] = f32::INFINITY;
    expect(p, "kernel[7] is inf");
    let mut p = problem();
    p.layer.bias[0] = f32::NAN;
    expect(p, "bias[0] is NaN");
}

#[test]
fn a_site_outside_the_layer_or_listed_twice_is_refused() {
    let mut p = problem();
    p.sites.push(Site { i: 8, j: 0 });
    expect(p, "site (8, 0) is outside the layer (layer is 8 × 4)");
    let mut p = problem();
    p.sites.push(p.sites[0]);
    expect(p, "is listed twice");
}

#[test]
fn wrong_labels_lengths_and_empty_sets_are_refused() {
    let mut p = problem();
    p.positives.labels[2] = 4;
    expect(
        p,
        "positives row 2 has label 4, but the layer has 4 classes",
    );
    let mut p = problem();
    p.layer.kernel.pop();
    expect(p, "kernel has 31 values, expected 32");
    let mut p = problem();
    p.negatives.labels.clear();
    p.negatives.activations.clear();
    expect(p, "nothing to repair");
    let mut p = problem();
    p.sites.clear();
    expect(p, "no weight sites");
}

#[test]
fn a_position_of_the_wrong_length_is_an_error() {
    let p = problem();
    let err = ArachneFitness::new(&p)
        .unwrap()
        .evaluate(&[0.0])
        .unwrap_err();
    assert_eq!(err, ProblemError::Position { found: 1, sites: 3 });
    let err = p.patched_kernel(&[0.0; 4]).unwrap_err();
    assert_eq!(err, ProblemError::Position { found: 4, sites: 3 });
}

#[test]
fn a_search_of_another_dimension_than_the_sites_is_refused() {
    let p = problem();
    let fitness = ArachneFitness::new(&p).unwrap();
    let err = run(
        PsoConfig::arachne(vec![0.0; 2], p.layer_scale(), 1),
        &fitness,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("the objective expects another number of coordinates"),
        "{err}"
    );
}
