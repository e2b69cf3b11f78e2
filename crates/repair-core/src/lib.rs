//! The shared vocabulary of early-repair, as `grep-matcher` is for ripgrep's crates:
//! the types every repair crate speaks, and nothing that needs a tensor library.
//!
//! * [`Site`]: one weight W_ij of the last dense layer.
//! * [`LabelledActivations`]: cached penultimate activations of some inputs, row-major,
//!   with their true labels — what fault localisation and the fitness read.
//! * [`DenseLayer`] (owned) and [`DenseLayerView`] (borrowed): the last dense layer in
//!   Keras layout, `kernel[i · classes + j]` = W_ij (the transpose of candle's and
//!   PyTorch's `Linear` weight; the same (i, j) as the study's `weights.csv`).
//! * [`logits`] / [`first_argmax`]: the one prediction rule, b + a·W accumulated in
//!   `f64` and the first arg-max on ties (numpy's), so "correct" means the same thing in
//!   the repair sets, the search, RR and BR.
//! * [`CrossEntropy`]: the loss of the Arachne fitness and gradient, unclipped from the
//!   logits as the study's Keras computes it, or with Keras' probability clip.
//! * [`Choice`]: a setting chosen by name (method, localiser, search, …), parsed and
//!   shown one way everywhere, its unknown names refused with the list of choices; the
//!   names themselves ([`Arch`], [`MethodName`], [`LocaliserName`], [`Search`],
//!   [`PositiveSampler`], [`Layout`], [`TiePolicy`], [`IncompletePolicy`]).
//! * [`RepairRequest`]: a repair as a user asks for it, in names and numbers, starting
//!   from the study's [`defaults`]; `repair-method` turns it into what the search runs.
//! * [`RuleSpec`]: a when-to-repair rule as written (`best-repaired:3:0.002`), checked
//!   when read; `repair-readiness` implements the rules.
//! * [`ProblemError`]: what the layer and row checks report, naming the value at fault.
//! * The two mechanisms every crate shares: [`write_atomic`] (temp file, fsync, rename,
//!   fsync of the folder) and [`content_hash`] (the `xxh3-64:` tag of config hashes
//!   and checksums).
//! * [`file_name_part`] / [`stays_inside`]: how a name read from a file may become
//!   part of a path (sanitised, or refused), so that no data file picks where we write.
//! * [`TensorFile`]: the one writer of the project's safetensors files (problem files,
//!   repaired layers, the activation cache).
//! * [`UnitCorrectness`]: a repair unit's per-image correctness (packed bits of the
//!   class, the checkpoint's and the repair's right answers on the test and selection
//!   sets), which evaluations rescore on any subset of images.
//! * [`Progress`]: the observer through which long work reports how far it has come
//!   (the command line draws bars; [`NoProgress`] reports nothing).
//!
//! ```
//! use repair_core::{DenseLayer, LabelledActivations, Site};
//!
//! // 2 penultimate units, 2 classes: W = [[1, 0], [0, 0.5]], b = 0.
//! let layer = DenseLayer::new(2, 2, vec![1.0, 0.0, 0.0, 0.5], vec![0.0, 0.0])?;
//! let rows = LabelledActivations { activations: vec![1.0, 1.0], labels: vec![1] };
//! assert_eq!(layer.view().predict(&rows)?, vec![0]); // 1.0 > 0.5: wrong
//! let patched = layer.patched(&[Site { i: 1, j: 1 }], &[2.0]);
//! assert_eq!(patched.view().predict(&rows)?, vec![1]);
//! # Ok::<(), repair_core::ProblemError>(())
//! ```
#![deny(missing_docs)]

mod activations;
mod arch;
mod atomic;
mod choice;
mod correctness;
mod cross_entropy;
pub mod defaults;
mod error;
mod hash;
mod layer;
mod layout;
mod logits;
mod method_names;
mod names;
mod progress;
mod report_policies;
mod request;
mod rule_spec;
mod site;
mod tensor_file;

pub use activations::LabelledActivations;
pub use arch::Arch;
pub use atomic::{is_atomic_temporary, remove_atomic_temporaries, write_atomic, write_atomic_with};
pub use choice::{choice_names, Choice, UnknownChoice};
pub use correctness::{
    BadCorrectness, RowBits, SetCorrectness, UnitCorrectness, CORRECTNESS_FILE, CORRECTNESS_FORMAT,
};
pub use cross_entropy::CrossEntropy;
pub use error::ProblemError;
pub use hash::{content_hash, hash_tag};
pub use layer::{DenseLayer, DenseLayerView};
pub use layout::Layout;
pub use logits::{first_argmax, logits};
pub use method_names::{LocaliserName, MethodName, PositiveSampler, Search};
pub use names::{file_name_part, is_plain_name, stays_inside};
pub use progress::{NoProgress, Progress};
pub use report_policies::{IncompletePolicy, TiePolicy};
pub use request::RepairRequest;
pub use rule_spec::{BadRule, RuleParams, RuleSpec};
pub use site::Site;
pub use tensor_file::TensorFile;
