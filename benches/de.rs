//! `repair-de`: one whole Arachne v2 search (population 100 × 100 generations, no early
//! stop: 10,100 evaluations) on the GTSRB-sized problems of `pso.rs` — 43 classes, 60
//! negatives, 200 positives, 10 sites, width 512 (cnn-s-like) and 4096 (the study's
//! VGG16 head). The target: ≤ 50 ms on this machine for width 512.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use repair_de::{evolve, DeConfig};
use repair_fitness::ArachneFitness;

pub fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("de_search");
    group.throughput(Throughput::Elements(100 * 101));
    for width in [512, 4096] {
        let p = crate::pso::problem(width, 3);
        let fitness = ArachneFitness::new(&p).unwrap();
        let layer: Vec<f64> = p.layer.kernel.iter().map(|&w| f64::from(w)).collect();
        let config = DeConfig {
            stall: None,
            ..DeConfig::arachne(p.sites.len(), &layer, 1)
        };
        group.bench_function(format!("arachne_v2_100x100_w{width}"), |b| {
            b.iter(|| black_box(evolve(&config, &fitness).unwrap()))
        });
    }
    group.finish();
}
