//! Every default a repair or a report starts from, once: the study's and the cited
//! papers' settings. The search crates, the experiment config, the command line and the
//! Python signatures all read them from here, so no two of them can disagree.

/// Particles of the study's Arachne search (its `arachne.py` default, also the paper's).
pub const ARACHNE_PARTICLES: usize = 100;

/// Iterations of the study's Arachne search.
pub const ARACHNE_ITERATIONS: usize = 50;

/// Positive inputs the study's repair samples from the correctly classified ones.
pub const STUDY_POSITIVES: usize = 200;

/// Sites of the `gradient` and `random` localisers and of the `history` method unless told
/// otherwise.
pub const BASELINE_SITES: usize = 10;

/// λ of the `history` method unless told otherwise: a broken positive costs as much as
/// a fixed negative gains.
pub const HISTORY_PENALTY: f64 = 1.0;

/// w of the adaptive repair's stagnation check (Li Calsi et al. 2023's 10 iterations).
pub const STAGNATION_WINDOW: usize = 10;

/// τ of that check: a relative improvement of the best fitness below which a phase has
/// stagnated (their 0.005).
pub const STAGNATION_THRESHOLD: f64 = 0.005;

/// Most localisations of one adaptive repair (their `num_macroiterations`: 10).
pub const MAX_PHASES: usize = 10;

/// The paper's α values of Qual_α.
pub const PAPER_ALPHAS: [f64; 3] = [0.2, 0.5, 0.8];

/// Arachne v2's differential-evolution population (coinse/arachne, `search/de_vk.py`).
pub const ARACHNE_DE_POPULATION: usize = 100;

/// Arachne v2's generations (the RQ scripts' `num_iterations`).
pub const ARACHNE_DE_GENERATIONS: usize = 100;

/// The seed of the study's train/val/repair/test split.
pub const STUDY_SPLIT_SEED: u64 = 42;
