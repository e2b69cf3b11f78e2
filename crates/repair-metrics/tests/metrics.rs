//! Metrics on hand-computed cases.

use repair_core::{IncompletePolicy, TiePolicy};
use repair_metrics::{
    classify_pattern, converged_epoch, qual, sign_test, CheckpointQual, ConfusionMatrix,
    GainSummary, MetricsError, Pattern, PatternCounts,
};

#[test]
fn accuracies_and_macro_f1_match_a_hand_computed_confusion_matrix() {
    // truth:     0 0 0 1 1 2
    // predicted: 0 0 1 1 2 2
    let m = ConfusionMatrix::new(3, &[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2]).unwrap();
    assert_eq!(m.count(0, 1), 1);
    assert!((m.accuracy() - 4.0 / 6.0).abs() < 1e-12);
    let per = m.per_class_accuracy();
    assert!((per[0] - 2.0 / 3.0).abs() < 1e-12 && (per[1] - 0.5).abs() < 1e-12 && per[2] == 1.0);
    // F1: class 0: 2·2/(3+2) = 0.8; class 1: 2·1/(2+2) = 0.5; class 2: 2·1/(1+2) = 2/3.
    assert!((m.macro_f1() - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    assert!((m.balanced_accuracy() - (2.0 / 3.0 + 0.5 + 1.0) / 3.0).abs() < 1e-12);
    assert_eq!((m.inputs(0), m.predictions(2)), (3, 2));
    assert!((m.predicted_share(2) - 2.0 / 6.0).abs() < 1e-12);
    let err = ConfusionMatrix::new(3, &[0, 3], &[0, 0]).unwrap_err();
    assert_eq!(
        err,
        MetricsError::UnknownClass {
            row: 1,
            class: 3,
            classes: 3
        }
    );
    assert!(ConfusionMatrix::new(3, &[0], &[0, 1]).is_err());
}

#[test]
fn balanced_accuracy_exposes_a_model_that_says_positive_to_everything() {
    // 3 negatives, 7 positives, everything predicted positive: accuracy 0.7, but
    // balanced accuracy 0.5 and a predicted share of 1.
    let labels = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
    let m = ConfusionMatrix::new(2, &labels, &[1; 10]).unwrap();
    assert!((m.accuracy() - 0.7).abs() < 1e-12);
    assert_eq!(m.balanced_accuracy(), 0.5);
    assert_eq!(m.predicted_share(1), 1.0);
    // A class absent from the truth does not count towards the mean.
    let m = ConfusionMatrix::new(3, &[0, 1], &[0, 0]).unwrap();
    assert_eq!(m.balanced_accuracy(), 0.5);
    assert!(ConfusionMatrix::new(2, &[], &[])
        .unwrap()
        .balanced_accuracy()
        .is_nan());
}

#[test]
fn qual_weighs_the_class_by_alpha() {
    assert!((qual(0.8, 0.5, 0.9).unwrap() - (0.4 + 0.18)).abs() < 1e-12);
    assert_eq!(qual(1.0, 0.3, 0.9).unwrap(), 0.3);
    assert_eq!(qual(1.2, 0.3, 0.9), Err(MetricsError::Alpha(1.2)));
}

#[test]
fn convergence_is_the_first_lowest_validation_loss() {
    let losses = [(1, 0.9), (2, 0.5), (3, 0.4), (4, 0.4), (5, 0.6)];
    assert_eq!(converged_epoch(&losses), Some(3));
    assert_eq!(converged_epoch(&[]), None);
    assert_eq!(converged_epoch(&[(1, f64::NAN), (2, 0.7)]), Some(2));
}

fn q(epoch: usize, qual: f64) -> CheckpointQual {
    CheckpointQual {
        epoch,
        qual: Some(qual),
    }
}

#[test]
fn patterns_follow_the_best_checkpoint_and_the_tie_policy() {
    let post = TiePolicy::Post;
    let mark = IncompletePolicy::Mark;
    // Best at convergence.
    let r = classify_pattern(&[q(1, 0.5), q(5, 0.6), q(10, 0.7)], 10, post, mark);
    assert_eq!(
        (r.pattern, r.best_epoch),
        (Pattern::PostConvergence, Some(10))
    );
    assert!((r.early_gain.unwrap() + 0.1).abs() < 1e-12);
    // A tie between epoch 5 and the converged 10: post by default, pre as the notebook.
    let tie = [q(1, 0.5), q(5, 0.7), q(10, 0.7)];
    assert_eq!(
        classify_pattern(&tie, 10, post, mark).pattern,
        Pattern::PostConvergence
    );
    let earliest = classify_pattern(&tie, 10, TiePolicy::Earliest, mark);
    assert_eq!(
        (earliest.pattern, earliest.best_epoch),
        (Pattern::PreConvergence, Some(5))
    );
    assert_eq!(earliest.early_gain, Some(0.0));
    // A best after convergence stays its own pattern.
    let r = classify_pattern(&[q(5, 0.6), q(10, 0.7), q(15, 0.8)], 10, post, mark);
    assert_eq!(r.pattern, Pattern::AfterConvergence);
    // Input order does not matter.
    let r = classify_pattern(&[q(10, 0.7), q(1, 0.9), q(5, 0.6)], 10, post, mark);
    assert_eq!(
        (r.pattern, r.best_epoch),
        (Pattern::PreConvergence, Some(1))
    );
}

#[test]
fn a_missing_repair_is_marked_or_skipped_as_configured() {
    let gap = [
        q(1, 0.9),
        CheckpointQual {
            epoch: 5,
            qual: None,
        },
        q(10, 0.7),
    ];
    let marked = classify_pattern(&gap, 10, TiePolicy::Post, IncompletePolicy::Mark);
    assert_eq!(marked.pattern, Pattern::Incomplete);
    let available = classify_pattern(&gap, 10, TiePolicy::Post, IncompletePolicy::Available);
    assert_eq!(
        (available.pattern, available.best_epoch),
        (Pattern::PreConvergence, Some(1))
    );
    let none = [CheckpointQual {
        epoch: 10,
        qual: None,
    }];
    assert_eq!(
        classify_pattern(&none, 10, TiePolicy::Post, IncompletePolicy::Available).pattern,
        Pattern::Incomplete
    );
}

#[test]
fn table_counts_and_the_sign_test() {
    let results = [
        classify_pattern(
            &[q(1, 0.9), q(10, 0.7)],
            10,
            TiePolicy::Post,
            IncompletePolicy::Mark,
        ),
        classify_pattern(
            &[q(1, 0.5), q(10, 0.7)],
            10,
            TiePolicy::Post,
            IncompletePolicy::Mark,
        ),
        classify_pattern(
            &[q(1, 0.8), q(10, 0.7)],
            10,
            TiePolicy::Post,
            IncompletePolicy::Mark,
        ),
    ];
    let counts = PatternCounts::of(&results);
    assert_eq!(
        (counts.pre, counts.post, counts.after, counts.incomplete),
        (2, 1, 0, 0)
    );
    // Bin(5, ½): P(X ≤ 0) = 1/32 → two-sided 1/16; P(X ≤ 1) = 6/32 → 0.375.
    assert!((sign_test(5, 0) - 0.0625).abs() < 1e-12);
    assert!((sign_test(1, 4) - 0.375).abs() < 1e-12);
    assert_eq!(sign_test(3, 3), 1.0);
    let gains: Vec<f64> = results.iter().map(|r| r.early_gain.unwrap()).collect();
    let s = GainSummary::of(&gains);
    assert_eq!((s.n, s.positive, s.negative), (3, 2, 1));
    assert!((s.mean - (0.2 - 0.2 + 0.1) / 3.0).abs() < 1e-12);
}
