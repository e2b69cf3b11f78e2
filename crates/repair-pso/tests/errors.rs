//! Bad configs and bad objectives give errors that name the value at fault, never a
//! panic.

use repair_pso::{
    run, Coefficients, LayerScale, Objective, PsoConfig, PsoError, SpeedLimits, ZeroVelocity,
};

/// −|x|² over three coordinates, which it says it expects.
struct Bowl;

impl Objective for Bowl {
    fn score(&self, position: &[f64]) -> f64 {
        -position.iter().map(|x| x * x).sum::<f64>()
    }

    fn dimension(&self) -> Option<usize> {
        Some(3)
    }
}

#[test]
fn bad_configs_are_errors_naming_the_field() {
    let objective = Bowl;
    let scale = LayerScale {
        std: 0.1,
        range: 1.0,
    };
    let base = PsoConfig::arachne(vec![0.0; 3], scale, 1);
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
            PsoConfig::arachne(vec![0.0; 2], scale, 1),
            "the objective expects another number of coordinates",
        ),
    ];
    for (config, message) in cases {
        let err = run(config, &objective).unwrap_err();
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
