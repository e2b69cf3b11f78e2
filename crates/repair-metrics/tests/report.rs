//! From a hand-written `repairs.csv` to Qual, patterns and Table 1.

use repair_core::{IncompletePolicy, TiePolicy};
use repair_metrics::{
    collapse_warnings, patterns, quality, read_repairs, table1, table1_markdown, warnings_markdown,
    Pattern,
};

const HEADER: &str = "dataset,model,run,seed,target_class,epoch,converged_epoch,base_acc_total,base_acc_cls,repaired_acc_total,repaired_acc_cls,rr,br,n_sites,fitness,evaluations,repair_ms,notes";

/// Run 1 (converged at 10): class 27 is best repaired early (epoch 5), class 20 at 10.
/// Run 2 (converged at 5): class 27 lacks its epoch-10 repair; class 20 best at 10,
/// after convergence.
fn rows() -> String {
    let line = |run, class, epoch, conv, acc_total: f64, acc_cls: f64| {
        format!("gtsrb,cnn-s,{run},{},{class},{epoch},{conv},0.8,0.4,{acc_total},{acc_cls},0.5,0.01,6,150.0,2600,20.0,x", 1000 + run)
    };
    [
        HEADER.to_string(),
        line(1, 27, 1, 10, 0.70, 0.50),
        line(1, 27, 5, 10, 0.90, 0.80),
        line(1, 27, 10, 10, 0.92, 0.60),
        line(1, 20, 1, 10, 0.70, 0.50),
        line(1, 20, 5, 10, 0.80, 0.60),
        line(1, 20, 10, 10, 0.95, 0.90),
        line(2, 27, 1, 5, 0.70, 0.50),
        line(2, 27, 5, 5, 0.90, 0.80),
        line(2, 20, 1, 5, 0.70, 0.50),
        line(2, 20, 5, 5, 0.80, 0.60),
        line(2, 20, 10, 5, 0.95, 0.90),
    ]
    .join("\n")
}

#[test]
fn quality_patterns_and_table1_follow_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repairs.csv");
    std::fs::write(&path, rows()).unwrap();
    let repairs = read_repairs(&path).unwrap();
    assert_eq!(repairs.len(), 11);

    let q = quality(&repairs, &[0.8]).unwrap();
    // Run 1, class 27, epoch 5: 0.8·0.80 + 0.2·0.90 = 0.82; base 0.8·0.4 + 0.2·0.8 = 0.48.
    let r = q
        .iter()
        .find(|r| r.run == 1 && r.target_class == 27 && r.epoch == 5)
        .unwrap();
    assert!((r.repaired_qual - 0.82).abs() < 1e-12 && (r.base_qual - 0.48).abs() < 1e-12);

    let p = patterns(
        &repairs,
        &[0.2, 0.8],
        TiePolicy::Post,
        IncompletePolicy::Mark,
    )
    .unwrap();
    let of = |run, class, alpha: f64| {
        p.iter()
            .find(|x| x.key.run == run && x.key.target_class == class && x.key.alpha == alpha)
            .unwrap()
            .result
            .pattern
    };
    // α = 0.8, run 1, class 27: epoch 5 (0.82) beats 10 (0.664).
    assert_eq!(of(1, 27, 0.8), Pattern::PreConvergence);
    // α = 0.2 weighs total accuracy more: epoch 5 gives 0.2·0.8 + 0.8·0.9 = 0.88, epoch
    // 10 gives 0.2·0.6 + 0.8·0.92 = 0.856: still pre-convergence.
    assert_eq!(of(1, 27, 0.2), Pattern::PreConvergence);
    assert_eq!(of(1, 20, 0.8), Pattern::PostConvergence);
    assert_eq!(of(2, 27, 0.8), Pattern::Incomplete);
    assert_eq!(of(2, 20, 0.8), Pattern::AfterConvergence);
    let available = patterns(
        &repairs,
        &[0.8],
        TiePolicy::Post,
        IncompletePolicy::Available,
    )
    .unwrap();
    let run2 = available
        .iter()
        .find(|x| x.key.run == 2 && x.key.target_class == 27)
        .unwrap();
    assert_eq!(run2.result.pattern, Pattern::PostConvergence);

    let t = table1(&p);
    assert_eq!(t.len(), 2);
    let a08 = t.iter().find(|r| r.key.alpha == 0.8).unwrap();
    let c = &a08.counts;
    assert_eq!((c.pre, c.post, c.after, c.incomplete), (1, 1, 1, 1));
    let md = table1_markdown(&t);
    assert!(
        md.contains("| gtsrb | arachne | 0.8 | 1 | 1 | 1 | 1 |"),
        "{md}"
    );
}

#[test]
fn a_malformed_repairs_csv_names_the_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repairs.csv");
    let bad = rows().replacen(",0.92,0.6,", ",high,0.6,", 1);
    std::fs::write(&path, bad).unwrap();
    let err = read_repairs(&path).unwrap_err().to_string();
    assert!(
        err.contains("repairs.csv") && err.contains("data row 3, column `repaired_acc_total`"),
        "{err}"
    );
    // An optional column's bad value is named too (not `field 11`).
    let bad = rows().replacen(",0.5,0.01,6,", ",0.5,0.01,six,", 1);
    std::fs::write(&path, bad).unwrap();
    let err = read_repairs(&path).unwrap_err().to_string();
    assert!(err.contains("data row 1, column `n_sites`"), "{err}");
    let missing = rows().replace(",target_class,", ",class,");
    std::fs::write(&path, missing).unwrap();
    let err = read_repairs(&path).unwrap_err().to_string();
    assert!(err.contains("target_class"), "{err}");
}

