//! `cargo xtask experiment`: the whole study for one experiment file and profile, then
//! the report. Rerunning resumes: finished units are skipped. With `--shard` (or inside
//! a Slurm array job) it does one slice of one stage and leaves the report to the
//! unsharded run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use repair_pipeline::{run_experiment, ExperimentFile, ExperimentRun, Shard, Stage};

use crate::flags::{ExperimentArgs, ReportArgs};

/// The experiment file: `--config`, else `experiments/<NAME>.toml` of the workspace this
/// binary was built in, else (a binary carried to another machine, such as a GPU host
/// without Rust) `experiments/<NAME>.toml` under the current folder.
pub fn experiment_path(name: &str, config: Option<&Path>) -> PathBuf {
    if let Some(p) = config {
        return p.to_path_buf();
    }
    let file = Path::new("experiments").join(format!("{name}.toml"));
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(&file);
    if built_in.exists() {
        built_in
    } else {
        file
    }
}

/// The default output folder of an experiment and profile.
pub fn default_out(name: &str, profile: &str) -> PathBuf {
    PathBuf::from(format!("runs/{name}-{profile}"))
}

/// Runs `cargo xtask experiment`.
pub fn run(args: ExperimentArgs) -> anyhow::Result<()> {
    let path = experiment_path(&args.name, args.config.as_deref());
    let file = ExperimentFile::load(&path)?;
    let config = &file.profile(&args.profile)?.with_overrides(&args.set)?;
    let data = args.data.resolve(&file.dataset)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.name, &args.profile));
    let shard = match args.shard {
        Some(shard) => shard,
        None => Shard::from_slurm(|k| std::env::var(k).ok())
            .map_err(anyhow::Error::msg)?
            .unwrap_or(Shard::WHOLE),
    };
    std::fs::create_dir_all(&out)?;
    let config_json = serde_json::to_vec(config)?;
    let config_hash = format!("xxh3-64:{:016x}", xxhash_rust::xxh3::xxh3_64(&config_json));
    let manifest_path = out.join("experiment.json");
    refuse_other_config(&manifest_path, &config_hash)?;
    let manifest = serde_json::json!({
        "experiment": path,
        "profile": args.profile,
        "overrides": args.set,
        "dataset": file.dataset,
        "config": config,
        "config_hash": config_hash,
        "seeds": config.seeds,
        "device": args.device,
        "workspace_version": env!("CARGO_PKG_VERSION"),
        "git_commit": git_commit(),
    });
    repair_data::write_atomic(&manifest_path, &serde_json::to_vec_pretty(&manifest)?)?;
    let started = Instant::now();
    eprintln!(
        "experiment {} ({}, shard {shard}, stage {:?}) → {}",
        args.name,
        args.profile,
        args.stage,
        out.display()
    );
    let rows = run_experiment(&ExperimentRun {
        dataset: &file.dataset,
        config,
        data_dir: &data,
        out: &out,
        device: crate::train::device(&args.device)?,
        progress: true,
        shard,
        stage: args.stage,
    })?;
    eprintln!(
        "{} repairs in {:.0} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    if !shard.is_whole() || args.stage != Stage::All {
        eprintln!(
            "shard {shard}, stage {:?} done; repairs.csv and the report come from the \
             unsharded run once every shard has finished",
            args.stage
        );
        return Ok(());
    }
    crate::report::run(ReportArgs {
        input: vec![out.join("repairs.csv")],
        alpha: config.alphas.clone(),
        tie: repair_metrics::TiePolicy::Post,
        incomplete: repair_metrics::IncompletePolicy::Mark,
        out: Some(out),
    })
}

/// Runs `cargo xtask verify DIR` with the config recorded in `DIR/experiment.json`.
pub fn verify(dir: &Path) -> anyhow::Result<()> {
    let manifest_path = dir.join("experiment.json");
    let text = std::fs::read(&manifest_path)
        .with_context(|| format!("{}: no experiment manifest", manifest_path.display()))?;
    let manifest: serde_json::Value = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not JSON", manifest_path.display()))?;
    let config: repair_pipeline::ExperimentConfig =
        serde_json::from_value(manifest.get("config").cloned().unwrap_or_default())
            .with_context(|| format!("{}: no valid `config`", manifest_path.display()))?;
    let v = repair_pipeline::verify_experiment(dir, &config)?;
    println!(
        "{}: consistent — {} runs × checkpoints × classes {:?} = {} repairs, {} quality rows, {} figures",
        dir.display(),
        v.runs,
        v.classes,
        v.repairs,
        v.quality_rows,
        v.figures
    );
    Ok(())
}

/// Refuses an output folder that holds an experiment made with another config: its
/// cached units would be mixed with the new ones.
fn refuse_other_config(manifest: &Path, config_hash: &str) -> anyhow::Result<()> {
    if !manifest.is_file() {
        return Ok(());
    }
    let text = std::fs::read(manifest).with_context(|| manifest.display().to_string())?;
    let old: serde_json::Value = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a JSON manifest", manifest.display()))?;
    match old.get("config_hash").and_then(|h| h.as_str()) {
        Some(old) if old != config_hash => anyhow::bail!(
            "{}: this folder holds an experiment with config {old}, not this one's \
             {config_hash}; pass another --out (or delete the folder)",
            manifest.display()
        ),
        _ => Ok(()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_experiment_is_this_workspaces_file_and_otherwise_one_under_the_current_folder() {
        let gtsrb = experiment_path("gtsrb", None);
        assert!(gtsrb.is_file(), "{}", gtsrb.display());
        assert!(gtsrb.is_absolute(), "{}", gtsrb.display());
        // A name with no file in this workspace, as every name is for a binary run elsewhere.
        assert_eq!(
            experiment_path("not-an-experiment", None),
            Path::new("experiments/not-an-experiment.toml")
        );
        let given = Path::new("/somewhere/else.toml");
        assert_eq!(experiment_path("gtsrb", Some(given)), given);
    }
}
