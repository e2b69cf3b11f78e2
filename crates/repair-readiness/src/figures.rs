//! SVG figures (feature `plots`), returned as strings so callers write them atomically:
//! per (run, class) the repaired test and selection Qual over the epochs, one panel per
//! α, each rule's pick marked; and the rank correlation of each signal with the test
//! gain of repair.

use plotters::prelude::*;

use crate::error::ReadinessError;
use crate::evaluate::CaseResult;
use crate::signal_table::Correlation;
use crate::signals::{Alpha, RepairSeries};

const TEST: RGBColor = RGBColor(40, 150, 70);
const SELECTION: RGBColor = RGBColor(25, 45, 110);
const PICKS: [RGBColor; 6] = [
    RGBColor(0, 0, 0),
    RGBColor(214, 119, 40),
    RGBColor(128, 0, 128),
    RGBColor(200, 30, 30),
    RGBColor(30, 160, 190),
    RGBColor(140, 140, 40),
];

fn plot_error(e: impl std::fmt::Display) -> ReadinessError {
    ReadinessError::Figure(e.to_string())
}

/// The legend box at `position`, framed as the metrics crate's figures are.
fn legend<'a, 'b: 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
    position: SeriesLabelPosition,
) -> Result<(), ReadinessError> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(plot_error)
}

/// One run and class: per α, the repaired test and selection Qual over the epochs, a
/// triangle per rule at the epoch it picked (and the oracle's star), from `picks` of
/// this series.
pub fn picks_figure(
    series: &RepairSeries,
    alphas: &[Alpha],
    picks: &[&CaseResult],
) -> Result<String, ReadinessError> {
    let k = &series.key;
    let title = format!(
        "{} {} run {} class {}",
        k.dataset, k.model, k.run, k.target_class
    );
    let x_max = series.last_epoch() + 1;
    let mut rules: Vec<&str> = Vec::new();
    for p in picks {
        if !rules.contains(&p.outcome.rule.as_str()) {
            rules.push(&p.outcome.rule);
        }
    }
    let mut svg = String::new();
    {
        let height = 60 + 300 * alphas.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root
            .titled(&title, ("sans-serif", 18))
            .map_err(plot_error)?;
        for (panel, &alpha) in root.split_evenly((alphas.len(), 1)).iter().zip(alphas) {
            let test: Vec<(usize, f64)> = series
                .test
                .iter()
                .map(|t| (t.epoch, t.repaired.qual(alpha)))
                .collect();
            let selection: Vec<(usize, f64)> = series
                .signals
                .iter()
                .map(|s| (s.epoch, s.repaired.qual(alpha)))
                .collect();
            let (lo, hi) = test
                .iter()
                .chain(&selection)
                .fold((1.0f64, 0.0f64), |(lo, hi), &(_, q)| (lo.min(q), hi.max(q)));
            let (lo, hi) = ((lo - 0.05).max(0.0), (hi + 0.05).min(1.05));
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("α = {}", alpha.get()), ("sans-serif", 15))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(45)
                .build_cartesian_2d(0usize..x_max, lo..hi)
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_desc("Epoch")
                .y_desc("Repaired Qual")
                .draw()
                .map_err(plot_error)?;
            for (points, colour, label) in [
                (&test, TEST, "test (reporting only)"),
                (&selection, SELECTION, "selection (validation)"),
            ] {
                chart
                    .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
                    .map_err(plot_error)?
                    .label(label)
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2))
                    });
            }
            let at = |epoch: usize| test[epoch - 1];
            for (n, rule) in rules.iter().enumerate() {
                let Some(p) = picks
                    .iter()
                    .find(|p| p.outcome.rule == *rule && p.outcome.alpha == alpha.get())
                else {
                    continue;
                };
                let colour = PICKS[n % PICKS.len()];
                let (x, y) = at(p.outcome.picked_epoch);
                // Rules stack upwards so that equal picks stay visible.
                let y = y + 0.012 * n as f64;
                chart
                    .draw_series([TriangleMarker::new((x, y), 7, colour.filled())])
                    .map_err(plot_error)?
                    .label(format!("{rule}: epoch {}", p.outcome.picked_epoch))
                    .legend(move |(x, y)| TriangleMarker::new((x + 8, y), 6, colour.filled()));
            }
            if let Some(p) = picks.iter().find(|p| p.outcome.alpha == alpha.get()) {
                let (x, y) = at(p.outcome.oracle_epoch);
                chart
                    .draw_series([Circle::new((x, y), 6, TEST.stroke_width(2))])
                    .map_err(plot_error)?
                    .label(format!("oracle: epoch {}", p.outcome.oracle_epoch))
                    .legend(|(x, y)| Circle::new((x + 8, y), 5, TEST.stroke_width(2)));
            }
            legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Spearman's ρ (pooled) of each signal with the test gain of repair, one bar group per
