//! `cargo xtask repair`: one checkpoint, one class.

use repair_data::{Manifest, Split};
use repair_method::{MethodName, MethodOptions, RepairSettings};
use repair_pipeline::{
    load_checkpoint, repair_problem_file, repair_unit, run_dir, RunManifest, UnitOutputs,
};

use crate::flags::RepairArgs;

/// Runs `cargo xtask repair`.
pub fn run(args: RepairArgs) -> anyhow::Result<()> {
    // clap's `requires` does not hold for this flag beside --checkpoint's conflicts.
    anyhow::ensure!(
        !args.relocalise || args.problem.is_some(),
        "--relocalise ignores a problem file's sites: it goes with --problem"
    );
    let settings = settings(&args)?;
    if let Some(problem) = &args.problem {
        return run_problem(problem, &settings, &args);
    }
    if let Some(model) = &args.onnx {
        return run_onnx(model, &settings, &args);
    }
    let checkpoint = args
        .checkpoint
        .clone()
        .expect("clap: --checkpoint or --problem");
    anyhow::ensure!(
        checkpoint.is_file(),
        "--checkpoint {}: no such checkpoint file",
        checkpoint.display()
    );
    let split_path = match &args.split {
        Some(p) => p.clone(),
        None => run_dir(&checkpoint).join("split.json"),
    };
    let dataset = Split::dataset_of(&split_path)?;
    let run = RunManifest::for_checkpoint(&checkpoint)?;
    // A split of another dataset would otherwise fail on that dataset's missing files.
    let classes = Manifest::builtin(&dataset)?.num_classes;
    anyhow::ensure!(
        classes == run.model.num_classes,
        "{} belongs to dataset {dataset} ({classes} classes), but the checkpoint's model has          {} classes: pass the split of the checkpoint's own run",
        split_path.display(),
        run.model.num_classes
    );
    if let Some(class) = args.class.iter().find(|&&c| c as usize >= classes) {
        anyhow::bail!("--class {class}: {dataset} has classes 0–{}", classes - 1);
    }
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
        joined(&args.class),
        checkpoint.display(),
        run.model.arch,
        corpus.describe()
    );
    let loaded = load_checkpoint(&checkpoint, &run, &corpus, &split, &compute)?;
    let outputs = UnitOutputs {
        repaired_model: Some(&loaded.model),
        export_problem: args.export_problem,
        progress: &bars,
    };
    let earlier = match &args.earlier {
        Some(path) => Some(earlier_layer(path, &run.model)?),
        None => None,
    };
    let input = repair_pipeline::RepairInput {
        earlier: earlier.as_ref().map(|(epoch, layer)| (*epoch, layer)),
        ..loaded.input(&dataset)
    };
    let report = repair_unit(&input, &settings, &args.out, &outputs)?;
    print_summary(&report, &settings, &args.out)
}

/// `cargo xtask repair --problem FILE`: a problem file's repair into `--out`.
fn run_problem(
    problem: &std::path::Path,
    settings: &RepairSettings,
    args: &RepairArgs,
) -> anyhow::Result<()> {
    crate::flags::create_out(&args.out)?;
    let bars = crate::progress::Bars::default();
    let report = repair_problem_file(problem, settings, args.relocalise, &args.out, &bars)?;
    println!(
        "repaired {} ({} × {}, {:?} layout; {} negatives, {} positives): {} sites from the {:?}; fitness {:.3} → {:.3}; RR {:.3} BR {:.3} on the file's sets; FL {:.1} ms, search {:.1} ms; wrote {}",
        report.problem.display(),
        report.width,
        report.classes,
        report.layout,
        report.negatives,
        report.positives,
        report.sites.len(),
        report.sites_from,
        report.fitness_before.fitness,
        report.fitness_after.fitness,
        report.rr,
        report.br,
        report.timings.fl_ms,
        report.timings.search_ms,
        args.out.join(repair_pipeline::REPAIRED_LAYER).display()
    );
    Ok(())
}

