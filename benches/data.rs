//! `repair-data`: loading GTSRB and splitting it (target ≤ 1 s), one 128-image `f32`
//! batch (target ≤ 1 ms).

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use repair_benches::data_root;
use repair_data::{load_gtsrb, Batcher, Split, SplitConfig, SplitPart};

/// Packed GTSRB (train + test, 159 MB) from disk (page cache) to a study split.
pub fn load_and_split(c: &mut Criterion) {
    let Some(root) = data_root() else { return };
    let dir = root.join("gtsrb");
    let mut group = c.benchmark_group("gtsrb");
    group.sample_size(10);
    group.throughput(Throughput::Elements(51_839));
    group.bench_function("load_and_study_split", |b| {
        b.iter(|| {
            let corpus = load_gtsrb(&dir).unwrap();
            let split = Split::make(&corpus, &SplitConfig::study("gtsrb", 42)).unwrap();
            black_box((corpus, split))
        })
    });
    group.finish();
}

/// One shuffled 128-image batch of the training split as an `f32` CPU tensor.
pub fn one_batch(c: &mut Criterion) {
    let Some(root) = data_root() else { return };
    let corpus = load_gtsrb(&root.join("gtsrb")).unwrap();
    let split = Split::make(&corpus, &SplitConfig::study("gtsrb", 42)).unwrap();
    let train = split.view(&corpus, SplitPart::Train);
    let batcher = Batcher::new(&train, 128, 42);
    let order = batcher.order(0);
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(128));
    group.bench_function("f32_128x3x32x32", |b| {
        let mut k = 0;
        b.iter(|| {
            let start = (k * 128) % (order.len() - 128);
            k += 1;
            black_box(batcher.batch(&order[start..start + 128]).unwrap())
        })
    });
    group.finish();
}
