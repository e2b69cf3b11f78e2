//! `cargo xtask report`: Table 1 and the quality tables from a `repairs.csv` alone.

use repair_data::write_atomic;
use repair_metrics::{
    accuracy_figure, patterns, quality, quality_figure, read_repairs, table1, table1_figure,
    table1_markdown, to_csv, IncompletePolicy, PatternCsv, QualityRow, RepairRow, RunPattern,
    Table1Csv, Table1Row, TiePolicy,
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
    write_figures(
        &out.join("figures"),
        &repairs,
        &quality_rows,
        &run_patterns,
        &table,
    )?;
    let markdown = table1_markdown(&table);
    write_atomic(&out.join("table1.md"), markdown.as_bytes())?;
    print!("{markdown}");
    println!(
        "{} repairs → {} (quality.csv, patterns.csv, table1.csv, table1.md, figures/)",
        repairs.len(),
        out.display()
    );
    Ok(())
}

/// Fig. 3 and Fig. 4 per (dataset, model, run, class), and Table 1 as bars, as SVG.
fn write_figures(
    dir: &std::path::Path,
    repairs: &[RepairRow],
    quality_rows: &[QualityRow],
    run_patterns: &[RunPattern],
    table: &[Table1Row],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut keys: Vec<(&str, &str, usize, u32)> = repairs
        .iter()
        .map(|r| (r.dataset.as_str(), r.model.as_str(), r.run, r.target_class))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    for (dataset, model, run, class) in keys {
        let same = |d: &str, m: &str, r: usize, c: u32| {
            d == dataset && m == model && r == run && c == class
        };
        let rows: Vec<&RepairRow> = repairs
            .iter()
            .filter(|r| same(&r.dataset, &r.model, r.run, r.target_class))
            .collect();
        let quality: Vec<&QualityRow> = quality_rows
            .iter()
            .filter(|r| same(&r.dataset, &r.model, r.run, r.target_class))
            .collect();
        let best: Vec<(f64, Option<usize>)> = run_patterns
            .iter()
            .filter(|p| same(&p.dataset, &p.model, p.run, p.target_class))
            .map(|p| (p.alpha, p.result.best_epoch))
            .collect();
        let stem = format!("{dataset}-{model}-run{run}-class{class}");
        write_atomic(
            &dir.join(format!("accuracy-{stem}.svg")),
            accuracy_figure(&rows)?.as_bytes(),
        )?;
        write_atomic(
            &dir.join(format!("quality-{stem}.svg")),
            quality_figure(&quality, &best)?.as_bytes(),
        )?;
    }
    write_atomic(&dir.join("table1.svg"), table1_figure(table)?.as_bytes())?;
    Ok(())
}
