//! One swarm and its step: the state goes in and out of each iteration, the loop
//! (termination, observers, checkpoints) belongs to [`crate::run`].
//!
//! All random draws of an iteration happen first, from per-particle counter-based
//! generators ([`crate::particle_rng`]); then the objective scores all particles at
//! once (in parallel); then bests are updated in particle order. Hence one seed gives
//! the same search on any number of threads.

use std::time::Instant;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::config::{
    BestSharing, BoundaryPolicy, Bounds, Improvement, Init, PsoConfig, Randomness, SpeedLimits,
    Topology, UpdateOrder, ZeroVelocity,
};
use crate::error::PsoError;
use crate::objective::Objective;
use crate::rng::particle_rng;

/// What one iteration achieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationRecord {
    /// 0-based iteration.
    pub iteration: usize,
    /// Best score found so far (non-decreasing).
    pub best: f64,
    /// Mean of the scores of this iteration's positions.
    pub mean: f64,
    /// Objective evaluations so far, the initial ones included.
    pub evaluations: u64,
    /// Seconds since the search started (summed over resumed sessions).
    pub elapsed_s: f64,
}

/// Why a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Termination {
    /// All configured iterations ran.
    MaxIterations,
    /// The best did not strictly improve for `window` iterations.
    Stalled {
        /// The stall window.
        window: usize,
    },
    /// An observer asked to stop.
    Observer,
}

/// Everything needed to continue a search: serialise it to checkpoint, and give it to
/// [`Swarm::resume`] to continue with a result identical to an uninterrupted run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwarmState {
    /// The search's config (its seed fixes all further draws).
    pub config: PsoConfig,
    /// Coordinates per position.
    pub dimension: usize,
    /// Completed iterations (0 right after the initial evaluation).
    pub iterations_done: usize,
    /// Current positions, particle-major.
    pub positions: Vec<f64>,
    /// Current velocities, particle-major.
    pub velocities: Vec<f64>,
    /// Scores of the current positions.
    pub scores: Vec<f64>,
    /// Personal best positions, particle-major.
    pub best_positions: Vec<f64>,
    /// Personal best scores.
    pub best_scores: Vec<f64>,
    /// The best score of the initial positions.
    pub initial_best: f64,
    /// Objective evaluations so far.
    pub evaluations: u64,
    /// One record per completed iteration.
    pub history: Vec<IterationRecord>,
    /// Set once the search has ended.
    pub termination: Option<Termination>,
}

impl SwarmState {
    /// Index of the swarm's best particle (the first on ties).
    pub fn leader(&self) -> usize {
        argmax(&self.best_scores, 0..self.best_scores.len())
    }

    /// The best position found so far and its score.
    pub fn best(&self) -> (&[f64], f64) {
        let n = self.leader();
        (self.best_position(n), self.best_scores[n])
    }

    fn best_position(&self, n: usize) -> &[f64] {
        &self.best_positions[n * self.dimension..(n + 1) * self.dimension]
    }
}

/// A swarm mid-search.
#[derive(Debug, Clone)]
pub struct Swarm {
    state: SwarmState,
    /// (k, w, c1, c2) of the velocity update.
    factors: (f64, f64, f64, f64),
    started: Instant,
    elapsed_before: f64,
}

