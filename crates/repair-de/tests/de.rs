//! DE on known functions (sphere, Rastrigin) and on the Arachne repair fitness; one
//! seed gives one search on 1 and 4 threads; bad configs are named.

#[path = "../../../fixtures/searches.rs"]
mod searches;
use searches::{gtsrb_sized_problem as problem, on_threads, timeless};

use repair_de::{evolve, DeConfig, DeError, DeInit, Termination};
use repair_fitness::{ArachneFitness, RepairProblem};

fn plain(dimension: usize, half_width: f64, seed: u64) -> DeConfig {
    DeConfig {
        population: 40,
        generations: 400,
        f_min: 0.5,
        f_max: 1.0,
        crossover: 0.7,
        lower: vec![-half_width; dimension],
        upper: vec![half_width; dimension],
        init: DeInit::Normal {
            mean: 0.0,
            std: half_width / 2.0,
        },
        stall: None,
        seed,
    }
}

#[test]
fn the_sphere_is_solved() {
    // Maximise −Σ x², optimum 0 at the origin, in 10 dimensions.
    let sphere = |x: &[f64]| -x.iter().map(|v| v * v).sum::<f64>();
    let r = evolve(&plain(10, 5.0, 3), &sphere).unwrap();
    assert!(r.initial_best_score < -5.0, "{}", r.initial_best_score);
    assert!(r.best_score > -1e-6, "{}", r.best_score);
    assert!(r.history.windows(2).all(|w| w[1].best >= w[0].best));
    assert_eq!(r.evaluations, 40 * 401);
}

#[test]
fn rastrigin_reaches_its_global_basin() {
    // Rastrigin in 5 dimensions on [−5.12, 5.12]: global optimum 0 at the origin, a local
    // optimum near every integer point (values ≥ ~1 away from it).
    let rastrigin = |x: &[f64]| {
        -(10.0 * x.len() as f64
            + x.iter()
                .map(|v| v * v - 10.0 * (2.0 * std::f64::consts::PI * v).cos())
                .sum::<f64>())
    };
    let config = DeConfig {
        population: 60,
        generations: 600,
        ..plain(5, 5.12, 11)
    };
    let r = evolve(&config, &rastrigin).unwrap();
    assert!(r.best_score > -1e-6, "{}", r.best_score);
    assert!(
        r.best_position.iter().all(|v| v.abs() < 1e-3),
        "{:?}",
        r.best_position
    );
}

fn arachne(problem: &RepairProblem, seed: u64) -> DeConfig {
    let layer: Vec<f64> = problem.layer.kernel.iter().map(|&w| f64::from(w)).collect();
    DeConfig::arachne(problem.sites.len(), &layer, seed)
}

#[test]
fn the_arachne_preset_improves_the_repair_fitness_and_stops_on_a_stall() {
    let problem = problem();
    let fitness = ArachneFitness::new(&problem).unwrap();
    let config = arachne(&problem, 5);
    assert_eq!((config.population, config.generations), (100, 100));
    assert_eq!(
        (config.f_min, config.f_max, config.crossover),
        (0.5, 1.0, 0.7)
    );
    assert_eq!(config.stall, Some(10));
    let r = evolve(&config, &fitness).unwrap();
    assert!(
        r.best_score > r.initial_best_score,
        "{} ≤ {}",
        r.best_score,
        r.initial_best_score
    );
    // Every coordinate stays in the widened range of the layer.
    for (d, v) in r.best_position.iter().enumerate() {
        assert!(config.lower[d] <= *v && *v <= config.upper[d]);
    }
    if let Termination::Stalled { window } = r.termination {
        assert_eq!(window, 10);
        assert!(r.iterations < 100);
    }
}

#[test]
fn the_same_seed_gives_the_same_search_on_one_and_four_threads() {
    let problem = problem();
    let fitness = ArachneFitness::new(&problem).unwrap();
    let config = arachne(&problem, 77);
    let one = on_threads(1, || evolve(&config, &fitness).unwrap());
    let four = on_threads(4, || evolve(&config, &fitness).unwrap());
    assert_eq!(timeless(one.clone()), timeless(four));
    let other = evolve(&arachne(&problem, 78), &fitness).unwrap();
    assert_ne!(other.best_position, one.best_position);
}

#[test]
fn unusable_configs_and_objectives_are_named() {
    let sphere = |x: &[f64]| -x.iter().map(|v| v * v).sum::<f64>();
    let cases: [(DeConfig, &str); 5] = [
        (
            DeConfig {
                population: 3,
                ..plain(2, 1.0, 0)
            },
            "population",
        ),
        (
            DeConfig {
                generations: 0,
                ..plain(2, 1.0, 0)
            },
            "generations",
        ),
        (
            DeConfig {
                crossover: 1.5,
                ..plain(2, 1.0, 0)
            },
            "crossover",
        ),
        (
            DeConfig {
                f_min: 0.0,
                ..plain(2, 1.0, 0)
            },
            "f_min",
        ),
        (
            DeConfig {
                upper: vec![1.0],
                ..plain(2, 1.0, 0)
            },
            "lower/upper",
        ),
    ];
    for (config, field) in cases {
        let e = evolve(&config, &sphere).unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
    let nan = |_: &[f64]| f64::NAN;
    let e = evolve(&plain(2, 1.0, 0), &nan).unwrap_err();
    assert!(
        matches!(
            e,
            DeError::NonFiniteScore {
                generation: None,
                individual: 0,
                ..
            }
        ),
        "{e}"
    );
    let fitness = ArachneFitness::new(&problem()).unwrap();
    let e = evolve(&plain(3, 1.0, 0), &fitness).unwrap_err();
    assert!(
        matches!(
            e,
            DeError::Dimension {
                config: 3,
                objective: 10
            }
        ),
        "{e}"
    );
}
