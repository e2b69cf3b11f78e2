//! `repair-pso`: one Arachne fitness evaluation, incremental against full recompute,
//! and one whole paper-config search (100 particles × 50 iterations, no early stop:
//! 5,100 evaluations) on GTSRB-sized problems — 43 classes, 60 negatives, 200
//! positives, 10 sites, penultimate width 512 (cnn-s-like) and 4096 (the study's VGG16
//! head). Throughput is in evaluations per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use repair_fitness::{ArachneFitness, FullFitness, RepairProblem, SyntheticSpec};
use repair_fl::FaultLocaliser;
use repair_pso::{run, PsoConfig};

/// A GTSRB-sized problem; `columns` is how many classes the 10 sites touch (also the
/// problem of the DE and method benches).
pub(crate) fn problem(width: usize, columns: usize) -> RepairProblem {
    RepairProblem::synthetic(SyntheticSpec {
        width,
        classes: 43,
        negatives: 60,
        positives: 200,
        sites: 10,
        columns,
        seed: 7,
    })
}

/// One evaluation, both forms; the site spread (3 columns, the usual Pareto front of a
/// single-class repair touching the target and one or two confused classes) and the
/// worst case (10 columns).
pub fn fitness(c: &mut Criterion) {
    let mut group = c.benchmark_group("pso_fitness");
    group.throughput(Throughput::Elements(1));
    for (width, columns) in [(512, 3), (4096, 3), (4096, 10)] {
        let p = problem(width, columns);
        let x = p.current();
        let fast = ArachneFitness::new(&p).unwrap();
        group.bench_function(format!("incremental_w{width}_c{columns}"), |b| {
            b.iter(|| black_box(fast.evaluate(black_box(&x)).unwrap()))
        });
        if columns == 3 {
            let full = FullFitness::new(&p).unwrap();
            group.bench_function(format!("full_w{width}_c{columns}"), |b| {
                b.iter(|| black_box(full.evaluate(black_box(&x)).unwrap()))
            });
        }
    }
    group.finish();
}

/// One whole search with the `arachne` preset, all 50 iterations.
pub fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("pso_search");
    group.throughput(Throughput::Elements(100 * 51));
    for width in [512, 4096] {
        let p = problem(width, 3);
        let fitness = ArachneFitness::new(&p).unwrap();
        let config = PsoConfig {
            stall: None,
            ..PsoConfig::arachne(p.current(), p.layer_scale(), 1)
        };
        group.bench_function(format!("arachne_100x50_w{width}"), |b| {
            b.iter(|| black_box(run(config.clone(), &fitness).unwrap()))
        });
    }
    group.finish();
}

/// Fault localisation (Arachne) alone, and FL followed by the study's whole search
/// (with its early stop), on the GTSRB-sized problem of width 512 — the repair of one
/// checkpoint and class once activations are cached.
pub fn fl_and_search(c: &mut Criterion) {
    let mut group = c.benchmark_group("repair");
    let p = problem(512, 3);
    let layer = p.layer.view();
    let arachne = repair_fl::Arachne::default();
    group.bench_function("fl_arachne_w512", |b| {
        b.iter(|| {
            black_box(
                arachne
                    .localise(&layer, &p.negatives, &p.positives)
                    .unwrap(),
            )
        })
    });
    group.bench_function("fl_and_search_w512", |b| {
        b.iter(|| {
            let found = arachne
                .localise(&layer, &p.negatives, &p.positives)
                .unwrap();
            let problem = RepairProblem {
                sites: found.sites,
                ..p.clone()
            };
            let fitness = ArachneFitness::new(&problem).unwrap();
            let config = PsoConfig::arachne(problem.current(), problem.layer_scale(), 1);
            black_box(run(config, &fitness).unwrap())
        })
    });
    group.finish();
}