impl Swarm {
    /// Validates `config`, draws the initial positions and scores them.
    pub fn new<O: Objective + ?Sized>(config: PsoConfig, objective: &O) -> Result<Self, PsoError> {
        check(&config, objective)?;
        let (p, d) = (config.particles, config.dimension());
        let mut positions = Vec::with_capacity(p * d);
        for n in 0..p {
            let mut rng = particle_rng(config.seed, n, None);
            match &config.init {
                Init::Normal { mean, sigma } => positions.extend(mean.iter().map(|m| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    m + sigma * z
                })),
                Init::Uniform => {
                    let b = config
                        .bounds
                        .as_ref()
                        .expect("validated: uniform has bounds");
                    positions.extend(
                        b.lower
                            .iter()
                            .zip(&b.upper)
                            .map(|(lo, hi)| lo + (hi - lo) * rng.random::<f64>()),
                    );
                }
                Init::Positions(given) => positions.extend_from_slice(&given[n]),
            }
        }
        if let Some(b) = &config.bounds {
            for x in positions.chunks_mut(d) {
                for ((x, lo), hi) in x.iter_mut().zip(&b.lower).zip(&b.upper) {
                    *x = x.clamp(*lo, *hi);
                }
            }
        }
        let mut scores = vec![0.0; p];
        objective.score_batch(&positions, d, &mut scores);
        finite(&scores, None)?;
        let initial_best = scores[argmax(&scores, 0..p)];
        let state = SwarmState {
            initial_best,
            dimension: d,
            iterations_done: 0,
            velocities: vec![0.0; p * d],
            best_positions: positions.clone(),
            best_scores: scores.clone(),
            positions,
            scores,
            evaluations: p as u64,
            history: Vec::new(),
            termination: None,
            config,
        };
        Ok(Swarm::from_checked(state))
    }

    /// Continues a saved search. The objective must be the one it was started with.
    pub fn resume<O: Objective + ?Sized>(
        state: SwarmState,
        objective: &O,
    ) -> Result<Self, PsoError> {
        check(&state.config, objective)?;
        let (p, d) = (state.config.particles, state.config.dimension());
        let ok = state.dimension == d
            && [&state.positions, &state.velocities, &state.best_positions]
                .iter()
                .all(|v| v.len() == p * d)
            && state.scores.len() == p
            && state.best_scores.len() == p
            && state.history.len() == state.iterations_done;
        if !ok {
            return Err(PsoError::State(format!(
                "the saved swarm's buffers do not fit {p} particles × {d} dimensions \
                 with {} iterations done",
                state.iterations_done
            )));
        }
        Ok(Swarm::from_checked(state))
    }

    fn from_checked(state: SwarmState) -> Self {
        let elapsed_before = state.history.last().map_or(0.0, |r| r.elapsed_s);
        Swarm {
            factors: state.config.coefficients.factors(),
            state,
            started: Instant::now(),
            elapsed_before,
        }
    }

    /// The whole state (serialise it to checkpoint the search).
    pub fn state(&self) -> &SwarmState {
        &self.state
    }

    /// Takes the state out.
    pub fn into_state(self) -> SwarmState {
        self.state
    }

    /// Ends the search early (an observer's request).
    pub(crate) fn stop(&mut self, why: Termination) {
        self.state.termination.get_or_insert(why);
    }

    /// Runs one iteration and decides whether the search has ended. Does nothing once
    /// it has.
    pub fn step<O: Objective + ?Sized>(
        &mut self,
        objective: &O,
    ) -> Result<Option<&IterationRecord>, PsoError> {
        if self.state.termination.is_some() {
            return Ok(None);
        }
        let config = self.state.config.clone();
        if self.state.iterations_done >= config.iterations {
            self.state.termination = Some(Termination::MaxIterations);
            return Ok(None);
        }
        let t = self.state.iterations_done;
        let (p, d) = (config.particles, self.state.dimension);
        let (r1, r2) = draw_coefficients(&config, d, t);
        match (config.best_sharing, config.update_order) {
            (BestSharing::Synchronous, order) => {
                let attractors: Vec<usize> = (0..p).map(|n| self.attractor(n)).collect();
                for (n, &a) in attractors.iter().enumerate() {
                    if order == UpdateOrder::PositionFirst {
                        self.move_particle(n);
                    }
                    self.update_velocity(n, a, &r1, &r2);
                    if order == UpdateOrder::VelocityFirst {
                        self.move_particle(n);
                    }
                }
                self.score_all(objective, t)?;
                for n in 0..p {
                    self.update_personal_best(n);
                }
            }
            (BestSharing::Asynchronous, UpdateOrder::PositionFirst) => {
                // Scores do not depend on the new velocities: score all at once, then
                // update velocities and bests in particle order.
                (0..p).for_each(|n| self.move_particle(n));
                self.score_all(objective, t)?;
                for n in 0..p {
                    let a = self.attractor(n);
                    self.update_velocity(n, a, &r1, &r2);
                    self.update_personal_best(n);
                }
            }
            (BestSharing::Asynchronous, UpdateOrder::VelocityFirst) => {
                for n in 0..p {
                    let a = self.attractor(n);
                    self.update_velocity(n, a, &r1, &r2);
                    self.move_particle(n);
                    let s = objective.score(&self.state.positions[n * d..(n + 1) * d]);
                    finite(&[s], Some(t)).map_err(|e| with_particle(e, n))?;
                    self.state.scores[n] = s;
                    self.state.evaluations += 1;
                    self.update_personal_best(n);
                }
            }
        }
        let best = self.state.best().1;
        let mean = self.state.scores.iter().sum::<f64>() / p as f64;
        self.state.history.push(IterationRecord {
            iteration: t,
            best,
            mean,
            evaluations: self.state.evaluations,
            elapsed_s: self.elapsed_before + self.started.elapsed().as_secs_f64(),
        });
        self.state.iterations_done = t + 1;
        self.state.termination = self.termination_after(t);
        Ok(self.state.history.last())
    }

    fn termination_after(&self, t: usize) -> Option<Termination> {
        let config = &self.state.config;
        let history = &self.state.history;
        if let Some(s) = config.stall {
            if t + 1 >= s.min_iterations && history[t].best <= history[t - s.window].best {
                return Some(Termination::Stalled { window: s.window });
            }
        }
        (t + 1 >= config.iterations).then_some(Termination::MaxIterations)
    }

    /// The particle whose personal best attracts particle `n` now.
    fn attractor(&self, n: usize) -> usize {
        let scores = &self.state.best_scores;
        let p = scores.len();
        match self.state.config.topology {
            Topology::Global => argmax(scores, 0..p),
            Topology::Ring { neighbours } if 2 * neighbours + 1 >= p => argmax(scores, 0..p),
            Topology::Ring { neighbours } => {
                let ring = (0..=2 * neighbours).map(|k| (n + p + k - neighbours) % p);
                argmax(scores, ring)
            }
        }
    }

    /// x ← x + v, then the boundary policy.
    fn move_particle(&mut self, n: usize) {
        let d = self.state.dimension;
        let range = n * d..(n + 1) * d;
        let x = &mut self.state.positions[range.clone()];
        let v = &mut self.state.velocities[range];
        for (x, v) in x.iter_mut().zip(v.iter()) {
            *x += v;
        }
        if let Some(b) = &self.state.config.bounds {
            apply_bounds(b, x, v);
        }
    }

    /// v ← k·(w·v + c1·r1·(p − x) + c2·r2·(g − x)), then the speed limits.
    fn update_velocity(&mut self, n: usize, attractor: usize, r1: &[f64], r2: &[f64]) {
        let (k, w, c1, c2) = self.factors;
        let d = self.state.dimension;
        let speed = self.state.config.speed;
        let (own, lead) = (n * d..(n + 1) * d, attractor * d..(attractor + 1) * d);
        let x = &self.state.positions[own.clone()];
        let p = &self.state.best_positions[own.clone()];
        let g = &self.state.best_positions[lead];
        let v = &mut self.state.velocities[own.clone()];
        for i in 0..d {
            let (a, b) = (r1[own.start + i], r2[own.start + i]);
            let new = k * (w * v[i] + c1 * a * (p[i] - x[i]) + c2 * b * (g[i] - x[i]));
            v[i] = speed.map_or(new, |s| clamp_speed(new, s));
        }
    }

    fn score_all<O: Objective + ?Sized>(
        &mut self,
        objective: &O,
        t: usize,
    ) -> Result<(), PsoError> {
        let d = self.state.dimension;
        objective.score_batch(&self.state.positions, d, &mut self.state.scores);
        self.state.evaluations += self.state.scores.len() as u64;
        finite(&self.state.scores, Some(t))
    }

    fn update_personal_best(&mut self, n: usize) {
        let s = self.state.scores[n];
        let better = match self.state.config.improvement {
            Improvement::Strict => s > self.state.best_scores[n],
            Improvement::AllowEqual => s >= self.state.best_scores[n],
        };
        if better {
            let d = self.state.dimension;
            self.state.best_scores[n] = s;
            let range = n * d..(n + 1) * d;
            let (from, to) = (&self.state.positions, &mut self.state.best_positions);
            to[range.clone()].copy_from_slice(&from[range]);
        }
    }
}

