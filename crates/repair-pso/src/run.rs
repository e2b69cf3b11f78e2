//! The loop around [`Swarm::step`]: termination, observers (progress bars, logs,
//! checkpoints) and the result.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use crate::config::PsoConfig;
use crate::error::PsoError;
use crate::objective::Objective;
use crate::swarm::{IterationRecord, Swarm, Termination};

/// Called after every iteration; may stop the search. Checkpoint by serialising
/// `swarm.state()` here.
pub trait Observer {
    /// Sees the iteration's record and the swarm after it.
    fn observe(&mut self, record: &IterationRecord, swarm: &Swarm) -> ControlFlow<()>;
}

/// No observer.
impl Observer for () {
    fn observe(&mut self, _: &IterationRecord, _: &Swarm) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// Any `FnMut(&IterationRecord)` closure observes and never stops the search.
impl<F: FnMut(&IterationRecord)> Observer for F {
    fn observe(&mut self, record: &IterationRecord, _: &Swarm) -> ControlFlow<()> {
        self(record);
        ControlFlow::Continue(())
    }
}

/// The outcome of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The best position found.
    pub best_position: Vec<f64>,
    /// Its score.
    pub best_score: f64,
    /// The score of the best initial position (before any iteration).
    pub initial_best_score: f64,
    /// Iterations run.
    pub iterations: usize,
    /// Objective evaluations, the initial ones included.
    pub evaluations: u64,
    /// Why the search ended.
    pub termination: Termination,
    /// One record per iteration.
    pub history: Vec<IterationRecord>,
}

/// Runs a search from `config` to its end.
pub fn run<O: Objective + ?Sized>(
    config: PsoConfig,
    objective: &O,
) -> Result<SearchResult, PsoError> {
    run_with(Swarm::new(config, objective)?, objective, &mut ())
}

/// Runs (or continues, after [`Swarm::resume`]) a search to its end, calling
/// `observer` after every iteration.
pub fn run_with<O: Objective + ?Sized, B: Observer + ?Sized>(
    mut swarm: Swarm,
    objective: &O,
    observer: &mut B,
) -> Result<SearchResult, PsoError> {
    while let Some(record) = swarm.step(objective)? {
        let record = record.clone();
        if observer.observe(&record, &swarm).is_break() {
            swarm.stop(Termination::Observer);
        }
    }
    let state = swarm.into_state();
    let (best, score) = state.best();
    Ok(SearchResult {
        best_position: best.to_vec(),
        best_score: score,
        initial_best_score: state.initial_best,
        iterations: state.iterations_done,
        evaluations: state.evaluations,
        termination: state.termination.expect("the loop ends on a termination"),
        history: state.history,
    })
}
