//! `cargo xtask slurm`: prints the submit script of an experiment
//! ([`repair_pipeline::slurm_script`]).

use repair_pipeline::{slurm_script, ExperimentFile, SlurmPlan};

use crate::experiment::{default_out, experiment_path};
use crate::flags::SlurmArgs;

/// Runs `cargo xtask slurm`.
pub fn run(args: SlurmArgs) -> anyhow::Result<()> {
    let path = experiment_path(&args.name, args.config.as_deref());
    let file = ExperimentFile::load(&path)?;
    let config = file.profile(&args.profile)?.with_overrides(&args.set)?;
    let shards = args.shards.unwrap_or(config.train.seeds.len());
    let output = args.output.clone();
    anyhow::ensure!(shards > 0, "--shards must be at least 1");
    let plan = SlurmPlan {
        out: args
            .out
            .unwrap_or_else(|| default_out(&args.name, &args.profile)),
        name: args.name,
        profile: args.profile,
        config: args.config,
        set: args.set,
        dataset: file.dataset.clone(),
        shards,
        device: args.device,
        train_time: args.train_time,
        cpus: args.cpus,
        sbatch: args.sbatch,
    };
    let script = slurm_script(&plan)?;
    match &output {
        None => print!("{script}"),
        Some(path) => {
            repair_pipeline::write_script(path, &script)?;
            eprintln!(
                "wrote {}; run it with: bash {}",
                path.display(),
                path.display()
            );
        }
    }
    Ok(())
}