/// `cargo xtask repair --onnx MODEL`: an ONNX classifier's repair into `--out`.
fn run_onnx(
    model: &std::path::Path,
    settings: &RepairSettings,
    args: &RepairArgs,
) -> anyhow::Result<()> {
    let dataset = args
        .dataset
        .clone()
        .expect("clap: --onnx requires --dataset");
    let shape = Manifest::builtin(&dataset)?.shape();
    let (height, width) = match args.input_size.as_deref() {
        Some([h, w]) => (*h, *w),
        _ => (shape.height, shape.width),
    };
    let preprocess = repair_onnx::Preprocess {
        height,
        width,
        scale: args.scale,
        mean: args.mean.clone(),
        std: args.std.clone(),
        nhwc: args.nhwc,
    };
    onnx_repair(model, &dataset, &preprocess, settings, args)
}

#[cfg(feature = "onnx")]
fn onnx_repair(
    model: &std::path::Path,
    dataset: &str,
    preprocess: &repair_onnx::Preprocess,
    settings: &RepairSettings,
    args: &RepairArgs,
) -> anyhow::Result<()> {
    anyhow::ensure!(model.is_file(), "--onnx {}: no such file", model.display());
    let data = args.data.resolve(dataset)?;
    crate::flags::create_out(&args.out)?;
    let bars = crate::progress::Bars::default();
    let input = repair_pipeline::OnnxRepairInput {
        model,
        dataset,
        data: &data,
        split: args.split.as_deref(),
        split_seed: args.split_seed,
        preprocess,
    };
    let report = repair_pipeline::repair_onnx_model(&input, settings, &args.out, &bars)?;
    print_summary(&report, settings, &args.out)
}

#[cfg(not(feature = "onnx"))]
fn onnx_repair(
    model: &std::path::Path,
    _: &str,
    _: &repair_onnx::Preprocess,
    _: &RepairSettings,
    _: &RepairArgs,
) -> anyhow::Result<()> {
    anyhow::bail!(
        "--onnx {}: this xtask was built without ONNX support; build it with \
         `cargo build --release -p xtask --features onnx` (needs protoc: apt-get install protobuf-compiler)",
        model.display()
    )
}

