//! What a search does, as one serde value: swarm size, coefficients, and every
//! behaviour in which the study's PSO (`repair/arachne/arachne.py`, `optimize` 365-471)
//! departs from the textbook,
//! each a field of its own so users can switch the quirks one at a time.

use repair_core::defaults::{ARACHNE_ITERATIONS, ARACHNE_PARTICLES};
use serde::{Deserialize, Serialize};

use crate::error::PsoError;

/// A complete, validated-on-use description of a particle-swarm search.
///
/// Build it from a preset ([`PsoConfig::arachne`], [`PsoConfig::canonical`]) and
/// adjust fields, or write it out in full (it is plain serde data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PsoConfig {
    /// Number of particles (the study: 100).
    pub particles: usize,
    /// Upper bound on iterations after the initial evaluation (the study: 50).
    pub iterations: usize,
    /// How the velocity update weighs momentum and the two attractions.
    pub coefficients: Coefficients,
    /// Whether r1, r2 are one scalar per particle and iteration or one per dimension.
    pub randomness: Randomness,
    /// Whether a particle moves with its old velocity before the velocity update.
    pub update_order: UpdateOrder,
    /// Per-dimension bounds on the speed |v|; `None` leaves velocities unbounded.
    pub speed: Option<SpeedLimits>,
    /// Optional box on positions and what happens at its walls.
    pub bounds: Option<Bounds>,
    /// Which best position attracts a particle: the swarm's or its ring neighbours'.
    pub topology: Topology,
    /// Whether the attracting best is frozen at the start of an iteration.
    pub best_sharing: BestSharing,
    /// Whether a personal best needs a strictly higher score to be replaced.
    pub improvement: Improvement,
    /// Stop early when the best score stalls; `None` runs all iterations.
    pub stall: Option<Stall>,
    /// Initial positions (velocities always start at zero, as in the study).
    pub init: Init,
    /// The seed of every random draw (see [`crate::particle_rng`]).
    pub seed: u64,
}

/// Velocity update v' = k·(w·v + c1·r1·(p − x) + c2·r2·(g − x)), r ~ U(0, 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Coefficients {
    /// Clerc–Kennedy constriction: k = χ = 2 / (φ − 2 + √(φ² − 4φ)), w = 1; needs φ > 4.
    /// The canonical choice is c1 = c2 = φ/2; the study draws each attraction from
    /// U(0, φ), i.e. c1 = c2 = φ (the study's `arachne.py`, `_update_velocity`).
    Constriction {
        /// φ (the paper's "velocity 4.1").
        phi: f64,
        /// Weight of the pull towards the personal best.
        c1: f64,
        /// Weight of the pull towards the neighbourhood (global) best.
        c2: f64,
    },
    /// Inertia weight: k = 1.
    Inertia {
        /// Inertia w.
        w: f64,
        /// Weight of the pull towards the personal best.
        c1: f64,
        /// Weight of the pull towards the neighbourhood (global) best.
        c2: f64,
    },
}

impl Coefficients {
    /// Clerc–Kennedy constriction with the canonical c1 = c2 = φ/2.
    pub fn clerc_kennedy(phi: f64) -> Self {
        Coefficients::Constriction {
            phi,
            c1: phi / 2.0,
            c2: phi / 2.0,
        }
    }

    /// (k, w, c1, c2) of the update rule. Call after [`PsoConfig::validate`].
    pub fn factors(&self) -> (f64, f64, f64, f64) {
        match *self {
            Coefficients::Constriction { phi, c1, c2 } => (constriction(phi), 1.0, c1, c2),
            Coefficients::Inertia { w, c1, c2 } => (1.0, w, c1, c2),
        }
    }
}

/// χ = 2 / (φ − 2 + √(φ² − 4φ)); 0.729844 for φ = 4.1.
pub fn constriction(phi: f64) -> f64 {
    2.0 / (phi - 2.0 + (phi * phi - 4.0 * phi).sqrt())
}

/// How many random coefficients a velocity update draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Randomness {
    /// One r1 and one r2 per particle and iteration, shared by all dimensions (the
    /// study: Python `random.uniform` once per particle).
    PerParticle,
    /// Independent r1, r2 for every dimension (textbook PSO).
    PerDimension,
}

