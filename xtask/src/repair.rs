//! `cargo xtask repair`: one checkpoint, one class.

use repair_data::{Manifest, Split};
use repair_pipeline::{
    load_checkpoint, repair_unit, run_dir, CrossEntropy, LocaliserChoice, PositiveSampler,
    PsoPreset, RepairSettings, RunManifest, UnitOutputs,
};

use crate::flags::RepairArgs;

/// Runs `cargo xtask repair`.
pub fn run(args: RepairArgs) -> anyhow::Result<()> {
    let settings = settings(&args)?;
    anyhow::ensure!(
        args.checkpoint.is_file(),
        "--checkpoint {}: no such checkpoint file",
        args.checkpoint.display()
    );
    let split_path = match &args.split {
        Some(p) => p.clone(),
        None => run_dir(&args.checkpoint).join("split.json"),
    };
    let dataset = Split::dataset_of(&split_path)?;
    let run = RunManifest::for_checkpoint(&args.checkpoint)?;
    // A split of another dataset would otherwise fail on that dataset's missing files.
    let classes = Manifest::builtin(&dataset)?.num_classes;
    anyhow::ensure!(
        classes == run.model.num_classes,
        "{} belongs to dataset {dataset} ({classes} classes), but the checkpoint's model has          {} classes: pass the split of the checkpoint's own run",
        split_path.display(),
        run.model.num_classes
    );
    anyhow::ensure!(
        (args.class as usize) < classes,
        "--class {}: {dataset} has classes 0–{}",
        args.class,
        classes - 1
    );
    let data = args.data.resolve(&dataset)?;
    crate::flags::create_out(&args.out)?;
    // A model trained on resized images (an experiment's `input_side`) gets them resized
    // the same way; the split's checksum then matches the resized corpus.
    let (_, height, width) = run.model.input;
    let corpus = Manifest::builtin(&dataset)?
        .load(&data)?
        .resized(height, width)?;
    let split = Split::load(&split_path, &corpus)?;
    let bars = crate::progress::Bars::default();
    let compute = crate::progress::compute(&args.device, &bars)?;
    eprintln!(
        "repairing class {} of {} ({}) on {}",
        args.class,
        args.checkpoint.display(),
        run.model.arch,
        corpus.describe()
    );
    let loaded = load_checkpoint(&args.checkpoint, &run, &corpus, &split, &compute)?;
    let outputs = UnitOutputs {
        repaired_model: Some(&loaded.model),
        export_problem: args.export_problem,
        progress: &bars,
    };
    let report = repair_unit(&loaded.input(&dataset), &settings, &args.out, &outputs)?;
    if report.nothing_to_repair {
        println!(
            "nothing to repair: no repair input of class {} is misclassified; wrote {}",
            args.class,
            args.out.join("repair.json").display()
        );
        return Ok(());
    }
    let fit = |f: Option<_>| f.map_or(f64::NAN, |f: repair_pipeline::FitnessDetail| f.fitness);
    let (Some(before), Some(after)) = (report.test_before, report.test_after) else {
        anyhow::bail!("the repair was not scored on the test set");
    };
    let t = &report.timings;
    println!(
        "repaired class {}: {} sites {:?}; fitness {:.3} → {:.3}; RR {:.3} BR {:.3}; test acc class {:.4} → {:.4}, total {:.4} → {:.4}; extract {:.0} ms, FL {:.1} ms, search {:.1} ms",
        args.class,
        report.sites.len(),
        report.sites.iter().map(|s| (s.i, s.j)).collect::<Vec<_>>(),
        fit(report.fitness_before),
        fit(report.fitness_after),
        report.rr,
        report.br,
        before.class,
        after.class,
        before.total,
        after.total,
        report.extract_ms,
        t.fl_ms,
        t.search_ms
    );
    Ok(())
}

fn settings(args: &RepairArgs) -> anyhow::Result<RepairSettings> {
    let cross_entropy = match args.cross_entropy.as_str() {
        "logits" => CrossEntropy::Logits,
        "clipped" => CrossEntropy::Clipped,
        other => anyhow::bail!("--cross-entropy {other}: logits or clipped"),
    };
    let localiser = LocaliserChoice::named(&args.localiser, args.sites, cross_entropy)
        .map_err(anyhow::Error::msg)?;
    let pso = PsoPreset::named(&args.pso).map_err(anyhow::Error::msg)?;
    let sampler = PositiveSampler::named(&args.sampler).map_err(anyhow::Error::msg)?;
    Ok(RepairSettings {
        localiser,
        pso,
        sampler,
        particles: args.particles,
        iterations: args.iterations,
        search_seed: args.search_seed,
        ..RepairSettings::study(args.class, args.seed)
    })
}
