//! The online mode's cost per epoch against the epoch it follows, on full GTSRB (study
//! split) with `cnn-s`: `online/epoch_overhead` is what `train_online` adds after each
//! epoch — the repair- and selection-set activations (the test set is skipped) and the
//! study's Arachne FL + 100 × 50 PSO for the worst class; `online/train_epoch` is one
//! training epoch (forward + backward + momentum SGD over the 21,958 training images at
//! batch 128). The target: overhead ≤ 10 % of an epoch. The model has trained
//! one epoch first, so that its negatives are those of an early checkpoint. A third
//! measurement thins the repair and selection sets as the `quick` profiles do. A third
//! measurement thins the repair and selection sets as the `quick` profiles do.

use std::hint::black_box;

use candle_core::Device;
use criterion::Criterion;
use repair_benches::data_root;
use repair_core::NoProgress;
use repair_data::{load_gtsrb, Batcher, Dataset, Split, SplitConfig, SplitPart};
use repair_method::{repair_layer, RepairSettings};
use repair_pipeline::{confusion, extract};
use repair_train::{train_step, SgdConfig, SgdMomentum};
use repair_zoo::{build_model, Classifier, ModelSpec};

/// Both measurements, on the same model and split.
pub fn online_epoch(c: &mut Criterion) {
    crate::keep_freed_pages();
    let Some(root) = data_root() else { return };
    let corpus = load_gtsrb(&root.join("gtsrb")).unwrap();
    let split = Split::make(&corpus, &SplitConfig::study("gtsrb", 42)).unwrap();
    let spec = ModelSpec {
        arch: repair_core::Arch::CnnS,
        input: (3, 32, 32),
        num_classes: 43,
        seed: 1024,
    };
    let model = build_model(&spec, &Device::Cpu).unwrap();
    let mut sgd = SgdMomentum::new(
        model.trainable_vars(),
        SgdConfig {
            lr: 1e-2,
            momentum: 0.9,
        },
    );
    let train = split.view(&corpus, SplitPart::Train);
    let batcher = Batcher::new(&train, 128, 1024);
    let mut epoch = 0u64;
    let mut one_epoch = |sgd: &mut SgdMomentum| {
        for batch in batcher.epoch(epoch) {
            let batch = batch.unwrap();
            black_box(train_step(&model, sgd, &batch.images, &batch.labels).unwrap());
        }
        epoch += 1;
    };
    one_epoch(&mut sgd);
    let (repair, val) = (
        split.view(&corpus, SplitPart::Repair),
        split.view(&corpus, SplitPart::Val),
    );
    let activations = |set: &repair_data::Subset<repair_data::ImageSet>| {
        extract(&model, set, 256, None, &Device::Cpu, &NoProgress).unwrap()
    };
    // The worst class on the selection set, as the experiments repair.
    let layer = model.last_layer().unwrap();
    let accuracy = confusion(&layer, &activations(&val))
        .unwrap()
        .per_class_accuracy();
    let class = (0..43)
        .min_by(|&a, &b| accuracy[a].total_cmp(&accuracy[b]))
        .unwrap() as u32;
    let settings = RepairSettings::study(class, 1024);
    {
        // What one epoch's repair spends where (printed once, for the notes).
        let started = std::time::Instant::now();
        let rows = activations(&repair);
        let selection = activations(&val);
        let extract_ms = started.elapsed().as_secs_f64() * 1e3;
        let (_, outcome) = repair_layer(&layer, &rows, &settings, &NoProgress).unwrap();
        eprintln!(
            "class {class}: {} negatives, {} repair + {} selection rows; extract {extract_ms:.0} ms, \
             FL {:.0} ms, search {:.0} ms",
            outcome.negatives,
            rows.len(),
            selection.len(),
            outcome.timings.fl_ms,
            outcome.timings.search_ms
        );
    }

    let mut group = c.benchmark_group("online");
    group.sample_size(10);
    group.bench_function("epoch_overhead_cnn-s_gtsrb", |b| {
        b.iter(|| {
            let layer = model.last_layer().unwrap();
            let rows = activations(&repair);
            let selection = activations(&val);
            let repaired = repair_layer(&layer, &rows, &settings, &NoProgress).unwrap();
            black_box((selection, repaired))
        })
    });
    // The same with the quick profiles' thinner sets (every 4th repair, every 2nd
    // validation image): extraction is nearly all of the overhead, and it scales with them.
    let thin = |set: &repair_data::Subset<repair_data::ImageSet>, k: usize| {
        let keep: Vec<usize> = (0..set.len()).step_by(k).collect();
        repair_data::Subset::new(set.clone(), keep)
    };
    let (repair_4, val_2) = (thin(&repair, 4), thin(&val, 2));
    group.bench_function(
        "epoch_overhead_cnn-s_gtsrb_repair_every_4_val_every_2",
        |b| {
            b.iter(|| {
                let layer = model.last_layer().unwrap();
                let rows =
                    extract(&model, &repair_4, 256, None, &Device::Cpu, &NoProgress).unwrap();
                let selection =
                    extract(&model, &val_2, 256, None, &Device::Cpu, &NoProgress).unwrap();
                let repaired = repair_layer(&layer, &rows, &settings, &NoProgress).unwrap();
                black_box((selection, repaired))
            })
        },
    );
    group.bench_function("train_epoch_cnn-s_gtsrb", |b| {
        b.iter(|| one_epoch(&mut sgd))
    });
    group.finish();
}
