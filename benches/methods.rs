//! The other repair methods (DE, adaptive, history) on the GTSRB-sized problems of `pso.rs` (43
//! classes, 60 negatives, 200 positives, width 512 and 4096), FL included:
//!
//! * `adaptive`: Arachne FL, then PSO phases of 100 particles within a 50-iteration
//!   budget, re-localised when the best stagnates (w = 10, τ = 0.005): the method as an
//!   experiment runs it, switches and early ends included;
//! * `history`: the history localiser (10 sites, against an earlier kernel = this one
//!   plus seeded noise), then the study's PSO, 100 × 50 without early stop, on the
//!   regression-controlled objective.

use std::hint::black_box;

use criterion::Criterion;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use repair_adaptive::{adaptive_repair, AdaptiveConfig, AdaptiveProblem};
use repair_core::CrossEntropy;
use repair_fitness::{ArachneFitness, RegressionControlled, RepairProblem};
use repair_fl::{Arachne, FaultLocaliser, HistoryLocaliser};
use repair_pso::{run, PsoConfig};

pub fn adaptive(c: &mut Criterion) {
    let mut group = c.benchmark_group("adaptive_search");
    for width in [512, 4096] {
        let p = crate::pso::problem(width, 3);
        let problem = AdaptiveProblem {
            layer: &p.layer,
            negatives: &p.negatives,
            positives: &p.positives,
            loss: CrossEntropy::Logits,
        };
        let config = AdaptiveConfig::default();
        let swarm = |start, scale, seed| PsoConfig::arachne(start, scale, seed);
        group.bench_function(format!("fl_pso_phases_w{width}"), |b| {
            b.iter(|| {
                let found = adaptive_repair(
                    &problem,
                    &Arachne::default(),
                    &config,
                    &swarm,
                    1,
                    &mut |_, _| {},
                );
                black_box(found.unwrap())
            })
        });
    }
    group.finish();
}

pub fn history(c: &mut Criterion) {
    let mut group = c.benchmark_group("history_search");
    for width in [512, 4096] {
        let p = crate::pso::problem(width, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let noise = Normal::new(0.0f32, 0.01).unwrap();
        let earlier: Vec<f32> = p
            .layer
            .kernel
            .iter()
            .map(|w| w + noise.sample(&mut rng))
            .collect();
        group.bench_function(format!("fl_pso_100x50_w{width}"), |b| {
            b.iter(|| {
                let localiser = HistoryLocaliser {
                    earlier_kernel: &earlier,
                    k: 10,
                    loss: CrossEntropy::Logits,
                };
                let sites = localiser
                    .localise(&p.layer.view(), &p.negatives, &p.positives)
                    .unwrap()
                    .sites;
                let problem = RepairProblem { sites, ..p.clone() };
                let fitness = ArachneFitness::new(&problem).unwrap();
                let objective = RegressionControlled::new(&fitness, 1.0).unwrap();
                let config = PsoConfig {
                    stall: None,
                    ..PsoConfig::arachne(problem.current(), problem.layer_scale(), 1)
                };
                black_box(run(config, &objective).unwrap())
            })
        });
    }
    group.finish();
}
