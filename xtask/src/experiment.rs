//! `cargo xtask experiment`: the whole study for one experiment file and profile, then
//! the report. Rerunning resumes: finished units are skipped.

use std::path::PathBuf;
use std::time::Instant;

use repair_pipeline::{run_experiment, ExperimentFile, ExperimentRun};

use crate::flags::{ExperimentArgs, ReportArgs};

/// Runs `cargo xtask experiment`.
pub fn run(args: ExperimentArgs) -> anyhow::Result<()> {
    let path = match &args.config {
        Some(p) => p.clone(),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../experiments")
            .join(format!("{}.toml", args.name)),
    };
    let file = ExperimentFile::load(&path)?;
    let config = file.profile(&args.profile)?;
    let data = args.data.resolve(&file.dataset)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/{}-{}", args.name, args.profile)));
    std::fs::create_dir_all(&out)?;
    let config_json = serde_json::to_vec(config)?;
    let manifest = serde_json::json!({
        "experiment": path,
        "profile": args.profile,
        "dataset": file.dataset,
        "config": config,
        "config_hash": format!("xxh3-64:{:016x}", xxhash_rust::xxh3::xxh3_64(&config_json)),
        "seeds": config.seeds,
        "device": args.device,
        "workspace_version": env!("CARGO_PKG_VERSION"),
        "git_commit": git_commit(),
    });
    repair_data::write_atomic(
        &out.join("experiment.json"),
        &serde_json::to_vec_pretty(&manifest)?,
    )?;
    let started = Instant::now();
    eprintln!(
        "experiment {} ({}) → {}",
        args.name,
        args.profile,
        out.display()
    );
    let rows = run_experiment(&ExperimentRun {
        dataset: &file.dataset,
        config,
        data_dir: &data,
        out: &out,
        device: crate::train::device(&args.device)?,
        progress: true,
    })?;
    eprintln!(
        "{} repairs in {:.0} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    crate::report::run(ReportArgs {
        input: out.join("repairs.csv"),
        alpha: config.alphas.clone(),
        tie: "post".into(),
        incomplete: "mark".into(),
        out: Some(out),
    })
}

/// The checked-out commit (with `-dirty` when the tree has changes), or "unknown".
fn git_commit() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "HEAD"]) {
        Some(head) => match run(&["status", "--porcelain"]) {
            Some(changes) if !changes.is_empty() => format!("{head}-dirty"),
            _ => head,
        },
        None => "unknown".into(),
    }
}
