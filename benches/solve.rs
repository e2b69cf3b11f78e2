//! `repair_method::solve`, the call behind `xtask repair --problem` and the Python
//! package's `repair()`, on `pso.rs`'s GTSRB-sized problem of width 512 with its sites
//! given (no FL) and the study's settings at seed 1: what
//! `python/benches/repair_timeit.py` times through Python on the same problem.

use std::hint::black_box;

use criterion::Criterion;
use repair_core::NoProgress;
use repair_method::{solve, RepairSettings, Sets};

pub fn given_sites(c: &mut Criterion) {
    let mut group = c.benchmark_group("solve");
    let p = crate::pso::problem(512, 3);
    let settings = RepairSettings::study(0, 1);
    let sets = Sets {
        negatives: p.negatives.clone(),
        positives: p.positives.clone(),
    };
    group.bench_function("arachne_100x50_w512_sites", |b| {
        b.iter(|| {
            let solved = solve(
                &p.layer,
                sets.clone(),
                Some(p.sites.clone()),
                &settings,
                None,
                &NoProgress,
            );
            black_box(solved.unwrap())
        })
    });
    group.finish();
}
