//! Criterion benchmarks. Real data comes from `EARLY_REPAIR_DATA` (the folder holding
//! `gtsrb/`). Run all: `EARLY_REPAIR_DATA=../shared/datasets cargo bench -p repair-benches`.

use criterion::{criterion_group, criterion_main};

/// The same allocator as `xtask`, so the benchmarks time what the tool runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// As `xtask` does at start: freed pages stay mapped (mimalloc v2 option 15 =
/// `mi_option_purge_delay`, −1 = never purge).
pub(crate) fn keep_freed_pages() {
    // SAFETY: sets a plain integer option of the allocator.
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
}

mod data;
mod de;
mod methods;
mod online;
mod pso;
mod solve;
mod train;

criterion_group!(
    benches,
    data::load_and_split,
    data::one_batch,
    pso::fitness,
    pso::search,
    pso::fl_and_search,
    solve::given_sites,
    de::search,
    methods::adaptive,
    methods::history,
    train::train_step_bench,
    online::online_epoch
);
criterion_main!(benches);