/// Order of the two halves of a particle update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateOrder {
    /// x' = x + v with the previous velocity, then v' from x' (the study; in the first
    /// iteration every particle therefore re-evaluates its initial position).
    PositionFirst,
    /// v' from x, then x' = x + v' (textbook PSO).
    VelocityFirst,
}

/// Sign-preserving per-dimension clamp of the speed into [min, max].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpeedLimits {
    /// Minimum speed: every dimension moves at least this much (study: range/5).
    pub min: f64,
    /// Maximum speed (study: 5·range).
    pub max: f64,
    /// Where an exactly zero velocity goes when `min > 0`.
    pub zero: ZeroVelocity,
}

/// The fate of an exactly zero velocity component under a positive minimum speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroVelocity {
    /// Becomes −min (the study: sign = +1 if v > 0 else −1).
    Negative,
    /// Stays zero.
    Stay,
}

/// A box on positions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    /// Lower bound per dimension.
    pub lower: Vec<f64>,
    /// Upper bound per dimension.
    pub upper: Vec<f64>,
    /// What a particle that leaves the box does.
    pub policy: BoundaryPolicy,
}

/// What happens to a particle that leaves the box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundaryPolicy {
    /// The coordinate is set to the wall; the velocity is kept.
    Clamp,
    /// The coordinate is mirrored at the wall (then clamped if still outside) and
    /// that velocity component changes sign.
    Reflect,
}

/// Which best attracts a particle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Topology {
    /// The best personal best of the whole swarm (the study).
    Global,
    /// The best personal best among the particle and `neighbours` on either side of
    /// it on a ring (lbest PSO).
    Ring {
        /// Neighbours on each side (1 is the classic ring).
        neighbours: usize,
    },
}

/// When a new personal best becomes visible to other particles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BestSharing {
    /// Bests are fixed at the start of each iteration (the study); particles can be
    /// evaluated in parallel.
    Synchronous,
    /// Particles update in index order and see the bests found earlier in the same
    /// iteration. With [`UpdateOrder::VelocityFirst`] this evaluates one at a time.
    Asynchronous,
}

/// When a score replaces a personal best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Improvement {
    /// Only a strictly higher score (the study's `>`).
    Strict,
    /// An equal score too (lets particles drift along plateaus).
    AllowEqual,
}

/// Early stop: after iteration t (0-based), with at least `min_iterations` done,
/// stop if best(t) ≤ best(t − window), i.e. the best did not strictly improve in the
/// last `window` iterations. The study: window 10, min_iterations 12 (its check starts
/// at t > 10: the study's `arachne.py`, `_fail_to_find_better_patch` 485-507).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stall {
    /// Iterations without strict improvement that end the search.
    pub window: usize,
    /// Iterations always run before the check starts (at least `window + 1`).
    pub min_iterations: usize,
}

/// Initial positions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Init {
    /// Each coordinate ~ `Normal(mean[d], sigma)` (the study: mean = current weight,
    /// sigma = std of all weights of the layer).
    Normal {
        /// Centre per dimension.
        mean: Vec<f64>,
        /// Standard deviation, shared by all dimensions.
        sigma: f64,
    },
    /// Each coordinate ~ `U(lower[d], upper[d])` of [`PsoConfig::bounds`].
    Uniform,
    /// Given positions, one per particle.
    Positions(Vec<Vec<f64>>),
}

/// The values an Arachne preset takes from the layer being repaired.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LayerScale {
    /// Population standard deviation of all weights of the layer (init σ).
    pub std: f64,
    /// max(W) − min(W) over the layer (speed limits range/5 and 5·range).
    pub range: f64,
}

