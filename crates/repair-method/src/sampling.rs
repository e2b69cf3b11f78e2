//! The 200 positive inputs of a repair, as the study (stratified) or the toolkit
//! (uniform) draws them (the study's `dataset/eAIDataset.py`, `sample_from_file`).

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use repair_core::PositiveSampler;

/// Draws up to `size` positions into `labels` (the labels of the correctly classified
/// inputs), seeded.
pub(crate) fn sample_positives(
    labels: &[u32],
    size: usize,
    how: PositiveSampler,
    seed: u64,
) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    if labels.is_empty() || size == 0 {
        return Vec::new();
    }
    match how {
        PositiveSampler::Uniform => (0..size)
            .map(|_| rng.random_range(0..labels.len()))
            .collect(),
        PositiveSampler::Stratified => stratified(labels, size, &mut rng),
    }
}

fn stratified(labels: &[u32], size: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (k, &l) in labels.iter().enumerate() {
        groups[l as usize].push(k);
    }
    let present: Vec<usize> = (0..classes).filter(|&l| !groups[l].is_empty()).collect();
    let (s, n, l_count) = (size as f64, labels.len() as f64, present.len() as f64);
    let mut quota = vec![0usize; classes];
    let mut saturated = vec![false; classes];
    for &l in &present {
        let n_l = groups[l].len();
        let q = (s / l_count * 2.0 / 3.0).floor() + (s * n_l as f64 / n / 3.0).floor();
        quota[l] = q as usize;
        if quota[l] >= 2 * n_l {
            quota[l] = 2 * n_l;
            saturated[l] = true;
        }
    }
    let total: usize = quota.iter().sum();
    if total < size {
        let open: Vec<usize> = present.iter().copied().filter(|&l| !saturated[l]).collect();
        if !open.is_empty() {
            quota[open[rng.random_range(0..open.len())]] += size - total;
        }
    }
    let mut picked = Vec::with_capacity(size);
    for &l in &present {
        let group = &groups[l];
        if quota[l] >= group.len() {
            picked.extend_from_slice(group); // whole copies, de-duplicated
        } else {
            picked.extend(
                sample(rng, group.len(), quota[l])
                    .into_iter()
                    .map(|k| group[k]),
            );
        }
    }
    picked.sort_unstable();
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_gives_every_label_its_quota_and_no_duplicates() {
        // 3 labels with 300, 60 and 6 items; S = 200, L = 3:
        // quotas ⌊44.4⌋ + ⌊200·n_l/366/3⌋ = 44 + 54, 44 + 10, 44 + 1 → 98, 54, 12 (capped
        // at 2·6 = 12, saturated); shortfall 36 goes to label 0 or 1.
        let labels: Vec<u32> = [(0u32, 300), (1, 60), (2, 6)]
            .iter()
            .flat_map(|&(l, n)| std::iter::repeat_n(l, n))
            .collect();
        let picked = sample_positives(&labels, 200, PositiveSampler::Stratified, 1);
        let count = |l: u32| picked.iter().filter(|&&k| labels[k] == l).count();
        assert_eq!(count(2), 6, "a saturated label gives all its items once");
        assert!(
            (count(0), count(1)) == (134, 54) || (count(0), count(1)) == (98, 60),
            "{} {}",
            count(0),
            count(1)
        );
        assert!(picked.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert_eq!(
            picked,
            sample_positives(&labels, 200, PositiveSampler::Stratified, 1)
        );
    }

    #[test]
    fn uniform_draws_with_replacement() {
        let labels = vec![0u32; 10];
        let picked = sample_positives(&labels, 200, PositiveSampler::Uniform, 3);
        assert_eq!(picked.len(), 200);
        assert!(picked.iter().all(|&k| k < 10));
    }
}
