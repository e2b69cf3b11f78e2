//! From a hand-written `repairs.csv` to Qual, patterns and Table 1.

use repair_metrics::{
    patterns, quality, read_repairs, table1, table1_markdown, IncompletePolicy, Pattern, TiePolicy,
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
            .find(|x| x.run == run && x.target_class == class && x.alpha == alpha)
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
        .find(|x| x.run == 2 && x.target_class == 27)
        .unwrap();
    assert_eq!(run2.result.pattern, Pattern::PostConvergence);

    let t = table1(&p);
    assert_eq!(t.len(), 2);
    let a08 = t.iter().find(|r| r.alpha == 0.8).unwrap();
    let c = &a08.counts;
    assert_eq!((c.pre, c.post, c.after, c.incomplete), (1, 1, 1, 1));
    let md = table1_markdown(&t);
    assert!(md.contains("| gtsrb | 0.8 | 1 | 1 | 1 | 1 |"), "{md}");
}

#[test]
fn a_malformed_repairs_csv_names_the_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repairs.csv");
    let bad = rows().replacen(",0.92,0.6,", ",high,0.6,", 1);
    std::fs::write(&path, bad).unwrap();
    let err = read_repairs(&path).unwrap_err().to_string();
    assert!(
        err.contains("repairs.csv") && err.contains("data row 3"),
        "{err}"
    );
    let missing = rows().replace(",target_class,", ",class,");
    std::fs::write(&path, missing).unwrap();
    let err = read_repairs(&path).unwrap_err().to_string();
    assert!(err.contains("target_class"), "{err}");
}