impl PsoConfig {
    /// The study's search exactly (its `arachne.py`, `optimize` 365-471): 100 particles, 50
    /// iterations, φ = 4.1 with r1, r2 ~ U(0, φ) drawn once per particle, position
    /// first, speed in [range/5, 5·range] with 0 → −range/5, init N(current weight,
    /// layer std), strict personal bests, synchronous global best, stop after 10
    /// iterations without strict improvement (not before 12).
    pub fn arachne(current: Vec<f64>, layer: LayerScale, seed: u64) -> Self {
        PsoConfig {
            particles: ARACHNE_PARTICLES,
            iterations: ARACHNE_ITERATIONS,
            coefficients: Coefficients::Constriction {
                phi: 4.1,
                c1: 4.1,
                c2: 4.1,
            },
            randomness: Randomness::PerParticle,
            update_order: UpdateOrder::PositionFirst,
            speed: Some(SpeedLimits {
                min: layer.range / 5.0,
                max: layer.range * 5.0,
                zero: ZeroVelocity::Negative,
            }),
            bounds: None,
            topology: Topology::Global,
            best_sharing: BestSharing::Synchronous,
            improvement: Improvement::Strict,
            stall: Some(Stall {
                window: 10,
                min_iterations: 12,
            }),
            init: Init::Normal {
                mean: current,
                sigma: layer.std,
            },
            seed,
        }
    }

    /// Textbook Clerc–Kennedy PSO: φ = 4.1, c1 = c2 = 2.05, per-dimension randomness,
    /// velocity first, no speed limits, same swarm size, init and stall rule as
    /// [`PsoConfig::arachne`] but the earliest possible stall check.
    pub fn canonical(mean: Vec<f64>, sigma: f64, seed: u64) -> Self {
        let no_speed_scale = LayerScale {
            std: sigma,
            range: 0.0,
        };
        PsoConfig {
            coefficients: Coefficients::clerc_kennedy(4.1),
            randomness: Randomness::PerDimension,
            update_order: UpdateOrder::VelocityFirst,
            speed: None,
            stall: Some(Stall {
                window: 10,
                min_iterations: 11,
            }),
            ..PsoConfig::arachne(mean, no_speed_scale, seed)
        }
    }

    /// Number of coordinates of a position, as the init (or bounds) implies.
    pub fn dimension(&self) -> usize {
        match &self.init {
            Init::Normal { mean, .. } => mean.len(),
            Init::Uniform => self.bounds.as_ref().map_or(0, |b| b.lower.len()),
            Init::Positions(p) => p.first().map_or(0, Vec::len),
        }
    }

