//! A downstream user's own objective: minimise the 5-D Rastrigin function (maximise its
//! negative) with textbook PSO, printing progress and checkpointing the swarm as JSON.
//!
//! `cargo run --release -p repair-pso --example rastrigin`

use std::f64::consts::PI;
use std::ops::ControlFlow;

use repair_pso::{
    run_with, BoundaryPolicy, Bounds, Init, IterationRecord, Observer, PsoConfig, Swarm,
};

/// Rastrigin: many local minima, global minimum 0 at the origin.
fn neg_rastrigin(x: &[f64]) -> f64 {
    -(10.0 * x.len() as f64
        + x.iter()
            .map(|v| v * v - 10.0 * (2.0 * PI * v).cos())
            .sum::<f64>())
}

/// Prints every 25th iteration and keeps the latest state as JSON (write it to a file
/// with a temp file + rename in real use).
struct Progress {
    checkpoint: String,
}

impl Observer for Progress {
    fn observe(&mut self, record: &IterationRecord, swarm: &Swarm) -> ControlFlow<()> {
        if record.iteration.is_multiple_of(25) {
            println!(
                "iteration {:>3}: best {:>9.5}, mean {:>9.3}, {} evaluations",
                record.iteration, record.best, record.mean, record.evaluations
            );
            self.checkpoint = serde_json::to_string(swarm.state()).expect("serialisable");
        }
        ControlFlow::Continue(())
    }
}

fn main() -> Result<(), repair_pso::PsoError> {
    let dim = 5;
    let config = PsoConfig {
        particles: 40,
        iterations: 300,
        stall: None,
        bounds: Some(Bounds {
            lower: vec![-5.12; dim],
            upper: vec![5.12; dim],
            policy: BoundaryPolicy::Reflect,
        }),
        init: Init::Uniform,
        ..PsoConfig::canonical(vec![0.0; dim], 1.0, 2024)
    };
    let swarm = Swarm::new(config, &neg_rastrigin)?;
    let mut progress = Progress {
        checkpoint: String::new(),
    };
    let result = run_with(swarm, &neg_rastrigin, &mut progress)?;
    println!(
        "best {:.6} at {:?} after {} iterations ({:?}); last checkpoint {} bytes",
        -result.best_score,
        result.best_position,
        result.iterations,
        result.termination,
        progress.checkpoint.len()
    );
    Ok(())
}