/// r1 and r2 for every particle and dimension (particle-major), drawn per particle
/// from its own generator: per particle, r1 then r2; per dimension, all r1 then all r2.
fn draw_coefficients(config: &PsoConfig, d: usize, t: usize) -> (Vec<f64>, Vec<f64>) {
    let p = config.particles;
    let (mut r1, mut r2) = (Vec::with_capacity(p * d), Vec::with_capacity(p * d));
    for n in 0..p {
        let mut rng = particle_rng(config.seed, n, Some(t));
        match config.randomness {
            Randomness::PerParticle => {
                let (a, b) = (rng.random::<f64>(), rng.random::<f64>());
                r1.extend(std::iter::repeat_n(a, d));
                r2.extend(std::iter::repeat_n(b, d));
            }
            Randomness::PerDimension => {
                r1.extend((0..d).map(|_| rng.random::<f64>()));
                r2.extend((0..d).map(|_| rng.random::<f64>()));
            }
        }
    }
    (r1, r2)
}

/// Sign-preserving clamp of |v| into [min, max] (the study's `arachne.py`,
/// `_update_velocity` 929-960: sign = +1 if
/// v > 0 else −1, so an exact zero goes to −min unless [`ZeroVelocity::Stay`]).
pub(crate) fn clamp_speed(v: f64, s: SpeedLimits) -> f64 {
    if v == 0.0 && s.zero == ZeroVelocity::Stay {
        return 0.0;
    }
    let sign = if v > 0.0 { 1.0 } else { -1.0 };
    if v.abs() < s.min {
        sign * s.min
    } else if v.abs() > s.max {
        sign * s.max
    } else {
        v
    }
}

