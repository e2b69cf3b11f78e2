//! The Pareto front of points (a, b), both maximised (ER arachne.py 316-344): a point
//! is dominated if another is ≥ in both and > in one; exact duplicates do not dominate
//! each other, so both stay on the front.

/// Whether each point is on the front, in O(n log n): sort by a descending; a point
/// is on the front iff its b is the largest among points with the same a and larger
/// than every b of a point with a larger a.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&x, &y| points[y].0.total_cmp(&points[x].0));
    let mut on_front = vec![false; points.len()];
    let mut best_above = f64::NEG_INFINITY; // max b over strictly larger a
    let mut start = 0;
    while start < order.len() {
        let a = points[order[start]].0;
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&k| points[k].0 == a)
                .count();
        let group = &order[start..end];
        let group_max = group
            .iter()
            .map(|&k| points[k].1)
            .fold(f64::NEG_INFINITY, f64::max);
        for &k in group {
            let b = points[k].1;
            on_front[k] = b == group_max && b > best_above;
        }
        best_above = best_above.max(group_max);
        start = end;
    }
    on_front
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The study's O(n²) definition, verbatim.
    fn brute_force(points: &[(f64, f64)]) -> Vec<bool> {
        points
            .iter()
            .map(|&(a, b)| {
                !points
                    .iter()
                    .any(|&(c, d)| c >= a && d >= b && (c > a || d > b))
            })
            .collect()
    }

    #[test]
    fn matches_the_quadratic_definition_on_random_points_with_many_ties() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        for case in 0..2_000 {
            let n = rng.random_range(1..40);
            let grid = rng.random_range(1..8); // small grids: ties in a, b and both
            let points: Vec<(f64, f64)> = (0..n)
                .map(|_| {
                    (
                        rng.random_range(0..grid) as f64,
                        rng.random_range(0..grid) as f64,
                    )
                })
                .collect();
            assert_eq!(
                pareto_front(&points),
                brute_force(&points),
                "case {case}: {points:?}"
            );
        }
    }

    #[test]
    fn duplicates_of_a_front_point_are_all_on_the_front() {
        let points = [(3.0, 1.0), (1.0, 3.0), (3.0, 1.0), (2.0, 2.0), (1.0, 1.0)];
        assert_eq!(pareto_front(&points), [true, true, true, true, false]);
    }
}
