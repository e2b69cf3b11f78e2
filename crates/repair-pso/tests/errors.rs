//! Bad problems, bad configs and bad objectives give errors that name the value at
//! fault, never a panic.

use repair_pso::{
    run, ArachneFitness, Coefficients, FullFitness, ProblemError, PsoConfig, PsoError,
    RepairProblem, Site, SpeedLimits, SyntheticSpec, ZeroVelocity,
};

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
    p.kernel[7] = f32::INFINITY;
    expect(p, "kernel[7] is inf");
    let mut p = problem();
    p.bias[0] = f32::NAN;
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
    p.kernel.pop();
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
fn bad_configs_are_errors_naming_the_field() {
    let p = problem();
    let fitness = ArachneFitness::new(&p).unwrap();
    let base = PsoConfig::arachne(p.current(), p.layer_scale(), 1);
    let cases = [
        (
            PsoConfig {
                particles: 0,
                ..base.clone()
            },
            "particles = 0",
        ),
        (
            PsoConfig {
                coefficients: Coefficients::Constriction {
                    phi: 3.9,
                    c1: 2.0,
                    c2: 2.0,
                },
                ..base.clone()
            },
            "coefficients.phi = 3.9",
        ),
        (
            PsoConfig {
                speed: Some(SpeedLimits {
                    min: 1.0,
                    max: 0.5,
                    zero: ZeroVelocity::Negative,
                }),
                ..base.clone()
            },
            "min 1 > max 0.5",
        ),
        (
            PsoConfig::arachne(vec![0.0; 2], p.layer_scale(), 1),
            "the objective expects another number of coordinates",
        ),
    ];
    for (config, message) in cases {
        let err = run(config, &fitness).unwrap_err();
        assert!(
            err.to_string().contains(message),
            "`{err}` lacks `{message}`"
        );
    }
}

#[test]
fn a_nan_score_stops_the_search_naming_the_particle_and_iteration() {
    let config = PsoConfig::canonical(vec![0.0], 1.0, 3);
    // Finite at the start, NaN once a particle moves past 10.
    let err = run(config.clone(), &|x: &[f64]| {
        if x[0].abs() > 1e3 {
            f64::NAN
        } else {
            x[0]
        }
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            PsoError::NonFiniteScore {
                iteration: Some(_),
                ..
            }
        ),
        "{err}"
    );
    let err = run(config, &|_: &[f64]| f64::NAN).unwrap_err();
    assert_eq!(
        err.to_string(),
        "PSO: the objective scored particle 0 NaN at its initial position"
    );
}