/// What a checkpoint's or ONNX model's repair did, in one line (or "nothing to repair").
fn print_summary(
    report: &repair_pipeline::RepairReport,
    settings: &RepairSettings,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    if report.nothing_to_repair {
        println!(
            "nothing to repair: no repair input of class {} is misclassified; wrote {}",
            joined(&settings.classes()),
            out.join("repair.json").display()
        );
        return Ok(());
    }
    let fit = |f: Option<_>| f.map_or(f64::NAN, |f: repair_fitness::FitnessDetail| f.fitness);
    let (Some(before), Some(after)) = (report.test_before, report.test_after) else {
        anyhow::bail!("the repair was not scored on the test set");
    };
    let t = &report.timings;
    println!(
        "repaired class {}: {} sites {:?}; fitness {:.3} → {:.3}; RR {:.3} BR {:.3}; test acc class {:.4} → {:.4}, total {:.4} → {:.4}; extract {:.0} ms, FL {:.1} ms, search {:.1} ms",
        settings.class,
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
    for c in report.joint_test.iter().skip(1) {
        println!(
            "  and class {}: test acc {:.4} → {:.4}",
            c.class, c.before.class, c.after.class
        );
    }
    Ok(())
}

/// `20,27,30`.
fn joined(classes: &[u32]) -> String {
    classes
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn settings(args: &RepairArgs) -> anyhow::Result<RepairSettings> {
    let localiser = args.localiser.choice(args.sites, args.cross_entropy);
    let method = args.method;
    let options = MethodOptions {
        window: args.window,
        threshold: args.threshold,
        max_phases: args.max_phases,
        history_sites: args.sites,
        penalty: args.penalty,
    };
    // A problem file carries its own earlier layer (`earlier.kernel`).
    anyhow::ensure!(
        args.problem.is_some() || (method == MethodName::History) == args.earlier.is_some(),
        "{}",
        if args.earlier.is_some() {
            "--earlier is the history method's: add --method history"
        } else {
            "--method history needs --earlier CKPT, an earlier checkpoint of the same run"
        }
    );
    RepairSettings {
        localiser,
        pso: args.pso,
        sampler: args.sampler,
        particles: args.particles,
        iterations: args.iterations,
        search_seed: args.search_seed,
        joint_classes: args.class.get(1..).unwrap_or_default().to_vec(),
        // A problem file gives its sets: no class to pick them by.
        ..RepairSettings::study(args.class.first().copied().unwrap_or(0), args.seed)
    }
    .with_method(method, &options)
    .map_err(|e| anyhow::anyhow!("--method {method}: {e}"))
}

/// The history method's earlier checkpoint: its epoch (from `epoch-NNN` in its name) and
/// last layer, refused unless its model is the repaired checkpoint's.
fn earlier_layer(
    earlier: &std::path::Path,
    model: &repair_zoo::ModelSpec,
) -> anyhow::Result<(usize, repair_core::DenseLayer)> {
    let epoch = earlier
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("epoch-"))
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--earlier {}: want a checkpoint RUN/checkpoints/epoch-NNN.safetensors",
                earlier.display()
            )
        })?;
    let (spec, layer) = repair_pipeline::checkpoint_layer(earlier)?;
    anyhow::ensure!(
        spec.arch == model.arch && spec.input == model.input && spec.num_classes == model.num_classes,
        "--earlier {}: a {} {:?} model with {} classes, not the repaired checkpoint's {} {:?} with {}",
        earlier.display(),
        spec.arch,
        spec.input,
        spec.num_classes,
        model.arch,
        model.input,
        model.num_classes
    );
    Ok((epoch, layer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use repair_method::{PsoPreset, Strategy};

    fn args(extra: &str) -> RepairArgs {
        let line = format!("repair --checkpoint c --class 1 --out o {extra}");
        let argv = std::iter::once("cargo xtask").chain(line.split_whitespace());
        match crate::flags::Xtask::try_parse_from(argv) {
            Ok(crate::flags::Xtask {
                command: crate::flags::Command::Repair(args),
            }) => *args,
            other => panic!("{extra}: {other:?}"),
        }
    }

    #[test]
    fn each_method_gives_its_strategy_and_a_missing_or_extra_flag_is_named() {
        let adaptive = settings(&args("--method adaptive --window 4 --threshold 0.01")).unwrap();
        assert_eq!(
            adaptive.strategy,
            Strategy::Adaptive {
                window: 4,
                threshold: 0.01,
                max_phases: repair_adaptive::MAX_PHASES
            }
        );
        let de = settings(&args("--method de")).unwrap();
        assert_eq!((de.pso, de.strategy), (PsoPreset::De, Strategy::Single));
        let history = settings(&args("--method history --earlier e --penalty 2")).unwrap();
        assert_eq!(
            history.strategy,
            Strategy::History {
                sites: repair_method::BASELINE_SITES,
                penalty: 2.0
            }
        );
        for (extra, says) in [
            ("--method history", "--method history needs --earlier"),
            ("--earlier e", "--earlier is the history method's"),
            ("--method adaptive --pso de", "PSO phases"),
            (
                "--method de --pso canonical",
                "not with the `canonical` PSO",
            ),
        ] {
            let e = settings(&args(extra)).unwrap_err().to_string();
            assert!(e.contains(says), "{extra}: {e}");
        }
        // --problem and --onnx stand in for --checkpoint (and --problem for --class).
        let parse = |line: &str| {
            let argv = std::iter::once("cargo xtask").chain(line.split_whitespace());
            crate::flags::Xtask::try_parse_from(argv).map_err(|e| e.to_string())
        };
        assert!(parse("repair --problem p --out o").is_ok());
        assert!(parse("repair --onnx m --dataset pneumonia --class 1 --out o").is_ok());
        for (line, says) in [
            ("repair --onnx m --class 1 --out o", "--dataset"),
            (
                "repair --problem p --checkpoint c --out o",
                "cannot be used with",
            ),
            (
                "repair --problem p --class 1 --out o",
                "cannot be used with",
            ),
            ("repair --checkpoint c --class 1 --out o --nhwc", "--onnx"),
            ("repair --class 1 --out o", "--checkpoint"),
        ] {
            let e = parse(line).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
        let line = "repair --checkpoint c --class 1 --out o --threshold=-1";
        let argv = std::iter::once("cargo xtask").chain(line.split_whitespace());
        let e = crate::flags::Xtask::try_parse_from(argv)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--threshold") && e.contains("≥ 0"), "{e}");
    }
}
