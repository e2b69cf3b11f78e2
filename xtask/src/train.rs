//! `cargo xtask train`: one training run on the study split, or the online mode.

use repair_core::RepairRequest;
use repair_data::Dataset;
use repair_pipeline::{
    prepare_training, train_online, train_run, OnlineRepair, OnlineReport, TrainRunOptions,
    TrainingSetup,
};

use crate::flags::TrainArgs;

/// Runs `cargo xtask train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let data = args.data.resolve(&args.dataset)?;
    crate::flags::create_out(&args.out)?;
    let setup = TrainingSetup {
        dataset: &args.dataset,
        data: &data,
        input_side: args.input_side,
        out: &args.out,
        split_seed: args.split_seed,
        subset: args.subset,
        seed: args.seed,
        arch: args.model,
        epochs: args.epochs,
    };
    let mut prepared = prepare_training(&setup)?;
    let (train_set, val_set) = (prepared.train_set(), prepared.val_set());
    eprintln!(
        "training {} on {} ({} train / {} val images), seed {}, → {}",
        prepared.spec.arch,
        prepared.corpus.describe(),
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
        let classes = prepared.spec.num_classes;
        anyhow::ensure!(
            (class as usize) < classes,
            "--repair-class {class}: the dataset has classes 0–{}",
            classes - 1
        );
        prepared.config.checkpoint_every = 1;
        let online = OnlineRepair {
            dataset: &args.dataset,
            rule: rule.clone(),
            alpha: args.alpha,
            request: RepairRequest::study(class, args.seed),
        };
        let report = train_online(
            &args.out,
            &prepared.spec,
            &prepared.config,
            &prepared.corpus,
            &prepared.split,
            &compute,
            &online,
            None,
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
        &args.out,
        &prepared.spec,
        &prepared.config,
        &train_set,
        &val_set,
        &compute,
        options,
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
