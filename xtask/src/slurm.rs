//! `cargo xtask slurm`: prints the submit script of an experiment
//! ([`repair_experiment::slurm_script`]).

use repair_experiment::{slurm_script, ExperimentFile, SlurmPlan};

use crate::experiment::{default_out, experiment_path};
use crate::flags::SlurmArgs;

/// Runs `cargo xtask slurm`.
pub fn run(args: SlurmArgs) -> anyhow::Result<()> {
    let path = experiment_path(&args.name, args.config.as_deref());
    // Every task would fail on the cluster with what experiment refuses here.
    let (file, config) = ExperimentFile::load_profile(&path, &args.profile, &args.set)?;
    let shards = args.shards.unwrap_or(config.train.seeds.len());
    let output = args.output.clone();
    anyhow::ensure!(shards > 0, "--shards must be at least 1");
    // Jobs may start elsewhere than the submit folder: the output folder is absolute.
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.name, &args.profile));
    let plan = SlurmPlan {
        out: std::path::absolute(&out)?,
        name: args.name,
        profile: args.profile,
        config: args.config,
        set: args.set,
        dataset: file.dataset.clone(),
        shards,
        device: args.device,
        train_time: args.train_time,
        repair_time: args.repair_time,
        report_time: args.report_time,
        made_by: std::env::args().skip(2).collect(),
        cpus: args.cpus,
        xtask: match &args.xtask {
            Some(path) => Some(std::path::absolute(path)?),
            None => None,
        },
        sbatch: args.sbatch,
    };
    let script = slurm_script(&plan)?;
    match &output {
        None => print!("{script}"),
        Some(path) => {
            repair_experiment::write_script(path, &script)?;
            eprintln!(
                "wrote {}; run it with: bash {}",
                path.display(),
                path.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    fn slurm(args: &str) -> anyhow::Result<()> {
        let argv = ["cargo xtask", "slurm"]
            .into_iter()
            .chain(args.split_whitespace());
        match crate::flags::Xtask::try_parse_from(argv)?.command {
            crate::flags::Command::Slurm(args) => super::run(args),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_config_every_task_would_fail_on_is_refused_before_any_script() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("submit.sh");
        for (set, says) in [
            ("repair.worst_classes=50", "gtsrb has only 43 classes"),
            ("train.model=bogus", "unknown variant `bogus`"),
            ("repair.classes=[3,43]", "class 43 is unknown"),
        ] {
            let e = slurm(&format!("gtsrb --set {set} -o {}", out.display()))
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{set}: {e}");
            assert!(!out.exists(), "{set}: a script was written");
        }
        slurm(&format!("gtsrb --profile quick -o {}", out.display())).unwrap();
        assert!(std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("#!/usr/bin/env bash"));
    }
}
