//! `cargo xtask experiment`: the whole study for one experiment file and profile, then
//! the report. Rerunning resumes: finished units are skipped.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
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
    let data = match &args.data {
        Some(d) => d.clone(),
        None => std::env::var_os("EARLY_REPAIR_DATA")
            .map(|root| PathBuf::from(root).join(&file.dataset))
            .context("pass --data DIR or set EARLY_REPAIR_DATA")?,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/{}-{}", args.name, args.profile)));
    std::fs::create_dir_all(&out)?;
    let manifest = serde_json::json!({
        "experiment": path,
        "profile": args.profile,
        "dataset": file.dataset,
        "config": config,
        "device": args.device,
        "xtask_version": env!("CARGO_PKG_VERSION"),
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
