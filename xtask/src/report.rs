//! `cargo xtask report`: Table 1 and the quality tables from a `repairs.csv` alone.

use repair_data::write_atomic;
use repair_metrics::{
    patterns, quality, read_repairs, table1, table1_markdown, to_csv, IncompletePolicy, PatternCsv,
    Table1Csv, TiePolicy,
};

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
    let ties = match args.tie.as_str() {
        "post" => TiePolicy::Post,
        "earliest" => TiePolicy::Earliest,
        other => anyhow::bail!("unknown tie policy `{other}` (post or earliest)"),
    };
    let incomplete = match args.incomplete.as_str() {
        "mark" => IncompletePolicy::Mark,
        "available" => IncompletePolicy::Available,
        other => anyhow::bail!("unknown incomplete policy `{other}` (mark or available)"),
    };
    let repairs = read_repairs(&csv_path)?;
    let quality_rows = quality(&repairs, &args.alpha)?;
    let run_patterns = patterns(&repairs, &args.alpha, ties, incomplete)?;
    let table = table1(&run_patterns);
    std::fs::create_dir_all(&out)?;
    write_atomic(&out.join("quality.csv"), &to_csv(&quality_rows)?)?;
    let pattern_rows: Vec<PatternCsv> = run_patterns.iter().map(PatternCsv::from).collect();
    write_atomic(&out.join("patterns.csv"), &to_csv(&pattern_rows)?)?;
    let table_csv: Vec<Table1Csv> = table.iter().map(Table1Csv::from).collect();
    write_atomic(&out.join("table1.csv"), &to_csv(&table_csv)?)?;
    let markdown = table1_markdown(&table);
    write_atomic(&out.join("table1.md"), markdown.as_bytes())?;
    print!("{markdown}");
    println!(
        "{} repairs → {} (quality.csv, patterns.csv, table1.csv, table1.md)",
        repairs.len(),
        out.display()
    );
    Ok(())
}