/// The study's released columns only, in another order, with a column of the tool's own:
/// the same Qual, patterns and Table 1 as the full file; the optional columns read empty.
#[test]
fn a_file_with_only_the_studys_columns_gives_the_same_table1() {
    const STUDY: [&str; 10] = [
        "dataset",
        "model",
        "run",
        "target_class",
        "epoch",
        "converged_epoch",
        "base_acc_total",
        "base_acc_cls",
        "repaired_acc_total",
        "repaired_acc_cls",
    ];
    let full = rows();
    let cells: Vec<Vec<&str>> = full.lines().map(|l| l.split(',').collect()).collect();
    // The file of `columns` only, in that order.
    let only = |columns: &[&str]| {
        let at: Vec<usize> = columns
            .iter()
            .map(|c| cells[0].iter().position(|h| h == c).unwrap())
            .collect();
        let line = |row: &Vec<&str>| at.iter().map(|&k| row[k]).collect::<Vec<_>>().join(",");
        cells.iter().map(line).collect::<Vec<_>>().join("\n")
    };
    // Reversed order, and the tool's own column kept.
    let reversed: Vec<&str> = STUDY.iter().rev().copied().chain(["notes"]).collect();
    let dir = tempfile::tempdir().unwrap();
    let (full_path, study_path) = (dir.path().join("full.csv"), dir.path().join("study.csv"));
    std::fs::write(&full_path, &full).unwrap();
    std::fs::write(&study_path, only(&reversed)).unwrap();
    let (with_all, with_study) = (
        read_repairs(&full_path).unwrap(),
        read_repairs(&study_path).unwrap(),
    );
    assert_eq!(with_study.len(), with_all.len());
    let r = &with_study[0];
    assert_eq!((r.seed, r.rr, r.br, r.n_sites), (None, None, None, None));
    assert_eq!((r.fitness, r.evaluations, r.repair_ms), (None, None, None));
    assert_eq!(with_all[0].seed, Some(1001));
    let alphas = [0.2, 0.5, 0.8];
    let table = |rows: &[repair_metrics::RepairRow]| {
        let p = patterns(rows, &alphas, TiePolicy::Post, IncompletePolicy::Mark).unwrap();
        (
            quality(rows, &alphas).unwrap(),
            table1_markdown(&table1(&p)),
            p,
        )
    };
    assert_eq!(table(&with_study), table(&with_all));

    // Empty cells in optional columns read as missing; in a required one they are named.
    let empty = full.replacen(",0.5,0.01,6,150.0,2600,20.0,", ",,,,,,,", 1);
    std::fs::write(&full_path, empty).unwrap();
    let rows_read = read_repairs(&full_path).unwrap();
    assert_eq!((rows_read[0].rr, rows_read[0].repair_ms), (None, None));
    assert_eq!(rows_read[1].rr, Some(0.5));
    let no_epoch = full.replacen(",27,1,10,", ",27,,10,", 1);
    std::fs::write(&full_path, no_epoch).unwrap();
    let err = read_repairs(&full_path).unwrap_err().to_string();
    assert!(err.contains("data row 1, column `epoch`"), "{err}");
    // A required column missing from the header is named.
    let without: Vec<&str> = STUDY
        .iter()
        .copied()
        .filter(|c| *c != "base_acc_cls")
        .collect();
    std::fs::write(&study_path, only(&without)).unwrap();
    let err = read_repairs(&study_path).unwrap_err().to_string();
    assert!(err.contains("base_acc_cls"), "{err}");
}

/// A pneumonia-like run (converged at 10): repairing epoch 1 makes the model say
/// "pneumonia" to 98 % of the test set (Acc_1 = 1, Acc_total 0.74): best for α = 0.8,
/// not for α = 0.2. Only the α = 0.8 pick is warned about.
#[test]
fn a_best_repair_that_labels_almost_everything_positive_is_warned_about() {
    let header = format!(
        "{HEADER},base_balanced_acc,repaired_balanced_acc,base_share_cls,repaired_share_cls"
    );
    let line = |epoch, total: f64, cls: f64, balanced: f64, share: f64| {
        format!("pneumonia,cnn-s,1,1024,1,{epoch},10,0.7,0.6,{total},{cls},0.5,0.01,6,150.0,2600,20.0,x,0.6,{balanced},0.5,{share}")
    };
    let text = [
        header,
        line(1, 0.74, 1.0, 0.51, 0.98),
        line(5, 0.86, 0.85, 0.86, 0.62),
        line(10, 0.90, 0.88, 0.90, 0.64),
    ]
    .join("\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repairs.csv");
    std::fs::write(&path, text).unwrap();
    let repairs = read_repairs(&path).unwrap();
    assert_eq!(repairs[0].repaired_share_cls, Some(0.98));
    let found = patterns(
        &repairs,
        &[0.2, 0.8],
        TiePolicy::Post,
        IncompletePolicy::Mark,
    )
    .unwrap();
    let warnings = collapse_warnings(&repairs, &found);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert_eq!((w.alpha, w.epoch, w.target_class), (0.8, 1, 1));
    assert_eq!(w.balanced_acc, Some(0.51));
    let text = w.to_string();
    assert!(
        text.contains("98.0 % of the test set as class 1") && text.contains("Acc_total = 0.740"),
        "{text}"
    );
    assert!(warnings_markdown(&warnings).contains("## Warnings"));
    assert_eq!(warnings_markdown(&[]), "");
    // Files from before the share was recorded never warn.
    let old = read_repairs(&{
        let p = dir.path().join("old.csv");
        std::fs::write(&p, rows()).unwrap();
        p
    })
    .unwrap();
    assert_eq!(old[0].repaired_share_cls, None);
    let found = patterns(&old, &[0.8], TiePolicy::Post, IncompletePolicy::Mark).unwrap();
    assert!(collapse_warnings(&old, &found).is_empty());
}
