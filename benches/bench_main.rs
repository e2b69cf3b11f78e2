//! Criterion benchmarks. Real data comes from `EARLY_REPAIR_DATA` (the folder holding
//! `gtsrb/`). Run: `EARLY_REPAIR_DATA=../shared/datasets cargo bench -p repair-benches`.

use criterion::{criterion_group, criterion_main};

mod data;

criterion_group!(benches, data::load_and_split, data::one_batch);
criterion_main!(benches);
