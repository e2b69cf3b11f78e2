//! What a training run starts from, as `xtask train` asks for it: the dataset's corpus
//! (resized when asked), the run folder's split (made with the split seed the first
//! time, read back on a rerun), an optional stratified subset of the training part, the
//! model spec and the paper's training configuration.

use std::path::Path;

use repair_core::Arch;
use repair_data::{
    stratified_subset, Corpus, Dataset, ImageSet, Manifest, Split, SplitConfig, SplitPart, Subset,
};
use repair_train::TrainConfig;
use repair_zoo::ModelSpec;

use crate::error::{PipelineError, Result};

/// A training run as asked for.
#[derive(Debug, Clone, Copy)]
pub struct TrainingSetup<'a> {
    /// Dataset name (`gtsrb`, `pneumonia`).
    pub dataset: &'a str,
    /// The dataset's folder.
    pub data: &'a Path,
    /// Resize images to N × N first.
    pub input_side: Option<usize>,
    /// The run folder (its `split.json` is written or read there).
    pub out: &'a Path,
    /// The seed of the study's split, when the folder has none yet.
    pub split_seed: u64,
    /// Train on N images of the training part only: a stratified subset drawn with
    /// `seed`.
    pub subset: Option<usize>,
    /// Seed of the initial weights, the batch order and the subset.
    pub seed: u64,
    /// The model.
    pub arch: Arch,
    /// Upper bound on epochs (default: the paper's 30).
    pub epochs: Option<usize>,
}

/// A training run ready to start.
pub struct PreparedTraining {
    /// The corpus (resized when asked).
    pub corpus: Corpus,
    /// The split, its training part subset when asked.
    pub split: Split,
    /// The model to build.
    pub spec: ModelSpec,
    /// The training configuration (the paper's, with the epoch bound).
    pub config: TrainConfig,
}

impl PreparedTraining {
    /// The training part, as the trainer reads it.
    pub fn train_set(&self) -> Subset<ImageSet> {
        self.corpus.images().subset(self.split.train.clone())
    }

    /// The validation part.
    pub fn val_set(&self) -> Subset<ImageSet> {
        self.split.view(&self.corpus, SplitPart::Val)
    }
}

/// Loads and splits the data of `setup` and states its model and training.
pub fn prepare_training(setup: &TrainingSetup<'_>) -> Result<PreparedTraining> {
    let corpus = Manifest::builtin(setup.dataset)?.load(setup.data)?;
    let corpus = match setup.input_side {
        Some(side) => corpus.resized(side, side)?,
        None => corpus,
    };
    let split_path = setup.out.join("split.json");
    let mut split = if split_path.exists() {
        Split::load(&split_path, &corpus)?
    } else {
        let split = Split::make(
            &corpus,
            &SplitConfig::study(setup.dataset, setup.split_seed),
        )?;
        split.save(&split_path)?;
        split
    };
    if let Some(n) = setup.subset {
        // Seeded and stratified: the training part is in class order, so its first N
        // images would leave whole classes out.
        split.train = stratified_subset(
            corpus.images(),
            &split.train,
            n,
            setup.seed,
            &format!("a subset of {n}"),
        )?;
    }
    let shape = corpus.images().image_shape();
    let spec = ModelSpec {
        arch: setup.arch,
        input: (shape.channels, shape.height, shape.width),
        num_classes: corpus.images().num_classes(),
        seed: setup.seed,
    };
    let mut config = TrainConfig::paper(setup.seed);
    if let Some(epochs) = setup.epochs {
        if epochs == 0 {
            return Err(PipelineError::Invalid("at least one epoch".into()));
        }
        config.max_epochs = epochs;
    }
    Ok(PreparedTraining {
        corpus,
        split,
        spec,
        config,
    })
}
