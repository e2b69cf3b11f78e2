//! `cargo xtask report`: Table 1 and the quality tables from a `repairs.csv` alone.

use repair_pipeline::{write_report, ReportOptions};

use crate::flags::ReportArgs;

/// Runs `cargo xtask report`.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let csv_path = if args.input.is_dir() {
        args.input.join("repairs.csv")
    } else {
        args.input.clone()
    };
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => csv_path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default(),
    };
    let options = ReportOptions {
        alphas: args.alpha,
        ties: args.tie,
        incomplete: args.incomplete,
    };
    let summary = write_report(&csv_path, &options, &out)?;
    print!("{}", summary.table1_markdown);
    for warning in &summary.warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "{} repairs → {} (quality.csv, patterns.csv, table1.csv, table1.md, warnings.csv, figures/)",
        summary.repairs,
        out.display()
    );
    Ok(())
}
