//! How many repairs left the model worse than they found it. The study's Arachne returns
//! the swarm's best unconditionally, and its swarm never holds the original weights, so
//! a repair can end below the original on its own objective (the fitness on the repair
//! set), and a repair can lower the very class it was asked to fix on the test set. The
//! report counts both per method, so that a study that keeps such repairs says how many
//! it kept.

use std::collections::BTreeMap;

use crate::tables::RepairRow;

/// The regressions among one method's repairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegressionCount {
    /// The method.
    pub method: String,
    /// Repairs that searched (a class with nothing to repair is not one).
    pub repairs: usize,
    /// Those whose result has a lower fitness on the repair set than the original layer.
    pub worse_fitness: usize,
    /// Those whose repaired model has a lower test accuracy on the target class than the
    /// checkpoint.
    pub lower_class_accuracy: usize,
}

/// The counts per method, in method order; rows without `fitness_before` (nothing to
/// repair, or another tool's file without the column) are not counted.
pub fn regression_counts(rows: &[RepairRow]) -> Vec<RegressionCount> {
    let mut by_method: BTreeMap<&str, RegressionCount> = BTreeMap::new();
    for r in rows {
        let (Some(before), Some(after)) = (r.fitness_before, r.fitness) else {
            continue;
        };
        let count = by_method
            .entry(r.method.as_str())
            .or_insert_with(|| RegressionCount {
                method: r.method.to_string(),
                repairs: 0,
                worse_fitness: 0,
                lower_class_accuracy: 0,
            });
        count.repairs += 1;
        count.worse_fitness += usize::from(after < before);
        count.lower_class_accuracy += usize::from(r.repaired_acc_cls < r.base_acc_cls);
    }
    by_method.into_values().collect()
}

/// One line for the report's summary: per method, how many repairs were worse than the
/// original on the repair set and how many lowered the target class's test accuracy.
/// Empty when no row searched.
pub fn regressions_line(counts: &[RegressionCount]) -> String {
    if counts.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|c| {
            format!(
                "{}: {} of {} worse than the original on the repair set's fitness, {} lowered \
                 the target class's test accuracy",
                c.method, c.worse_fitness, c.repairs, c.lower_class_accuracy
            )
        })
        .collect();
    format!("Repairs worse than the original — {}.\n", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(method: &str, before: Option<f64>, after: f64, cls: (f64, f64)) -> RepairRow {
        RepairRow {
            method: method.into(),
            fitness_before: before,
            fitness: Some(after),
            base_acc_cls: cls.0,
            repaired_acc_cls: cls.1,
            ..RepairRow::default()
        }
    }

    #[test]
    fn worse_fitness_and_a_lower_target_class_are_counted_per_method() {
        let rows = [
            row("arachne", Some(80.0), 79.0, (0.5, 0.4)),
            row("arachne", Some(80.0), 81.0, (0.5, 0.6)),
            row("arachne", Some(80.0), 80.0, (0.5, 0.5)),
            row("arachne", None, 0.0, (0.9, 0.9)),
            row("de", Some(10.0), 12.0, (0.5, 0.3)),
        ];
        let counts = regression_counts(&rows);
        assert_eq!(
            counts,
            [
                RegressionCount {
                    method: "arachne".into(),
                    repairs: 3,
                    worse_fitness: 1,
                    lower_class_accuracy: 1
                },
                RegressionCount {
                    method: "de".into(),
                    repairs: 1,
                    worse_fitness: 0,
                    lower_class_accuracy: 1
                }
            ]
        );
        assert_eq!(
            regressions_line(&counts),
            "Repairs worse than the original — arachne: 1 of 3 worse than the original on the \
             repair set's fitness, 1 lowered the target class's test accuracy; de: 0 of 1 worse \
             than the original on the repair set's fitness, 1 lowered the target class's test \
             accuracy.\n"
        );
        assert_eq!(regressions_line(&[]), "");
    }
}
