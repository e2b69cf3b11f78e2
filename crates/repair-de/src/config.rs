//! The search as data: population, generations, the differential weight F, the
//! crossover rate, the start and the box, the stall rule, the seed.

use repair_core::defaults::{ARACHNE_DE_GENERATIONS, ARACHNE_DE_POPULATION};
use serde::{Deserialize, Serialize};

use crate::error::DeError;

/// How the first population is drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DeInit {
    /// Every coordinate of every individual ~ Normal(`mean`, `std`): Arachne v2 draws
    /// from the mean and standard deviation of the whole layer's weights.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (> 0).
        std: f64,
    },
    /// Given individuals, one per member of the population.
    Positions(Vec<Vec<f64>>),
}

/// Differential evolution, DE/rand/1/bin: for every individual, a mutant a + F·(b − c)
/// of three distinct others, clipped to the box, crossed over coordinate-wise with
/// probability `crossover` (one coordinate always from the mutant), and kept when it
/// scores at least as well.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeConfig {
    /// Individuals (≥ 4: the mutant needs three others).
    pub population: usize,
    /// Generations at most.
    pub generations: usize,
    /// F ~ U(`f_min`, `f_max`), drawn once per generation.
    pub f_min: f64,
    /// Upper end of F's range.
    pub f_max: f64,
    /// Probability that a coordinate comes from the mutant (binomial crossover).
    pub crossover: f64,
    /// Coordinates: a mutant is clipped to `[lower, upper]` (one value per dimension).
    pub lower: Vec<f64>,
    /// Upper ends of the box.
    pub upper: Vec<f64>,
    /// The first population.
    pub init: DeInit,
    /// Stop when the best score, rounded to `f32` as Arachne v2 compares it, has not
    /// changed for more than this many generations (`None`: run every generation).
    pub stall: Option<usize>,
    /// Seed of every draw.
    pub seed: u64,
}

impl DeConfig {
    /// Arachne v2's search of a last-layer repair (`search/de_vk.py`): population 100,
    /// 100 generations, F ~ U(0.5, 1) per generation, CR 0.7 with one forced index, the
    /// first population ~ Normal(mean, std) of the layer's weights, mutants clipped to
    /// [2·min or min/2, 2·max or max/2] of the layer (whichever widens the range), stop
    /// after max(10, generations/10) generations without a change of the best.
    /// `dimension` is the number of weights searched; `layer` all of the layer's
    /// weights (kernel and bias as the study's search sees them).
    pub fn arachne(dimension: usize, layer: &[f64], seed: u64) -> DeConfig {
        let n = layer.len().max(1) as f64;
        let mean = layer.iter().sum::<f64>() / n;
        let std = (layer.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / n).sqrt();
        let min = layer.iter().copied().fold(f64::INFINITY, f64::min);
        let max = layer.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let widen_down = |v: f64| if v < 0.0 { 2.0 * v } else { v / 2.0 };
        let widen_up = |v: f64| if v > 0.0 { 2.0 * v } else { v / 2.0 };
        DeConfig {
            population: ARACHNE_DE_POPULATION,
            generations: ARACHNE_DE_GENERATIONS,
            f_min: 0.5,
            f_max: 1.0,
            crossover: 0.7,
            lower: vec![widen_down(min); dimension],
            upper: vec![widen_up(max); dimension],
            init: DeInit::Normal { mean, std },
            stall: Some((ARACHNE_DE_GENERATIONS / 10).max(10)),
            seed,
        }
    }

    /// The number of coordinates.
    pub fn dimension(&self) -> usize {
        self.lower.len()
    }

    /// Refuses a config the search cannot run, naming the field.
    pub fn validate(&self) -> Result<(), DeError> {
        let fail = |field: &'static str, value: String, reason: &str| {
            Err(DeError::Config {
                field,
                value,
                reason: reason.to_string(),
            })
        };
        if self.population < 4 {
            return fail(
                "population",
                self.population.to_string(),
                "need at least 4 (a mutant combines three others)",
            );
        }
        if self.generations == 0 {
            return fail("generations", "0".into(), "need at least 1");
        }
        if !(self.f_min.is_finite() && self.f_max.is_finite() && 0.0 < self.f_min)
            || self.f_min > self.f_max
        {
            return fail(
                "f_min..f_max",
                format!("{}..{}", self.f_min, self.f_max),
                "want 0 < f_min ≤ f_max, both finite",
            );
        }
        if !(0.0..=1.0).contains(&self.crossover) {
            return fail(
                "crossover",
                self.crossover.to_string(),
                "want a probability",
            );
        }
        if self.lower.is_empty() || self.lower.len() != self.upper.len() {
            return fail(
                "lower/upper",
                format!("{} / {} values", self.lower.len(), self.upper.len()),
                "want one lower and one upper end per dimension, at least one",
            );
        }
        if let Some(d) = (0..self.lower.len()).find(|&d| {
            !(self.lower[d].is_finite()
                && self.upper[d].is_finite()
                && self.lower[d] <= self.upper[d])
        }) {
            return fail(
                "lower/upper",
                format!("[{}, {}] at dimension {d}", self.lower[d], self.upper[d]),
                "want finite lower ≤ upper",
            );
        }
        match &self.init {
            DeInit::Normal { mean, std }
                if !(mean.is_finite() && std.is_finite() && *std > 0.0) =>
            {
                fail(
                    "init",
                    format!("Normal({mean}, {std})"),
                    "want a finite mean and std > 0",
                )
            }
            DeInit::Positions(p) if p.len() != self.population => fail(
                "init",
                format!("{} positions", p.len()),
                "want one per member of the population",
            ),
            DeInit::Positions(p) if p.iter().any(|x| x.len() != self.dimension()) => fail(
                "init",
                "a position of another dimension".into(),
                "want every position to have one value per dimension",
            ),
            _ => Ok(()),
        }
    }
}
