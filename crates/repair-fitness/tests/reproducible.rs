//! One seed, one result: on 1 or 4 threads, and across a checkpoint and resume.

#[path = "../../../fixtures/searches.rs"]
mod searches;
use searches::{gtsrb_sized_problem as problem, on_threads, timeless};

use std::ops::ControlFlow;

use repair_fitness::{ArachneFitness, RepairProblem};
use repair_pso::{
    run, run_with, BestSharing, IterationRecord, Observer, PsoConfig, Swarm, SwarmState, Topology,
};

fn configs(problem: &RepairProblem) -> Vec<PsoConfig> {
    let arachne = PsoConfig::arachne(problem.current(), problem.layer_scale(), 1234);
    let canonical = PsoConfig::canonical(problem.current(), problem.layer_scale().std, 99);
    let ring_async = PsoConfig {
        topology: Topology::Ring { neighbours: 2 },
        best_sharing: BestSharing::Asynchronous,
        ..canonical.clone()
    };
    vec![arachne, canonical, ring_async]
}

#[test]
fn the_same_seed_gives_the_same_search_on_one_and_four_threads() {
    let problem = problem();
    let fitness = ArachneFitness::new(&problem).unwrap();
    for config in configs(&problem) {
        let one = on_threads(1, || run(config.clone(), &fitness).unwrap());
        let four = on_threads(4, || run(config.clone(), &fitness).unwrap());
        assert!(one.iterations >= 12);
        assert_eq!(timeless(one), timeless(four), "{config:?}");
    }
}

#[test]
fn different_seeds_give_different_searches() {
    let problem = problem();
    let fitness = ArachneFitness::new(&problem).unwrap();
    let config = PsoConfig::arachne(problem.current(), problem.layer_scale(), 1);
    let a = run(config.clone(), &fitness).unwrap();
    let b = run(PsoConfig { seed: 2, ..config }, &fitness).unwrap();
    assert_ne!(a.best_position, b.best_position);
}

/// Saves the state as JSON after iteration `at`, then "crashes".
struct CheckpointAndCrash {
    at: usize,
    saved: Option<String>,
}

impl Observer for CheckpointAndCrash {
    fn observe(&mut self, record: &IterationRecord, swarm: &Swarm) -> ControlFlow<()> {
        if record.iteration == self.at {
            self.saved = Some(serde_json::to_string(swarm.state()).unwrap());
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

#[test]
fn a_search_resumed_from_a_json_checkpoint_ends_as_an_uninterrupted_one() {
    let problem = problem();
    let fitness = ArachneFitness::new(&problem).unwrap();
    for config in configs(&problem) {
        let whole = run(config.clone(), &fitness).unwrap();
        let mut crash = CheckpointAndCrash { at: 6, saved: None };
        let swarm = Swarm::new(config.clone(), &fitness).unwrap();
        let cut = run_with(swarm, &fitness, &mut crash).unwrap();
        assert_eq!(cut.iterations, 7);
        let state: SwarmState = serde_json::from_str(&crash.saved.unwrap()).unwrap();
        let resumed = run_with(Swarm::resume(state, &fitness).unwrap(), &fitness, &mut ()).unwrap();
        assert_eq!(timeless(resumed), timeless(whole), "{config:?}");
    }
}

#[test]
fn a_resumed_state_of_the_wrong_shape_is_refused() {
    let problem = problem();
    let fitness = ArachneFitness::new(&problem).unwrap();
    let config = PsoConfig::arachne(problem.current(), problem.layer_scale(), 1);
    let mut state = Swarm::new(config, &fitness).unwrap().into_state();
    state.velocities.pop();
    let err = Swarm::resume(state, &fitness).unwrap_err();
    assert!(err.to_string().contains("cannot resume"), "{err}");
}
