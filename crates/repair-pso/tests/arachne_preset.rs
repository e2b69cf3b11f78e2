//! The `arachne` preset follows the study's PSO step by step (`repair/arachne/arachne.py`,
//! `optimize` 365-471): checked against a literal transcription of it on a tiny problem.

use rand::Rng;
use repair_pso::{
    constriction, particle_rng, run, Init, LayerScale, PsoConfig, Swarm, Termination,
};

const SEED: u64 = 11;

fn config(initial: Vec<Vec<f64>>) -> PsoConfig {
    let layer = LayerScale {
        std: 0.3,
        range: 1.0,
    };
    PsoConfig {
        particles: initial.len(),
        init: Init::Positions(initial),
        ..PsoConfig::arachne(vec![0.0; 2], layer, SEED)
    }
}

/// The objective: a bowl around (0.3, −0.2).
fn bowl(x: &[f64]) -> f64 {
    -((x[0] - 0.3).powi(2) + (x[1] + 0.2).powi(2))
}

/// `_update_particle` 509-566 and `_update_velocity` 929-960, read literally: for each particle in order, with g the best
/// position at the start of the iteration: x ← x + v; r1, r2 ~ U(0, 4.1) once per
/// particle; v ← χ(v + r1(p − x) + r2(g − x)); clamp |v| into [0.2, 5] keeping the
/// sign (0 counts as negative); score x; replace p on a strictly higher score.
struct Literal {
    x: Vec<[f64; 2]>,
    v: Vec<[f64; 2]>,
    p: Vec<[f64; 2]>,
    ps: Vec<f64>,
}

impl Literal {
    // Index loops keep the transcription of the code literal.
    #[allow(clippy::needless_range_loop)]
    fn iterate(&mut self, t: usize) {
        let chi = constriction(4.1);
        let lead = (0..self.ps.len()).fold(0, |b, n| if self.ps[n] > self.ps[b] { n } else { b });
        let g = self.p[lead];
        for n in 0..self.x.len() {
            let mut rng = particle_rng(SEED, n, Some(t));
            let r1 = 4.1 * rng.random::<f64>();
            let r2 = 4.1 * rng.random::<f64>();
            for d in 0..2 {
                self.x[n][d] += self.v[n][d];
                let v = chi
                    * (self.v[n][d]
                        + r1 * (self.p[n][d] - self.x[n][d])
                        + r2 * (g[d] - self.x[n][d]));
                let sign = if v > 0.0 { 1.0 } else { -1.0 };
                self.v[n][d] = if v.abs() < 0.2 {
                    sign * 0.2
                } else if v.abs() > 5.0 {
                    sign * 5.0
                } else {
                    v
                };
            }
            let s = bowl(&self.x[n]);
            if s > self.ps[n] {
                self.ps[n] = s;
                self.p[n] = self.x[n];
            }
        }
    }
}

fn flat(v: &[[f64; 2]]) -> Vec<f64> {
    v.iter().flatten().copied().collect()
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
}

#[test]
fn the_first_iterations_match_the_literal_reading_of_the_study_code() {
    let start = [[0.3, -0.2], [1.0, 1.0], [0.0, 0.0], [-2.0, 0.5]];
    let mut swarm = Swarm::new(config(start.iter().map(|x| x.to_vec()).collect()), &bowl).unwrap();
    let mut literal = Literal {
        x: start.to_vec(),
        v: vec![[0.0; 2]; 4],
        p: start.to_vec(),
        ps: start.iter().map(|x| bowl(x)).collect(),
    };
    for t in 0..4 {
        swarm.step(&bowl).unwrap();
        literal.iterate(t);
        let s = swarm.state();
        assert!(
            close(&s.positions, &flat(&literal.x)),
            "iteration {t} positions"
        );
        assert!(
            close(&s.velocities, &flat(&literal.v)),
            "iteration {t} velocities"
        );
        assert!(
            close(&s.best_positions, &flat(&literal.p)),
            "iteration {t} bests"
        );
        assert_eq!(s.best_scores, literal.ps, "iteration {t} best scores");
        if t == 0 {
            // Position first: iteration 0 re-scores the initial positions, and the
            // leader (already at the optimum, so g − x = p − x = 0) gets velocity 0,
            // which the minimum speed turns into −range/5.
            assert_eq!(s.positions, flat(&start));
            assert_eq!(&s.velocities[..2], &[-0.2, -0.2]);
        }
        assert!(s.velocities.iter().all(|v| (0.2..=5.0).contains(&v.abs())));
        assert_eq!(s.evaluations, 4 * (t as u64 + 2));
    }
}

#[test]
fn a_flat_objective_stops_after_twelve_iterations_of_no_strict_improvement() {
    let layer = LayerScale {
        std: 0.1,
        range: 1.0,
    };
    let config = PsoConfig::arachne(vec![0.0; 3], layer, 5);
    let flat = |_: &[f64]| 1.0;
    let result = run(config.clone(), &flat).unwrap();
    assert_eq!(result.termination, Termination::Stalled { window: 10 });
    assert_eq!(result.iterations, 12);
    assert_eq!(result.evaluations, 100 * 13);
    // Strict ">" kept every personal best at its initial position, and ties go to the
    // first particle: the result is particle 0's initial position.
    let initial = Swarm::new(config, &flat).unwrap().into_state().positions;
    assert_eq!(result.best_position, initial[..3]);
}

#[test]
fn a_search_that_keeps_improving_runs_all_fifty_iterations() {
    // Scores rise with every move in −x direction; the minimum speed guarantees moves.
    let config = PsoConfig::arachne(
        vec![0.0],
        LayerScale {
            std: 0.1,
            range: 1.0,
        },
        5,
    );
    let result = run(config, &|x: &[f64]| -x[0]).unwrap();
    assert_eq!(result.termination, Termination::MaxIterations);
    assert_eq!(result.iterations, 50);
    assert_eq!(result.history.len(), 50);
    assert!(result.history.windows(2).all(|w| w[1].best >= w[0].best));
    assert!(result.best_score > result.initial_best_score);
}

#[test]
fn initial_positions_are_normal_around_the_current_weights_with_the_layer_std() {
    let current = vec![0.5, -1.0];
    let config = PsoConfig::arachne(
        current.clone(),
        LayerScale {
            std: 0.2,
            range: 1.0,
        },
        3,
    );
    let swarm = Swarm::new(config, &|_: &[f64]| 0.0).unwrap();
    let x = &swarm.state().positions;
    for (d, &mu) in current.iter().enumerate() {
        let values: Vec<f64> = x.iter().skip(d).step_by(2).copied().collect();
        let mean = values.iter().sum::<f64>() / 100.0;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 99.0).sqrt();
        assert!((mean - mu).abs() < 0.06, "dimension {d}: mean {mean}");
        assert!((sd - 0.2).abs() < 0.04, "dimension {d}: sd {sd}");
    }
}
