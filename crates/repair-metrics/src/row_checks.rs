//! The one check of `repairs.csv` rows, for every reader of them (`report`, `verify`,
//! `readiness`): a results file is an input like any other, and a row that could not
//! have been written by a repair must stop the analysis rather than bend Table 1.
//!
//! What it refuses: no rows at all; a fraction (accuracy, RR, BR, share) outside [0, 1]
//! or not finite; a non-finite fitness or time; epoch 0; an empty dataset or model name;
//! two rows for one (dataset, model, run, epoch, class); and rows of one run that
//! disagree on its seed or converged epoch (both are properties of the run, the study's
//! `patterns` compares every checkpoint against the one converged epoch).

use std::collections::BTreeMap;

use crate::tables::RepairRow;

/// At most this many problems are listed in an error (all are counted).
pub const PROBLEMS_SHOWN: usize = 20;

/// Every problem of `rows`, each naming its row (1-based, as in the file) and column;
/// empty when the rows are a possible result of the study's repairs.
pub fn repair_problems(rows: &[RepairRow]) -> Vec<String> {
    let mut problems = Vec::new();
    if rows.is_empty() {
        problems.push("no repair rows (the file is empty or has only its header)".to_string());
    }
    let mut seen = BTreeMap::new();
    // (dataset, model, run) → (first row, seed, converged epoch).
    type RunFacts = (usize, Option<u64>, usize);
    let mut runs: BTreeMap<(&str, &str, usize), RunFacts> = BTreeMap::new();
    for (k, r) in rows.iter().enumerate() {
        let line = k + 1;
        let at = format!(
            "data row {line} (run {} epoch {} class {})",
            r.run, r.epoch, r.target_class
        );
        for (name, value) in fractions(r) {
            if !(0.0..=1.0).contains(&value) {
                problems.push(format!("{at}: {name} = {value} is outside [0, 1]"));
            }
        }
        for (name, value) in finite_values(r) {
            if !value.is_finite() {
                problems.push(format!("{at}: {name} = {value} is not a finite number"));
            }
        }
        if let Some(ms) = r.repair_ms.filter(|ms| *ms < 0.0) {
            problems.push(format!("{at}: repair_ms = {ms} is negative"));
        }
        for (name, value) in [("epoch", r.epoch), ("converged_epoch", r.converged_epoch)] {
            if value == 0 {
                problems.push(format!("{at}: {name} = 0 (epochs count from 1)"));
            }
        }
        for (name, value) in [("dataset", &r.dataset), ("model", &r.model)] {
            if value.trim().is_empty() {
                problems.push(format!("{at}: {name} is empty"));
            }
        }
        if let Some(first) = seen.insert(r.key(), line) {
            problems.push(format!("{at}: the same repair as data row {first}"));
        }
        let run = (r.dataset.as_str(), r.model.as_str(), r.run);
        let (first, seed, converged) =
            *runs.entry(run).or_insert((line, r.seed, r.converged_epoch));
        if (seed, converged) != (r.seed, r.converged_epoch) {
            problems.push(format!(
                "{at}: seed {} / converged_epoch {} where data row {first} of the same run has {} / {converged}",
                shown(r.seed),
                r.converged_epoch,
                shown(seed)
            ));
        }
    }
    problems
}

/// The problems as one message: how many, then the first [`PROBLEMS_SHOWN`].
pub fn problems_message(problems: &[String]) -> String {
    let shown = problems.len().min(PROBLEMS_SHOWN);
    let more = if problems.len() > shown {
        format!("\n  … and {} more", problems.len() - shown)
    } else {
        String::new()
    };
    format!(
        "{} problem{}:\n  {}{more}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        problems[..shown].join("\n  ")
    )
}

/// An optional column's value as a message shows it.
fn shown(value: Option<u64>) -> String {
    value.map_or_else(|| "(empty)".to_string(), |v| v.to_string())
}

