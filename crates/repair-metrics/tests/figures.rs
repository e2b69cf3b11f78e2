//! The SVG figures carry their data: titles, axes, legends and one mark per point.
#![cfg(feature = "plots")]

use repair_core::{IncompletePolicy, TiePolicy};
use repair_metrics::{
    accuracy_figure, pareto_figure, quality, quality_figure, table1, table1_figure, RepairRow,
};

fn row(epoch: usize, repaired_cls: f64) -> RepairRow {
    RepairRow {
        dataset: "gtsrb".into(),
        model: "cnn-s".into(),
        run: 1,
        target_class: 27,
        epoch,
        converged_epoch: 10,
        base_acc_total: 0.8,
        base_acc_cls: 0.4,
        repaired_acc_total: 0.79,
        repaired_acc_cls: repaired_cls,
        // The study's columns only: figures need no more.
        ..RepairRow::default()
    }
}

fn circles(svg: &str) -> usize {
    svg.matches("<circle").count()
}

#[test]
fn figures_show_every_point_with_titles_and_legends() {
    let rows = vec![row(1, 0.5), row(5, 0.7), row(10, 0.6)];
    let refs: Vec<&RepairRow> = rows.iter().collect();
    let acc = accuracy_figure(&refs).unwrap();
    assert!(acc.starts_with("<svg") && acc.contains("cnn-s run 1 class 27"));
    for text in [
        "Class accuracy",
        "Total accuracy",
        "Epoch",
        "before repair",
        "after repair",
    ] {
        assert!(acc.contains(text), "{text}");
    }
    assert_eq!(
        circles(&acc),
        2 * 3,
        "one marker per repaired checkpoint and panel"
    );

    let q = quality(&rows, &[0.2, 0.8]).unwrap();
    let qrefs: Vec<_> = q.iter().collect();
    let p = repair_metrics::patterns(&rows, &[0.2, 0.8], TiePolicy::Post, IncompletePolicy::Mark)
        .unwrap();
    let best: Vec<(f64, Option<usize>)> = p
        .iter()
        .map(|p| (p.key.alpha, p.result.best_epoch))
        .collect();
    let fig4 = quality_figure(&qrefs, &best).unwrap();
    assert!(fig4.contains("alpha 0.2") && fig4.contains("alpha 0.8"));
    assert_eq!(
        circles(&fig4),
        2,
        "the best checkpoint of each α is circled"
    );

    let pareto = pareto_figure(
        &[(1.0, 2.0, true), (0.5, 0.5, false), (2.0, 1.0, true)],
        "front",
    )
    .unwrap();
    assert!(pareto.contains("gradient loss") && pareto.contains("forward impact"));
    assert_eq!(circles(&pareto), 3);

    let t = table1_figure(&table1(&p)).unwrap();
    assert!(t.contains("pre-convergence") && t.contains("gtsrb α=0.8"));
}
