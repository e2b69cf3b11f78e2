//! `cargo xtask report`: Table 1 and the quality tables from a `repairs.csv` alone.

use std::path::{Path, PathBuf};

use repair_report::{write_report, ReportOptions, ReportSummary};

use crate::flags::ReportArgs;

/// Runs `cargo xtask report`.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let csv_paths: Vec<PathBuf> = args
        .input
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.join("repairs.csv")
            } else {
                p.clone()
            }
        })
        .collect();
    let out = match (&args.out, csv_paths.as_slice()) {
        (Some(dir), _) => dir.clone(),
        (None, [one]) => one.parent().map(Path::to_path_buf).unwrap_or_default(),
        (None, _) => anyhow::bail!("several inputs: pass --out DIR for the joint report"),
    };
    let options = ReportOptions {
        alphas: args.alpha,
        ties: args.tie,
        incomplete: args.incomplete,
    };
    crate::flags::create_out(&out)?;
    let summary = write_report(&csv_paths, &options, &out)?;
    print_summary(&summary, &out);
    Ok(())
}

/// Prints Table 1, the warnings and where the report went.
pub fn print_summary(summary: &ReportSummary, out: &Path) {
    print!("{}", summary.table1_markdown);
    for warning in &summary.warnings {
        eprintln!("warning: {warning}");
    }
    print!("{}", summary.regressions);
    println!(
        "{} repairs → {} (quality.csv, patterns.csv, table1.csv, table1.md, warnings.csv, figures/)",
        summary.repairs,
        out.display()
    );
}