/// The columns that are shares of a set: accuracies, RR, BR, predicted shares; the
/// optional ones only where the file has a value.
fn fractions(r: &RepairRow) -> impl Iterator<Item = (&'static str, f64)> {
    let required = [
        ("base_acc_total", r.base_acc_total),
        ("base_acc_cls", r.base_acc_cls),
        ("repaired_acc_total", r.repaired_acc_total),
        ("repaired_acc_cls", r.repaired_acc_cls),
    ];
    let optional = [
        ("rr", r.rr),
        ("br", r.br),
        ("base_balanced_acc", r.base_balanced_acc),
        ("repaired_balanced_acc", r.repaired_balanced_acc),
        ("base_share_cls", r.base_share_cls),
        ("repaired_share_cls", r.repaired_share_cls),
        ("selection_base_acc_total", r.selection_base_acc_total),
        ("selection_base_acc_cls", r.selection_base_acc_cls),
        (
            "selection_repaired_acc_total",
            r.selection_repaired_acc_total,
        ),
        ("selection_repaired_acc_cls", r.selection_repaired_acc_cls),
    ];
    required.into_iter().chain(
        optional
            .into_iter()
            .filter_map(|(name, v)| Some((name, v?))),
    )
}

/// The other real-valued columns, which may be any finite number.
fn finite_values(r: &RepairRow) -> impl Iterator<Item = (&'static str, f64)> {
    [
        ("fitness", r.fitness),
        ("repair_ms", r.repair_ms),
        ("fitness_before", r.fitness_before),
    ]
    .into_iter()
    .filter_map(|(name, v)| Some((name, v?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(run: usize, epoch: usize) -> RepairRow {
        RepairRow {
            dataset: "gtsrb".into(),
            model: "cnn-s".into(),
            run,
            seed: Some(7),
            target_class: 3,
            epoch,
            converged_epoch: 2,
            base_acc_total: 0.9,
            base_acc_cls: 0.5,
            repaired_acc_total: 0.89,
            repaired_acc_cls: 0.6,
            rr: Some(0.4),
            br: Some(0.01),
            fitness: Some(10.0),
            ..RepairRow::default()
        }
    }

    #[test]
    fn possible_rows_pass() {
        assert!(repair_problems(&[row(1, 1), row(1, 2), row(2, 1)]).is_empty());
    }

    #[test]
    fn each_impossible_value_is_named_with_its_row_and_column() {
        let mut rows = vec![row(1, 1), row(1, 2), row(1, 3), row(1, 4), row(1, 5)];
        rows[0].rr = Some(1.5);
        rows[1].base_acc_cls = f64::NAN;
        rows[2].selection_repaired_acc_cls = Some(-0.1);
        rows[3].fitness = Some(f64::INFINITY);
        rows[4].converged_epoch = 3;
        rows.push(row(1, 2));
        let problems = repair_problems(&rows);
        let all = problems.join("\n");
        for want in [
            "data row 1 (run 1 epoch 1 class 3): rr = 1.5 is outside [0, 1]",
            "data row 2 (run 1 epoch 2 class 3): base_acc_cls = NaN",
            "data row 3 (run 1 epoch 3 class 3): selection_repaired_acc_cls = -0.1",
            "data row 4 (run 1 epoch 4 class 3): fitness = inf is not a finite number",
            "data row 5 (run 1 epoch 5 class 3): seed 7 / converged_epoch 3 where data row 1",
            "data row 6 (run 1 epoch 2 class 3): the same repair as data row 2",
        ] {
            assert!(all.contains(want), "{want} not in\n{all}");
        }
        assert_eq!(problems.len(), 6, "{all}");
    }

    #[test]
    fn rows_without_the_optional_columns_pass_and_a_run_cannot_half_have_a_seed() {
        let bare = |epoch| RepairRow {
            seed: None,
            rr: None,
            br: None,
            fitness: None,
            ..row(1, epoch)
        };
        assert!(repair_problems(&[bare(1), bare(2)]).is_empty());
        let problems = repair_problems(&[bare(1), row(1, 2)]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains(
                "seed 7 / converged_epoch 2 where data row 1 of the same run has (empty) / 2"
            ),
            "{problems:?}"
        );
    }

    #[test]
    fn no_rows_is_a_problem_and_long_lists_are_cut() {
        assert_eq!(repair_problems(&[]).len(), 1);
        let many: Vec<String> = (0..30).map(|k| format!("p{k}")).collect();
        let message = problems_message(&many);
        assert!(message.starts_with("30 problems:") && message.contains("… and 10 more"));
        assert!(message.contains("p19") && !message.contains("p20"));
    }
}
