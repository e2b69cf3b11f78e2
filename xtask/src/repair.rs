//! `cargo xtask repair`: one checkpoint, one problem file or one ONNX model; the flags
//! become a [`RepairRequest`] and the pipeline does the rest.

use std::path::Path;

use repair_core::{MethodName, RepairRequest};
use repair_pipeline::{
    checkpoint_split, repair_checkpoint, repair_problem_file, CheckpointRepair, RepairReport,
};

use crate::flags::RepairArgs;

/// Runs `cargo xtask repair`.
pub fn run(args: RepairArgs) -> anyhow::Result<()> {
    // clap's `requires` does not hold for this flag beside --checkpoint's conflicts.
    anyhow::ensure!(
        !args.relocalise || args.problem.is_some(),
        "--relocalise ignores a problem file's sites: it goes with --problem"
    );
    let request = request(&args)?;
    if let Some(problem) = &args.problem {
        return run_problem(problem, &request, &args);
    }
    if let Some(model) = &args.onnx {
        return run_onnx(model, &request, &args);
    }
    let checkpoint = args
        .checkpoint
        .as_deref()
        .expect("clap: --checkpoint, --problem or --onnx");
    let (split, dataset) = checkpoint_split(checkpoint, args.split.as_deref())
        .map_err(|e| anyhow::anyhow!("--checkpoint: {e}"))?;
    let data = args.data.resolve(&dataset)?;
    crate::flags::create_out(&args.out)?;
    let bars = crate::progress::Bars::default();
    let compute = crate::progress::compute(&args.device, &bars)?;
    let job = CheckpointRepair {
        checkpoint,
        split: &split,
        data: &data,
        earlier: args.earlier.as_deref(),
        export_problem: args.export_problem,
    };
    let report = repair_checkpoint(&job, &request, &args.out, &compute)?;
    print_summary(&report, &request, &args.out)
}

/// `cargo xtask repair --problem FILE`: a problem file's repair into `--out`.
fn run_problem(problem: &Path, request: &RepairRequest, args: &RepairArgs) -> anyhow::Result<()> {
    crate::flags::create_out(&args.out)?;
    let bars = crate::progress::Bars::default();
    let report = repair_problem_file(problem, request, args.relocalise, &args.out, &bars)?;
    if report.score.kept_original {
        println!(
            "kept the original layer of {}: the search's best (fitness {:.3}) does not beat \
             the original's ({:.3}) on the file's sets; --keep-worse returns it instead; wrote {}",
            report.problem.display(),
            report.score.fitness_after.fitness,
            report.score.fitness_before.fitness,
            args.out.join(repair_pipeline::REPAIRED_LAYER).display()
        );
        return Ok(());
    }
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
        report.score.fitness_before.fitness,
        report.score.fitness_after.fitness,
        report.score.rr,
        report.score.br,
        report.timings.fl_ms,
        report.timings.search_ms,
        args.out.join(repair_pipeline::REPAIRED_LAYER).display()
    );
    Ok(())
}

/// `cargo xtask repair --onnx MODEL`: an ONNX classifier's repair into `--out`.
#[cfg(feature = "onnx")]
fn run_onnx(model: &Path, request: &RepairRequest, args: &RepairArgs) -> anyhow::Result<()> {
    let dataset = args
        .dataset
        .as_deref()
        .expect("clap: --onnx requires --dataset");
    let data = args.data.resolve(dataset)?;
    crate::flags::create_out(&args.out)?;
    let bars = crate::progress::Bars::default();
    let input = repair_pipeline::OnnxRepairInput {
        model,
        dataset,
        data: &data,
        split: args.split.as_deref(),
        split_seed: args.split_seed,
        input_size: args.input_size,
        scale: args.scale,
        mean: &args.mean,
        std: &args.std,
        nhwc: args.nhwc,
    };
    let report = repair_pipeline::repair_onnx_model(&input, request, &args.out, &bars)
        .map_err(|e| anyhow::anyhow!("--onnx: {e}"))?;
    print_summary(&report, request, &args.out)
}

#[cfg(not(feature = "onnx"))]
fn run_onnx(model: &Path, _: &RepairRequest, _: &RepairArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "--onnx {}: this xtask was built without ONNX support; build it with \
         `cargo build --release -p xtask --features onnx` (needs protoc: apt-get install protobuf-compiler)",
        model.display()
    )
}

