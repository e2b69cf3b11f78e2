//! `cargo xtask train`: one training run on the study split.

use repair_data::{Dataset, Manifest, Split, SplitConfig, SplitPart};
use repair_pipeline::{train_run, ModelSpec, TrainConfig, TrainRunOptions};

use crate::flags::TrainArgs;

/// Runs `cargo xtask train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let manifest = Manifest::builtin(&args.dataset)?;
    let corpus = manifest.load(&args.data.resolve(&args.dataset)?)?;
    let corpus = match args.input_side {
        Some(side) => corpus.resized(side, side)?,
        None => corpus,
    };
    let split_path = args.out.join("split.json");
    let split = if split_path.exists() {
        Split::load(&split_path, &corpus)?
    } else {
        let split = Split::make(&corpus, &SplitConfig::study(&args.dataset, 42))?;
        split.save(&split_path)?;
        split
    };
    let mut train_idx = split.train.clone();
    if let Some(n) = args.subset {
        train_idx.truncate(n);
    }
    let train_set = corpus.images().subset(train_idx);
    let val_set = split.view(&corpus, SplitPart::Val);
    let shape = corpus.images().image_shape();
    let spec = ModelSpec {
        arch: args.model.clone(),
        input: (shape.channels, shape.height, shape.width),
        num_classes: corpus.images().num_classes(),
        seed: args.seed,
    };
    let mut config = TrainConfig::paper(args.seed);
    if let Some(e) = args.epochs {
        config.max_epochs = e;
    }
    eprintln!(
        "training {} on {} ({} train / {} val images), seed {}, → {}",
        spec.arch,
        corpus.describe(),
        train_set.len(),
        val_set.len(),
        args.seed,
        args.out.display()
    );
    let options = TrainRunOptions {
        pretrained: args.pretrained.as_deref(),
        ..TrainRunOptions::default()
    };
    let bars = crate::progress::Bars::default();
    let compute = crate::progress::compute(&args.device, &bars)?;
    let report = train_run(
        &args.out, &spec, &config, &train_set, &val_set, &compute, options,
    )?;
    let best = &report.history[report.converged_epoch - 1];
    println!(
        "done: {} epochs, converged at epoch {} (val loss {:.4}, val accuracy {:.4}), checkpoints {:?}",
        report.epochs, report.converged_epoch, best.val_loss, best.val_accuracy, report.checkpoints
    );
    Ok(())
}
