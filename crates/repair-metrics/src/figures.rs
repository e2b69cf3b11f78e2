//! SVG figures (feature `plots`), each returned as a string so callers write it
//! atomically: the paper's Fig. 3 (class and total accuracy before/after repair over
//! epochs), Fig. 4 (Qual_α over epochs with the best marked), the Pareto front of a
//! localisation (the study's `pareto_front.png`), and Table 1 as a bar chart.

use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;

use crate::error::MetricsError;
use crate::tables::{QualityRow, RepairRow, Table1Row};

const BASE: RGBColor = RGBColor(25, 45, 110);
const REPAIRED: RGBColor = RGBColor(40, 150, 70);
/// The notebook's α colours: 0.2 green, 0.5 purple, 0.8 `#d67728`.
const ALPHA_COLOURS: [RGBColor; 3] = [
    RGBColor(44, 160, 44),
    RGBColor(128, 0, 128),
    RGBColor(214, 119, 40),
];

fn plot_error(e: impl std::fmt::Display) -> MetricsError {
    MetricsError::Csv(format!("figure: {e}"))
}

fn max_epoch<'a>(epochs: impl Iterator<Item = &'a usize>) -> usize {
    epochs.copied().max().unwrap_or(1).max(1)
}

type EpochChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordusize, RangedCoordf64>>;

/// Axes epoch × [0, 1.1] with the converged epoch dashed (Fig. 3 and 4).
fn epoch_chart<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: &str,
    x_max: usize,
    y_desc: &str,
    converged: usize,
) -> Result<EpochChart<'a, 'b>, MetricsError> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(0usize..x_max, 0f64..1.1)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("Epoch")
        .y_desc(y_desc)
        .draw()
        .map_err(plot_error)?;
    chart
        .draw_series(DashedLineSeries::new(
            [(converged, 0.0), (converged, 1.1)],
            5,
            4,
            BLACK.mix(0.5).stroke_width(1),
        ))
        .map_err(plot_error)?;
    Ok(chart)
}

/// The legend box, lower right.
fn legend<'a, 'b: 'a>(chart: &mut EpochChart<'a, 'b>) -> Result<(), MetricsError> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(plot_error)
}

/// Fig. 3: for one run and class, Acc_cls (left) and Acc_total (right) of the base
/// checkpoints and of their repairs over the epochs; the converged epoch dashed.
pub fn accuracy_figure(rows: &[&RepairRow]) -> Result<String, MetricsError> {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| r.epoch);
    let first = rows.first().ok_or_else(|| plot_error("no rows"))?;
    let title = format!(
        "{} run {} class {}",
        first.model, first.run, first.target_class
    );
    let x_max = max_epoch(rows.iter().map(|r| &r.epoch)) + 1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root
            .titled(&title, ("sans-serif", 18))
            .map_err(plot_error)?;
        let panels = root.split_evenly((1, 2));
        type Pick = fn(&RepairRow) -> (f64, f64);
        let picks: [(&str, Pick); 2] = [
            ("Class accuracy", |r| (r.base_acc_cls, r.repaired_acc_cls)),
            ("Total accuracy", |r| {
                (r.base_acc_total, r.repaired_acc_total)
            }),
        ];
        for (panel, (name, pick)) in panels.iter().zip(picks) {
            let mut chart = epoch_chart(panel, name, x_max, "Accuracy", first.converged_epoch)?;
            let base: Vec<(usize, f64)> = rows.iter().map(|r| (r.epoch, pick(r).0)).collect();
            let repaired: Vec<(usize, f64)> = rows.iter().map(|r| (r.epoch, pick(r).1)).collect();
            chart
                .draw_series(LineSeries::new(base.clone(), BASE.stroke_width(2)))
                .map_err(plot_error)?
                .label("before repair")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BASE.stroke_width(2)));
            chart
                .draw_series(LineSeries::new(repaired.clone(), REPAIRED.stroke_width(2)))
                .map_err(plot_error)?
                .label("after repair")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], REPAIRED.stroke_width(2)));
            chart
                .draw_series(
                    repaired
                        .iter()
                        .map(|&p| Circle::new(p, 3, REPAIRED.filled())),
                )
                .map_err(plot_error)?;
            legend(&mut chart)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Fig. 4: for one run and class, repaired Qual_α over the epochs, one line per α, the