/// What a checkpoint's or ONNX model's repair did, in one line (or "nothing to repair").
fn print_summary(report: &RepairReport, request: &RepairRequest, out: &Path) -> anyhow::Result<()> {
    if report.outcome.nothing_to_repair {
        println!(
            "nothing to repair: no repair input of class {} is misclassified; wrote {}",
            joined(&request.classes()),
            out.join("repair.json").display()
        );
        return Ok(());
    }
    let (Some(before), Some(after)) = (report.test_before, report.test_after) else {
        anyhow::bail!("the repair was not scored on the test set");
    };
    let t = &report.outcome.timings;
    let fitness_before = report
        .outcome
        .fitness_before
        .map_or(f64::NAN, |f| f.fitness);
    let fitness_after = report.outcome.fitness_after.map_or(f64::NAN, |f| f.fitness);
    if report.outcome.kept_original {
        println!(
            "kept the original layer of class {}: the search's best (fitness {:.3}) does not \
             beat the original's ({:.3}) on the repair set; test acc class {:.4}, total {:.4} \
             (unchanged); --keep-worse returns the search's best instead; wrote {}",
            request.class,
            fitness_after,
            fitness_before,
            before.class,
            before.total,
            out.join("repair.json").display()
        );
        return Ok(());
    }
    println!(
        "repaired class {}: {} sites {:?}; fitness {:.3} → {:.3}; RR {:.3} BR {:.3}; test acc class {:.4} → {:.4}, total {:.4} → {:.4}; extract {:.0} ms, FL {:.1} ms, search {:.1} ms",
        request.class,
        report.sites.len(),
        report.sites.iter().map(|s| (s.i, s.j)).collect::<Vec<_>>(),
        fitness_before,
        fitness_after,
        report.outcome.rr,
        report.outcome.br,
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

/// The repair the flags ask for. A problem file carries its own earlier layer
/// (`earlier.kernel`) and its own sets (no class to pick them by).
fn request(args: &RepairArgs) -> anyhow::Result<RepairRequest> {
    anyhow::ensure!(
        args.problem.is_some() || (args.method == MethodName::History) == args.earlier.is_some(),
        "{}",
        if args.earlier.is_some() {
            "--earlier is the history method's: add --method history"
        } else {
            "--method history needs --earlier CKPT, an earlier checkpoint of the same run"
        }
    );
    Ok(RepairRequest {
        method: args.method,
        localiser: args.localiser,
        sites: args.sites,
        cross_entropy: args.cross_entropy,
        search: args.pso,
        particles: args.particles,
        iterations: args.iterations,
        sampler: args.sampler,
        search_seed: args.search_seed,
        joint_classes: args.class.get(1..).unwrap_or_default().to_vec(),
        window: args.window,
        threshold: args.threshold,
        max_phases: args.max_phases,
        history_sites: args.sites,
        penalty: args.penalty,
        keep_worse: args.keep_worse,
        ..RepairRequest::study(args.class.first().copied().unwrap_or(0), args.seed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use repair_core::Search;
    use repair_method::{RepairSettings, Strategy};

    /// The settings the flags end in (the pipeline's mapping of the request).
    fn settings(args: &RepairArgs) -> anyhow::Result<RepairSettings> {
        Ok(RepairSettings::requested(&request(args)?)?)
    }

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
                max_phases: repair_core::defaults::MAX_PHASES
            }
        );
        let de = settings(&args("--method de")).unwrap();
        assert_eq!((de.search, de.strategy), (Search::De, Strategy::Single));
        let history = settings(&args("--method history --earlier e --penalty 2")).unwrap();
        assert_eq!(
            history.strategy,
            Strategy::History {
                sites: repair_core::defaults::BASELINE_SITES,
                penalty: 2.0
            }
        );
        for (extra, says) in [
            ("--method history", "--method history needs --earlier"),
            ("--earlier e", "--earlier is the history method's"),
            (
                "--method adaptive --pso de",
                "method `adaptive` cannot use the search `de`: it searches in PSO phases",
            ),
            (
                "--method de --pso canonical",
                "method `de` cannot use the search `canonical`: it searches with DE",
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
        // The docs' own spelling of an input size.
        match parse("repair --onnx m --dataset pneumonia --class 1 --out o --input-size 28,28") {
            Ok(crate::flags::Xtask {
                command: crate::flags::Command::Repair(args),
            }) => assert_eq!(args.input_size, Some((28, 28))),
            other => panic!("--input-size 28,28: {other:?}"),
        }
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
            (
                "repair --onnx m --dataset pneumonia --class 1 --out o --input-size 28",
                "want HEIGHT,WIDTH",
            ),
            (
                "repair --onnx m --dataset pneumonia --class 1 --out o --input-size 0,28",
                "two whole numbers ≥ 1",
            ),
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