    /// Checks every field; the error names the field and the offending value.
    pub fn validate(&self) -> Result<(), PsoError> {
        let bad = |field: &'static str, value: String, reason: &'static str| {
            Err(PsoError::Config {
                field,
                value,
                reason,
            })
        };
        if self.particles == 0 {
            return bad(
                "particles",
                "0".into(),
                "a swarm needs at least one particle",
            );
        }
        let dim = self.dimension();
        if dim == 0 {
            return bad(
                "init",
                "0 dimensions".into(),
                "positions need at least one coordinate",
            );
        }
        match self.coefficients {
            Coefficients::Constriction { phi, c1, c2 } => {
                if !(phi > 4.0 && phi.is_finite()) {
                    return bad(
                        "coefficients.phi",
                        phi.to_string(),
                        "constriction needs a finite φ > 4",
                    );
                }
                check_weight("coefficients.c1", c1)?;
                check_weight("coefficients.c2", c2)?;
            }
            Coefficients::Inertia { w, c1, c2 } => {
                if !w.is_finite() {
                    return bad("coefficients.w", w.to_string(), "must be finite");
                }
                check_weight("coefficients.c1", c1)?;
                check_weight("coefficients.c2", c2)?;
            }
        }
        if let Some(s) = self.speed {
            if !(s.min >= 0.0 && s.min.is_finite()) {
                return bad("speed.min", s.min.to_string(), "must be finite and ≥ 0");
            }
            if s.max.is_nan() || s.max <= 0.0 {
                return bad("speed.max", s.max.to_string(), "must be > 0");
            }
            if s.min > s.max {
                return bad(
                    "speed",
                    format!("min {} > max {}", s.min, s.max),
                    "the minimum speed exceeds the maximum",
                );
            }
        }
        if let Some(b) = &self.bounds {
            if b.lower.len() != dim || b.upper.len() != dim {
                return bad(
                    "bounds",
                    format!("{} lower, {} upper", b.lower.len(), b.upper.len()),
                    "need one bound per dimension",
                );
            }
            for (d, (lo, hi)) in b.lower.iter().zip(&b.upper).enumerate() {
                if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                    return bad(
                        "bounds",
                        format!("dimension {d}: [{lo}, {hi}]"),
                        "need finite lower ≤ upper",
                    );
                }
            }
        }
        if let Topology::Ring { neighbours } = self.topology {
            if neighbours == 0 {
                return bad(
                    "topology.neighbours",
                    "0".into(),
                    "a ring needs ≥ 1 neighbour",
                );
            }
        }
        if let Some(s) = self.stall {
            if s.window == 0 || s.min_iterations <= s.window {
                return bad(
                    "stall",
                    format!("window {}, min_iterations {}", s.window, s.min_iterations),
                    "need window ≥ 1 and min_iterations > window",
                );
            }
        }
        match &self.init {
            Init::Normal { mean, sigma } => {
                if !(sigma.is_finite() && *sigma >= 0.0) {
                    return bad("init.sigma", sigma.to_string(), "must be finite and ≥ 0");
                }
                if let Some(d) = mean.iter().position(|m| !m.is_finite()) {
                    return bad("init.mean", format!("dimension {d}"), "must be finite");
                }
            }
            Init::Uniform => {
                if self.bounds.is_none() {
                    return bad("init", "uniform".into(), "uniform init needs bounds");
                }
            }
            Init::Positions(p) => {
                if p.len() != self.particles {
                    return bad(
                        "init.positions",
                        format!("{} positions for {} particles", p.len(), self.particles),
                        "need one position per particle",
                    );
                }
                for (n, x) in p.iter().enumerate() {
                    if x.len() != dim || x.iter().any(|v| !v.is_finite()) {
                        return bad(
                            "init.positions",
                            format!("particle {n}"),
                            "every position needs the same length and finite values",
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_weight(field: &'static str, c: f64) -> Result<(), PsoError> {
    if c >= 0.0 && c.is_finite() {
        Ok(())
    } else {
        Err(PsoError::Config {
            field,
            value: c.to_string(),
            reason: "must be finite and ≥ 0",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_study_constriction_factor_is_0_729844() {
        assert!((constriction(4.1) - 0.729_844).abs() < 1e-6);
    }

    fn arachne() -> PsoConfig {
        PsoConfig::arachne(
            vec![0.1, -0.2],
            LayerScale {
                std: 0.05,
                range: 1.0,
            },
            7,
        )
    }

    #[test]
    fn presets_are_valid_and_round_trip_through_json() {
        for config in [arachne(), PsoConfig::canonical(vec![0.0; 3], 1.0, 1)] {
            config.validate().unwrap();
            let json = serde_json::to_string(&config).unwrap();
            assert_eq!(serde_json::from_str::<PsoConfig>(&json).unwrap(), config);
        }
    }

    #[test]
    fn bad_configs_name_the_field() {
        let cases: Vec<(PsoConfig, &str)> = vec![
            (
                PsoConfig {
                    particles: 0,
                    ..arachne()
                },
                "particles",
            ),
            (
                PsoConfig {
                    coefficients: Coefficients::clerc_kennedy(4.0),
                    ..arachne()
                },
                "coefficients.phi",
            ),
            (
                PsoConfig {
                    speed: Some(SpeedLimits {
                        min: 2.0,
                        max: 1.0,
                        zero: ZeroVelocity::Stay,
                    }),
                    ..arachne()
                },
                "speed",
            ),
            (
                PsoConfig {
                    init: Init::Uniform,
                    ..arachne()
                },
                "init",
            ),
            (
                PsoConfig {
                    stall: Some(Stall {
                        window: 10,
                        min_iterations: 10,
                    }),
                    ..arachne()
                },
                "stall",
            ),
            (
                PsoConfig {
                    init: Init::Normal {
                        mean: vec![f64::NAN],
                        sigma: 1.0,
                    },
                    ..arachne()
                },
                "init.mean",
            ),
        ];
        for (config, field) in cases {
            match config.validate() {
                Err(PsoError::Config { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected a config error on {field}, got {other:?}"),
            }
        }
    }
}
