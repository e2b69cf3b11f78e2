//! Smaller parts of a split that keep every class: a seeded stratified subset (for
//! `--subset N`), and the check that a stride (`data.repair_every = k`) or a subset did
//! not empty a class or a part.
//!
//! The training split is stored in corpus order, which is class order for GTSRB, so the
//! first N indices are the first few classes only: `--subset 12000` once trained a
//! model that never saw classes 14–42, and a "worst class" repair then worked on a class
//! the model had never been shown. A subset is therefore drawn per class, in
//! proportion to the class's share (largest remainders, at least one image of every
//! class), from a generator seeded by the caller.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::dataset::Dataset;
use crate::error::{DataError, Result};

/// `n` of `indices` (images of `images`), stratified by class and drawn with `seed`,
/// returned sorted. `what` names the request in errors (`--subset`). Refused: `n = 0`,
/// `n` above the number of indices, and `n` below the number of classes present (a
/// class would be left out).
pub fn stratified_subset(
    images: &dyn Dataset,
    indices: &[usize],
    n: usize,
    seed: u64,
    what: &str,
) -> Result<Vec<usize>> {
    let by_class = by_class(images, indices);
    if n == 0 {
        return Err(DataError::invalid(
            what,
            "0 images: want at least one per class",
        ));
    }
    if n > indices.len() {
        return Err(DataError::invalid(
            what,
            format!("{n} images, but the part has only {}", indices.len()),
        ));
    }
    if n < by_class.len() {
        return Err(DataError::invalid(
            what,
            format!(
                "{n} images cannot hold the part's {} classes (want at least one each)",
                by_class.len()
            ),
        ));
    }
    // In proportion to the class sizes (Hamilton's largest remainders, ties to the
    // lower class), at least one of each and never more than a class has.
    let total = indices.len() as f64;
    let exact: BTreeMap<usize, f64> = by_class
        .iter()
        .map(|(&c, m)| (c, n as f64 * m.len() as f64 / total))
        .collect();
    let mut quota: BTreeMap<usize, usize> = exact
        .iter()
        .map(|(&c, &e)| (c, (e.floor() as usize).clamp(1, by_class[&c].len())))
        .collect();
    // Too many (the floors of 1 for tiny classes): take back from the most over-served.
    while quota.values().sum::<usize>() > n {
        let (&class, _) = quota
            .iter()
            .filter(|(_, &q)| q > 1)
            .max_by(|a, b| {
                let over = |(c, q): (&usize, &usize)| *q as f64 - exact[c];
                over(*a).total_cmp(&over(*b)).then(b.0.cmp(a.0))
            })
            .expect("n ≥ the number of classes");
        *quota.get_mut(&class).expect("a class of the part") -= 1;
    }
    // Too few: give to the largest remainders that still have images.
    while quota.values().sum::<usize>() < n {
        let (&class, _) = quota
            .iter()
            .filter(|(c, &q)| q < by_class[c].len())
            .max_by(|a, b| {
                let under = |(c, q): (&usize, &usize)| exact[c] - *q as f64;
                under(*a).total_cmp(&under(*b)).then(b.0.cmp(a.0))
            })
            .expect("n ≤ the part's size");
        *quota.get_mut(&class).expect("a class of the part") += 1;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut chosen = Vec::with_capacity(n);
    for (class, members) in &by_class {
        let mut members = members.clone();
        members.shuffle(&mut rng);
        chosen.extend_from_slice(&members[..quota[class]]);
    }
    chosen.sort_unstable();
    Ok(chosen)
}

/// Refuses `kept` (a thinned or subset `part`, named by `what`, e.g.
/// `data.repair_every = 50`) when it is empty or lost a class that `full` has.
pub fn check_classes_kept(
    images: &dyn Dataset,
    full: &[usize],
    kept: &[usize],
    part: &str,
    what: &str,
) -> Result<()> {
    if kept.is_empty() {
        return Err(DataError::invalid(
            what,
            format!(
                "leaves the {part} part empty ({} images before)",
                full.len()
            ),
        ));
    }
    let before = by_class(images, full);
    let after = by_class(images, kept);
    let lost: Vec<String> = before
        .iter()
        .filter(|(class, _)| !after.contains_key(class))
        .map(|(class, members)| format!("{class} ({} images)", members.len()))
        .collect();
    if !lost.is_empty() {
        return Err(DataError::invalid(
            what,
            format!(
                "leaves no image of class {} in the {part} part; choose a smaller stride",
                lost.join(", ")
            ),
        ));
    }
    Ok(())
}

fn by_class(images: &dyn Dataset, indices: &[usize]) -> BTreeMap<usize, Vec<usize>> {
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &i in indices {
        by_class.entry(images.label(i)).or_default().push(i);
    }
    by_class
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{ImageSet, ImageShape};

    /// 3 classes in class order, like GTSRB's training part: 60 of class 0, 30 of 1,
    /// 10 of 2.
    fn ordered() -> ImageSet {
        let labels: Vec<u8> = [(0u8, 60), (1, 30), (2, 10)]
            .iter()
            .flat_map(|&(c, n)| std::iter::repeat_n(c, n))
            .collect();
        let shape = ImageShape::new(1, 1, 1);
        ImageSet::new(vec![0; labels.len()], labels, shape, 3).unwrap()
    }

    #[test]
    fn a_subset_keeps_every_class_in_proportion_and_follows_its_seed() {
        let set = ordered();
        let all: Vec<usize> = (0..set.len()).collect();
        let pick = stratified_subset(&set, &all, 20, 7, "--subset").unwrap();
        assert_eq!(pick.len(), 20);
        let count = |c: usize| pick.iter().filter(|&&i| set.label(i) == c).count();
        assert_eq!((count(0), count(1), count(2)), (12, 6, 2));
        assert_eq!(
            pick,
            stratified_subset(&set, &all, 20, 7, "--subset").unwrap()
        );
        assert_ne!(
            pick,
            stratified_subset(&set, &all, 20, 8, "--subset").unwrap()
        );
        // The smallest legal subset has one of each; the whole part is the part.
        let three = stratified_subset(&set, &all, 3, 1, "--subset").unwrap();
        assert_eq!(
            three.iter().map(|&i| set.label(i)).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(
            stratified_subset(&set, &all, 100, 1, "--subset").unwrap(),
            all
        );
    }

    #[test]
    fn subsets_that_would_drop_a_class_or_are_empty_are_refused_by_name() {
        let set = ordered();
        let all: Vec<usize> = (0..set.len()).collect();
        for (n, want) in [
            (0, "0 images"),
            (2, "cannot hold the part's 3 classes"),
            (101, "only 100"),
        ] {
            let e = stratified_subset(&set, &all, n, 1, "--subset")
                .unwrap_err()
                .to_string();
            assert!(e.contains("--subset") && e.contains(want), "{e}");
        }
    }

    #[test]
    fn a_stride_that_empties_a_class_is_named() {
        let set = ordered();
        let all: Vec<usize> = (0..set.len()).collect();
        let every = |k: usize| all.iter().step_by(k).copied().collect::<Vec<_>>();
        check_classes_kept(&set, &all, &every(5), "repair", "data.repair_every = 5").unwrap();
        let e = check_classes_kept(&set, &all, &every(50), "repair", "data.repair_every = 50")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("data.repair_every = 50")
                && e.contains("class 1 (30 images), 2 (10 images)"),
            "{e}"
        );
        let e = check_classes_kept(&set, &all, &[], "test", "data.test_every = 9")
            .unwrap_err()
            .to_string();
        assert!(e.contains("leaves the test part empty"), "{e}");
    }
}
