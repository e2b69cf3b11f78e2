//! `cargo xtask train`: one training run on the study split.

use repair_data::{stratified_subset, Dataset, Manifest, Split, SplitConfig, SplitPart};
use repair_experiment::RepairSection;
use repair_pipeline::{train_online, train_run, OnlineRepair, OnlineReport, TrainRunOptions};
use repair_train::TrainConfig;
use repair_zoo::ModelSpec;

use crate::flags::TrainArgs;

/// Runs `cargo xtask train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let manifest = Manifest::builtin(&args.dataset)?;
    let corpus = manifest.load(&args.data.resolve(&args.dataset)?)?;
    let corpus = match args.input_side {
        Some(side) => corpus.resized(side, side)?,
        None => corpus,
    };
    crate::flags::create_out(&args.out)?;
    let split_path = args.out.join("split.json");
    let split = if split_path.exists() {
        Split::load(&split_path, &corpus)?
    } else {
        let split = Split::make(&corpus, &SplitConfig::study(&args.dataset, 42))?;
        split.save(&split_path)?;
        split
    };
    let mut split = split;
    if let Some(n) = args.subset {
        // Seeded and stratified: the training part is in class order, so its first N
        // images would leave whole classes out.
        split.train = stratified_subset(
            corpus.images(),
            &split.train,
            n,
            args.seed,
            &format!("--subset {n}"),
        )?;
    }
    let train_set = corpus.images().subset(split.train.clone());
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
    let bars = crate::progress::Bars::default();
    let compute = crate::progress::compute(&args.device, &bars)?;
    if let (Some(class), Some(rule)) = (args.repair_class, &args.rule) {
        anyhow::ensure!(
            args.pretrained.is_none(),
            "--pretrained is not offered with the online mode"
        );
        let rule = rule.rule();
        config.checkpoint_every = 1;
        let online = OnlineRepair {
            dataset: &args.dataset,
            rule: rule.as_ref(),
            alpha: args.alpha,
            settings: RepairSection::default().settings(class, args.seed),
        };
        anyhow::ensure!(
            (class as usize) < corpus.images().num_classes(),
            "--repair-class {class}: the dataset has {} classes",
            corpus.images().num_classes()
        );
        let report = train_online(
            &args.out, &spec, &config, &corpus, &split, &compute, &online, None,
        )?
        .expect("runs to the end");
        print_online(&report, &args.out);
        return Ok(());
    }
    let options = TrainRunOptions {
        pretrained: args.pretrained.as_deref(),
        ..TrainRunOptions::default()
    };
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

/// The online run's choice and cost.
fn print_online(report: &OnlineReport, out: &std::path::Path) {
    println!(
        "online {} (α {}): {} epochs trained{}, picked epoch {}: repaired selection Qual {:.4}, \
         test Qual {:.4} (before repair {:.4}); training {:.0} s + online repairs {:.1} s; \
         against converged (≥ {} epochs) at least {} epochs, {:.0} s saved → {} and {}",
        report.rule,
        report.alpha,
        report.epochs_trained,
        if report.stopped_by_rule {
            ", stopped by the rule"
        } else {
            ""
        },
        report.picked_epoch,
        report.selection_qual,
        report.test_qual,
        report.test_base_qual,
        report.train_s,
        report.online_s,
        report.converged_at_least,
        report.epochs_saved_at_least,
        report.time_saved_at_least_s,
        report.best_repaired.display(),
        out.join("online.json").display()
    );
}