/// signal, one bar per α.
pub fn correlation_figure(rows: &[Correlation]) -> Result<String, ReadinessError> {
    let mut signals: Vec<&str> = Vec::new();
    let mut alphas: Vec<f64> = Vec::new();
    for r in rows {
        if !signals.contains(&r.signal.as_str()) {
            signals.push(&r.signal);
        }
        if !alphas.contains(&r.alpha) {
            alphas.push(r.alpha);
        }
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let groups = signals.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Rank correlation of each signal with the test-Qual gain of repair",
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(110)
            .y_label_area_size(45)
            .build_cartesian_2d(0f64..groups as f64, -1f64..1f64)
            .map_err(plot_error)?;
        let names = signals.clone();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups * 2 + 1)
            .x_label_formatter(&|x| {
                let i = x.floor() as usize;
                if (x - x.floor() - 0.5).abs() < 0.26 && i < names.len() {
                    names[i].to_string()
                } else {
                    String::new()
                }
            })
            .x_label_style(
                ("sans-serif", 11)
                    .into_font()
                    .transform(FontTransform::Rotate90),
            )
            .y_desc("Spearman ρ (pooled)")
            .draw()
            .map_err(plot_error)?;
        let width = 0.8 / alphas.len().max(1) as f64;
        for (a, &alpha) in alphas.iter().enumerate() {
            let colour = PICKS[(a + 1) % PICKS.len()];
            let bars: Vec<Rectangle<(f64, f64)>> = rows
                .iter()
                .filter(|r| r.alpha == alpha && r.rho_pooled.is_finite())
                .filter_map(|r| {
                    let i = signals.iter().position(|s| *s == r.signal)? as f64;
                    let x = i + 0.1 + width * a as f64;
                    Some(Rectangle::new(
                        [(x, 0.0), (x + width, r.rho_pooled)],
                        colour.filled(),
                    ))
                })
                .collect();
            chart
                .draw_series(bars)
                .map_err(plot_error)?
                .label(format!("α = {alpha}"))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{evaluate, tests::series};
    use crate::signal_table::{correlations, signal_rows};

    #[test]
    fn the_picks_figure_marks_every_rule_and_the_oracle_per_alpha() {
        let loss = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 1.5, 1.6];
        let q = [0.2, 0.4, 0.9, 0.5, 0.5, 0.6, 0.5, 0.5];
        let s = series(1, &loss, &q, &q);
        let alphas = [Alpha::new(0.2).unwrap(), Alpha::new(0.8).unwrap()];
        let rules = vec![crate::rule_named("best-repaired:2").unwrap()];
        let results = evaluate(std::slice::from_ref(&s), &alphas, &rules, 2);
        let picks: Vec<&CaseResult> = results.iter().collect();
        let svg = picks_figure(&s, &alphas, &picks).unwrap();
        assert!(svg.contains("gtsrb cnn-s run 1 class 3"));
        assert!(svg.contains("α = 0.2") && svg.contains("α = 0.8"));
        // Two rules (the baseline and best-repaired) per panel, their legend entries too.
        assert_eq!(svg.matches("converged(p=2): epoch 6").count(), 2);
        assert_eq!(svg.matches("best-repaired(p=2): epoch 3").count(), 2);
        assert_eq!(svg.matches("oracle: epoch 3").count(), 2);
        let rows = signal_rows(&[s], &alphas);
        let svg = correlation_figure(&correlations(&rows)).unwrap();
        assert!(svg.contains("selection_repaired_qual") && svg.contains("α = 0.8"));
    }
}
