//! The adaptive search on constructed problems: a first site set that cannot fix the
//! negatives and a second that can; a search that never switches is the plain one; one
//! seed gives one result on 1 and 4 threads.

use std::sync::atomic::{AtomicUsize, Ordering};

use repair_adaptive::{
    adaptive_repair, AdaptiveConfig, AdaptiveError, AdaptiveProblem, AdaptiveResult, AdaptiveStop,
    PhaseEnd,
};
use repair_core::{CrossEntropy, DenseLayer, DenseLayerView, LabelledActivations, Site};
use repair_fitness::{ArachneFitness, RepairProblem};
use repair_fl::{Arachne, FaultLocaliser, FlError, Localisation};
use repair_pso::{run, PsoConfig};

/// A localiser that answers its k-th call with the k-th site set (the last one after).
struct Scripted {
    calls: AtomicUsize,
    answers: Vec<Vec<Site>>,
}

impl FaultLocaliser for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }

    fn localise(
        &self,
        _: &DenseLayerView<'_>,
        _: &LabelledActivations,
        _: &LabelledActivations,
    ) -> Result<Localisation, FlError> {
        let k = self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(Localisation {
            sites: self.answers[k.min(self.answers.len() - 1)].clone(),
            candidates: Vec::new(),
        })
    }
}

/// 3 units, 2 classes. W = [[1, 0], [0, 0], [0.5, 0]] (i rows). Unit 1 is dead (0 on
/// every row), so its weights cannot change any logit. The negative (0, 0, 1) of class
/// 1 scores z = (0.5, 0): wrong, and W_21 > 0.5 fixes it without touching the positive
/// (1, 0, 0) of class 0 (z = (1, 0)).
fn problem() -> (DenseLayer, LabelledActivations, LabelledActivations) {
    let layer = DenseLayer::new(3, 2, vec![1.0, 0.0, 0.0, 0.0, 0.5, 0.0], vec![0.0; 2]).unwrap();
    let negatives = LabelledActivations {
        activations: vec![0.0, 0.0, 1.0],
        labels: vec![1],
    };
    let positives = LabelledActivations {
        activations: vec![1.0, 0.0, 0.0],
        labels: vec![0],
    };
    (layer, negatives, positives)
}

const DEAD: [Site; 2] = [Site { i: 1, j: 0 }, Site { i: 1, j: 1 }];
const LIVE: [Site; 1] = [Site { i: 2, j: 1 }];

fn repair_with(
    localiser: &dyn FaultLocaliser,
    config: &AdaptiveConfig,
    seed: u64,
) -> Result<AdaptiveResult, AdaptiveError> {
    let (layer, negatives, positives) = problem();
    let problem = AdaptiveProblem {
        layer: &layer,
        negatives: &negatives,
        positives: &positives,
        loss: CrossEntropy::Logits,
    };
    adaptive_repair(
        &problem,
        localiser,
        config,
        &|start, scale, seed| PsoConfig {
            particles: 20,
            ..PsoConfig::arachne(start, scale, seed)
        },
        seed,
        &mut |_, _| {},
    )
}