/// best checkpoint of each α circled; the converged epoch dashed.
pub fn quality_figure(
    rows: &[&QualityRow],
    best: &[(f64, Option<usize>)],
) -> Result<String, MetricsError> {
    let first = rows.first().ok_or_else(|| plot_error("no rows"))?;
    let title = format!(
        "{} run {} class {}: Qual after repair",
        first.model, first.run, first.target_class
    );
    let x_max = max_epoch(rows.iter().map(|r| &r.epoch)) + 1;
    let mut alphas: Vec<f64> = rows.iter().map(|r| r.alpha).collect();
    alphas.sort_by(f64::total_cmp);
    alphas.dedup();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = epoch_chart(&root, &title, x_max, "Qual", first.converged_epoch)?;
        for (k, &alpha) in alphas.iter().enumerate() {
            let colour = ALPHA_COLOURS[k % ALPHA_COLOURS.len()];
            let mut points: Vec<(usize, f64)> = rows
                .iter()
                .filter(|r| r.alpha == alpha)
                .map(|r| (r.epoch, r.repaired_qual))
                .collect();
            points.sort_by_key(|p| p.0);
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
                .map_err(plot_error)?
                .label(format!("alpha {alpha}"))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2))
                });
            let best_epoch = best.iter().find(|b| b.0 == alpha).and_then(|b| b.1);
            if let Some(p) = points.iter().find(|p| Some(p.0) == best_epoch) {
                chart
                    .draw_series([Circle::new(*p, 7, colour.stroke_width(2))])
                    .map_err(plot_error)?;
            }
        }
        legend(&mut chart)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// The localisation's candidates (gradient loss, forward impact), the selected ones
/// (the Pareto front) in red.
pub fn pareto_figure(points: &[(f64, f64, bool)], title: &str) -> Result<String, MetricsError> {
    let x_max = points.iter().map(|p| p.0).fold(0.0, f64::max) * 1.05 + 1e-12;
    let y_max = points.iter().map(|p| p.1).fold(0.0, f64::max) * 1.05 + 1e-12;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("gradient loss")
            .y_desc("forward impact")
            .draw()
            .map_err(plot_error)?;
        chart
            .draw_series(
                points
                    .iter()
                    .filter(|p| !p.2)
                    .map(|p| Circle::new((p.0, p.1), 2, BLUE.mix(0.4).filled())),
            )
            .map_err(plot_error)?;
        chart
            .draw_series(
                points
                    .iter()
                    .filter(|p| p.2)
                    .map(|p| Circle::new((p.0, p.1), 4, RED.filled())),
            )
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Table 1 as grouped bars: per dataset and α, the counts of each pattern.
pub fn table1_figure(rows: &[Table1Row]) -> Result<String, MetricsError> {
    let groups = rows.len().max(1);
    let y_max = rows
        .iter()
        .map(|r| {
            r.counts
                .pre
                .max(r.counts.post)
                .max(r.counts.after)
                .max(r.counts.incomplete)
        })
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.3;
    let kinds: [(&str, RGBColor); 4] = [
        ("pre-convergence", RGBColor(44, 160, 44)),
        ("post-convergence", RGBColor(25, 45, 110)),
        ("after-convergence", RGBColor(214, 119, 40)),
        ("incomplete", RGBColor(150, 150, 150)),
    ];
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (160 * groups as u32 + 200, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Best repair: before, at or after convergence",
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(0f64..groups as f64, 0f64..y_max)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("(run, class) pairs")
            .draw()
            .map_err(plot_error)?;
        // Group names inside the plot, above each group of bars (the labels of an f64
        // axis do not land on group centres).
        chart
            .draw_series(rows.iter().enumerate().map(|(g, r)| {
                Text::new(
                    match r.key.method.as_str() {
                        crate::STUDY_METHOD => format!("{} α={}", r.key.dataset, r.key.alpha),
                        m => format!("{} {m} α={}", r.key.dataset, r.key.alpha),
                    },
                    (g as f64 + 0.12, y_max * 0.97),
                    ("sans-serif", 13),
                )
            }))
            .map_err(plot_error)?;
        for (k, (name, colour)) in kinds.iter().enumerate() {
            let bars = rows.iter().enumerate().map(|(g, r)| {
                let v = [
                    r.counts.pre,
                    r.counts.post,
                    r.counts.after,
                    r.counts.incomplete,
                ][k] as f64;
                let x0 = g as f64 + 0.1 + 0.2 * k as f64;
                Rectangle::new([(x0, 0.0), (x0 + 0.18, v)], colour.filled())
            });
            let colour = *colour;
            chart
                .draw_series(bars)
                .map_err(plot_error)?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}
