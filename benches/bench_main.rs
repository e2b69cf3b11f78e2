//! Criterion benchmarks. Real data comes from `EARLY_REPAIR_DATA` (the folder holding
//! `gtsrb/`). Run all: `EARLY_REPAIR_DATA=../shared/datasets cargo bench -p repair-benches`.

use criterion::{criterion_group, criterion_main};

mod data;
mod pso;
mod train;

criterion_group!(
    benches,
    data::load_and_split,
    data::one_batch,
    pso::fitness,
    pso::search,
    pso::fl_and_search,
    train::train_step_bench
);
criterion_main!(benches);