fn apply_bounds(b: &Bounds, x: &mut [f64], v: &mut [f64]) {
    for i in 0..x.len() {
        let (lo, hi) = (b.lower[i], b.upper[i]);
        if x[i] >= lo && x[i] <= hi {
            continue;
        }
        if b.policy == BoundaryPolicy::Reflect {
            x[i] = if x[i] < lo {
                2.0 * lo - x[i]
            } else {
                2.0 * hi - x[i]
            };
            v[i] = -v[i];
        }
        x[i] = x[i].clamp(lo, hi);
    }
}

/// Index of the highest score among `candidates`, the lowest index on ties.
fn argmax(scores: &[f64], candidates: impl IntoIterator<Item = usize>) -> usize {
    let mut best: Option<usize> = None;
    for n in candidates {
        best = match best {
            Some(b) if scores[b] > scores[n] || (scores[b] == scores[n] && b < n) => Some(b),
            _ => Some(n),
        };
    }
    best.expect("at least one particle")
}

fn check<O: Objective + ?Sized>(config: &PsoConfig, objective: &O) -> Result<(), PsoError> {
    config.validate()?;
    match objective.dimension() {
        Some(d) if d != config.dimension() => Err(PsoError::Config {
            field: "init",
            value: format!("{} dimensions", config.dimension()),
            reason: "the objective expects another number of coordinates",
        }),
        _ => Ok(()),
    }
}

fn finite(scores: &[f64], iteration: Option<usize>) -> Result<(), PsoError> {
    match scores.iter().position(|s| !s.is_finite()) {
        None => Ok(()),
        Some(particle) => Err(PsoError::NonFiniteScore {
            iteration,
            particle,
            score: scores[particle],
        }),
    }
}

fn with_particle(e: PsoError, particle: usize) -> PsoError {
    match e {
        PsoError::NonFiniteScore {
            iteration, score, ..
        } => PsoError::NonFiniteScore {
            iteration,
            particle,
            score,
        },
        other => other,
    }
}
