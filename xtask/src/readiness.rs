//! `cargo xtask readiness DIR`: the stop rules of `repair_readiness` over a finished
//! dense experiment.

use repair_experiment::ExperimentManifest;
use repair_report::{readiness_folder, readiness_series, write_readiness, ReadinessOptions};

use crate::flags::ReadinessArgs;

/// Runs `cargo xtask readiness`.
pub fn run(args: ReadinessArgs) -> anyhow::Result<()> {
    let manifest = ExperimentManifest::read(&args.dir)?;
    let options =
        ReadinessOptions::of_experiment(&manifest.config, args.rules, args.resamples, args.seed);
    let series = readiness_series(&args.dir)?;
    let out = args.out.unwrap_or_else(|| readiness_folder(&args.dir));
    crate::flags::create_out(&out)?;
    let summary = write_readiness(&series, &options, &out)?;
    print!("{}", summary.markdown);
    println!(
        "{} series → {} (readiness.md, readiness.csv, readiness_picks.csv, readiness_summary.csv, \
         signal_correlations.csv, selection_tracking.csv, figures/)",
        summary.series,
        out.display()
    );
    Ok(())
}