#[test]
fn a_stagnating_first_site_set_switches_to_a_second_that_fixes_the_negatives() {
    let scripted = Scripted {
        calls: AtomicUsize::new(0),
        answers: vec![DEAD.to_vec(), LIVE.to_vec()],
    };
    let config = AdaptiveConfig::default();
    let result = repair_with(&scripted, &config, 7).unwrap();
    // Phase 0 on the dead unit: the score cannot move, so it stagnates after w + 1
    // iterations and fixes nothing.
    let first = &result.phases[0];
    assert_eq!(first.sites, DEAD.to_vec());
    assert_eq!(first.iterations, config.window + 1);
    assert!(
        matches!(first.end, PhaseEnd::Stagnated { improvement, threshold }
            if improvement == 0.0 && threshold == config.threshold),
        "{:?}",
        first.end
    );
    assert_eq!(first.on_original.n_patched, 0);
    // Phase 1 relocalised onto the live weight and fixed the negative, keeping the
    // positive.
    let second = &result.phases[1];
    assert_eq!(second.sites, LIVE.to_vec());
    assert_eq!(second.first_iteration, config.window + 1);
    assert_eq!(result.best_phase, 1);
    assert_eq!(
        (
            result.fitness_after.n_patched,
            result.fitness_after.n_intact
        ),
        (1, 1)
    );
    assert_eq!(result.fitness_before.n_patched, 0);
    assert!(result.layer.kernel[2 * 2 + 1] > 0.5);
    // The sites of the answer are both phases'; the history numbers iterations over
    // both and tells them apart.
    assert_eq!(result.sites, [DEAD.to_vec(), LIVE.to_vec()].concat());
    let switch = result.history.iter().position(|(p, _)| *p == 1).unwrap();
    assert_eq!(switch, config.window + 1);
    assert_eq!(result.history[switch].1.iteration, config.window + 1);
    assert!(result
        .history
        .windows(2)
        .all(|w| w[1].1.evaluations > w[0].1.evaluations));
    assert!(matches!(
        result.stop,
        AdaptiveStop::NoNegativesLeft | AdaptiveStop::Budget
    ));
    assert!(result.history.len() <= config.iterations);
}

#[test]
fn a_search_that_never_switches_is_the_plain_search() {
    let (layer, negatives, positives) = problem();
    // τ = 0: no improvement is below it, so phase 0 runs to the swarm's own end.
    let config = AdaptiveConfig {
        threshold: 0.0,
        max_phases: 1,
        ..AdaptiveConfig::default()
    };
    let adaptive = repair_with(&Arachne::default(), &config, 11).unwrap();
    let sites = Arachne::default()
        .localise(&layer.view(), &negatives, &positives)
        .unwrap()
        .sites;
    let problem = RepairProblem {
        layer: layer.clone(),
        negatives,
        positives,
        sites: sites.clone(),
    };
    let fitness = ArachneFitness::new(&problem).unwrap();
    let plain = run(
        PsoConfig {
            particles: 20,
            ..PsoConfig::arachne(problem.current(), problem.layer_scale(), 11)
        },
        &fitness,
    )
    .unwrap();
    assert_eq!(adaptive.layer, layer.patched(&sites, &plain.best_position));
    assert_eq!(adaptive.evaluations, plain.evaluations);
    assert_eq!(adaptive.phases.len(), 1);
}

#[test]
fn one_seed_gives_one_adaptive_repair_on_1_and_4_threads() {
    let run_on = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let scripted = Scripted {
                    calls: AtomicUsize::new(0),
                    answers: vec![DEAD.to_vec(), LIVE.to_vec()],
                };
                repair_with(&scripted, &AdaptiveConfig::default(), 5).unwrap()
            })
    };
    let (one, four) = (run_on(1), run_on(4));
    assert_eq!(one.layer, four.layer);
    assert_eq!(one.phases, four.phases);
    let strip = |r: &AdaptiveResult| {
        r.history
            .iter()
            .map(|(p, h)| (*p, h.iteration, h.best, h.mean, h.evaluations))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&one), strip(&four));
}

#[test]
fn unusable_settings_are_refused_by_name() {
    for (config, field) in [
        (
            AdaptiveConfig {
                window: 0,
                ..AdaptiveConfig::default()
            },
            "window = 0",
        ),
        (
            AdaptiveConfig {
                threshold: f64::NAN,
                ..AdaptiveConfig::default()
            },
            "threshold = NaN",
        ),
        (
            AdaptiveConfig {
                max_phases: 0,
                ..AdaptiveConfig::default()
            },
            "max_phases = 0",
        ),
        (
            AdaptiveConfig {
                iterations: 0,
                ..AdaptiveConfig::default()
            },
            "iterations = 0",
        ),
    ] {
        let e = repair_with(&Arachne::default(), &config, 0).unwrap_err();
        assert!(e.to_string().contains(field), "{e}");
    }
}
