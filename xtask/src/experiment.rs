//! `cargo xtask experiment`: the whole study for one experiment file and profile, then
//! the report. Rerunning resumes: finished units are skipped. With `--shard` (or inside
//! a Slurm array job) it does one slice of one stage and leaves the report to the
//! unsharded run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use repair_experiment::{run_experiment, ExperimentFile, ExperimentManifest, ExperimentRun, Shard};
use repair_report::StudyReport;

use crate::flags::ExperimentArgs;

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
    // Every setting is checked before the folder and its experiment.json exist.
    let (file, config) = ExperimentFile::load_profile(&path, &args.profile, &args.set)?;
    let config = &config;
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
    crate::flags::create_out(&out)?;
    ExperimentManifest::new(
        &path,
        &args.profile,
        &args.set,
        &file.dataset,
        config,
        &args.device,
    )
    .begin(&out)?;
    let started = Instant::now();
    eprintln!(
        "experiment {} ({}, shard {shard}, stage {:?}) → {}",
        args.name,
        args.profile,
        args.stage,
        out.display()
    );
    let bars = crate::progress::Bars::default();
    let run = ExperimentRun {
        dataset: &file.dataset,
        config,
        data_dir: &data,
        out: &out,
        compute: crate::progress::compute(&args.device, &bars)?,
        shard,
        stage: args.stage,
    };
    let outcome = run_experiment(&run, &StudyReport)?;
    eprintln!(
        "{} repairs in {:.0} s",
        outcome.rows.len(),
        started.elapsed().as_secs_f64()
    );
    match outcome.report {
        Some(summary) => crate::report::print_summary(&summary, &out),
        None => eprintln!(
            "shard {shard}, stage {:?} done; repairs.csv and the report come from the \
             unsharded run once every shard has finished",
            args.stage
        ),
    }
    Ok(())
}

/// Runs `cargo xtask verify DIR` with the config recorded in `DIR/experiment.json`.
pub fn verify(dir: &Path) -> anyhow::Result<()> {
    let manifest = ExperimentManifest::read(dir)?;
    let v = repair_report::verify_experiment(dir, &manifest.config)?;
    println!(
        "{}: consistent — {} runs × checkpoints × classes {:?} = {} repairs, {} quality rows, {} figures",
        dir.display(),
        v.runs,
        v.classes,
        v.repairs,
        v.quality_rows,
        v.figures
    );
    if v.unhashed_checkpoints > 0 {
        println!(
            "note: {} checkpoints have sidecars from before their size and hash were recorded; \
             only their presence was checked",
            v.unhashed_checkpoints
        );
    }
    Ok(())
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
