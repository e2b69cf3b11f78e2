//! The generation loop. Every random draw is a function of (seed, individual,
//! generation) — repair-pso's counter-based [`particle_rng`] — and the trials of a
//! generation are scored together only after all of them are drawn, so a seed gives
//! the same search on any number of threads.

use rand::Rng;
use rand_distr::{Distribution, Normal};
use repair_pso::{particle_rng, IterationRecord, Objective, SearchResult, Termination};

use crate::config::{DeConfig, DeInit};
use crate::error::DeError;

/// Runs differential evolution from `config` on `objective` (maximised).
pub fn evolve<O: Objective + ?Sized>(
    config: &DeConfig,
    objective: &O,
) -> Result<SearchResult, DeError> {
    config.validate()?;
    let (n, dim) = (config.population, config.dimension());
    if let Some(d) = objective.dimension() {
        if d != dim {
            return Err(DeError::Dimension {
                config: dim,
                objective: d,
            });
        }
    }
    let started = std::time::Instant::now();
    let mut population = first_population(config);
    let mut scores = vec![0.0; n];
    objective.score_batch(&population, dim, &mut scores);
    check_finite(&scores, None)?;
    let mut evaluations = n as u64;
    let mut best = argmax(&scores);
    let initial_best_score = scores[best];
    let mut history = Vec::with_capacity(config.generations);
    let mut unchanged = 0;
    let mut termination = Termination::MaxIterations;
    let mut trials = vec![0.0; n * dim];
    let mut trial_scores = vec![0.0; n];
    for generation in 0..config.generations {
        // F once per generation, from a stream no individual uses.
        let f = particle_rng(config.seed, n, Some(generation))
            .random_range(config.f_min..=config.f_max);
        for i in 0..n {
            let mut rng = particle_rng(config.seed, i, Some(generation));
            let [a, b, c] = three_others(&mut rng, n, i);
            let forced = rng.random_range(0..dim);
            let trial = &mut trials[i * dim..(i + 1) * dim];
            for d in 0..dim {
                let take_mutant = d == forced || rng.random::<f64>() < config.crossover;
                trial[d] = if take_mutant {
                    let at = |k: usize| population[k * dim + d];
                    (at(a) + f * (at(b) - at(c))).clamp(config.lower[d], config.upper[d])
                } else {
                    population[i * dim + d]
                };
            }
        }
        objective.score_batch(&trials, dim, &mut trial_scores);
        check_finite(&trial_scores, Some(generation))?;
        evaluations += n as u64;
        let before = scores[best] as f32;
        for i in 0..n {
            // Arachne v2 keeps a trial that scores at least as well (≥).
            if trial_scores[i] >= scores[i] {
                scores[i] = trial_scores[i];
                population[i * dim..(i + 1) * dim].copy_from_slice(&trials[i * dim..(i + 1) * dim]);
            }
        }
        best = argmax(&scores);
        history.push(IterationRecord {
            iteration: generation,
            best: scores[best],
            mean: scores.iter().sum::<f64>() / n as f64,
            evaluations,
            elapsed_s: started.elapsed().as_secs_f64(),
        });
        // The stall rule compares the best as f32, as Arachne v2's fitness is.
        unchanged = if scores[best] as f32 == before {
            unchanged + 1
        } else {
            0
        };
        if let Some(window) = config.stall {
            if unchanged > window {
                termination = Termination::Stalled { window };
                break;
            }
        }
    }
    Ok(SearchResult {
        best_position: population[best * dim..(best + 1) * dim].to_vec(),
        best_score: scores[best],
        initial_best_score,
        iterations: history.len(),
        evaluations,
        termination,
        history,
    })
}

/// The first population, row-major.
fn first_population(config: &DeConfig) -> Vec<f64> {
    let (n, dim) = (config.population, config.dimension());
    match &config.init {
        DeInit::Positions(p) => p.concat(),
        DeInit::Normal { mean, std } => {
            let normal = Normal::new(*mean, *std).expect("validated: std > 0");
            let mut out = Vec::with_capacity(n * dim);
            for i in 0..n {
                let mut rng = particle_rng(config.seed, i, None);
                out.extend((0..dim).map(|_| normal.sample(&mut rng)));
            }
            out
        }
    }
}

/// Three distinct indices in 0..n, none of them `own`.
fn three_others(rng: &mut impl Rng, n: usize, own: usize) -> [usize; 3] {
    let mut picked = [own; 3];
    for k in 0..3 {
        picked[k] = loop {
            let candidate = rng.random_range(0..n);
            if candidate != own && !picked[..k].contains(&candidate) {
                break candidate;
            }
        };
    }
    picked
}

/// The first index of the highest score.
fn argmax(scores: &[f64]) -> usize {
    let mut best = 0;
    for (i, &s) in scores.iter().enumerate() {
        if s > scores[best] {
            best = i;
        }
    }
    best
}

fn check_finite(scores: &[f64], generation: Option<usize>) -> Result<(), DeError> {
    match scores.iter().position(|s| !s.is_finite()) {
        None => Ok(()),
        Some(individual) => Err(DeError::NonFiniteScore {
            generation,
            individual,
            score: scores[individual],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_others_are_distinct_and_never_the_individual() {
        let mut rng = particle_rng(1, 0, None);
        for own in 0..4 {
            for _ in 0..50 {
                let [a, b, c] = three_others(&mut rng, 4, own);
                assert!(a != b && b != c && a != c && ![a, b, c].contains(&own));
            }
        }
    }
}
