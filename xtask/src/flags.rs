//! Every subcommand and flag of `cargo xtask`, in one place.

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand};
use repair_core::defaults::{
    ARACHNE_ITERATIONS, ARACHNE_PARTICLES, BASELINE_SITES, HISTORY_PENALTY, MAX_PHASES,
    PAPER_ALPHAS, STAGNATION_THRESHOLD, STAGNATION_WINDOW, STUDY_SPLIT_SEED,
};
use repair_core::{
    choice_names, Arch, Choice, CrossEntropy, IncompletePolicy, LocaliserName, MethodName,
    PositiveSampler, RuleSpec, Search, TiePolicy,
};

/// Project automation for early-repair.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
pub struct Xtask {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check, fetch and split datasets.
    Data {
        /// The data operation.
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Train one model on a dataset's study split.
    Train(TrainArgs),
    /// Repair one checkpoint for one class (Arachne FL + PSO) and write the results.
    Repair(Box<RepairArgs>),
    /// Table 1, quality.csv and patterns.csv from a repairs.csv (or the folder holding it).
    Report(ReportArgs),
    /// The whole study: split, train every seed, repair every checkpoint × class, report.
    Experiment(ExperimentArgs),
    /// Check a finished experiment folder: a row per run × checkpoint × class, Qual in
    /// quality.csv recomputed from the rows, Table 1 counts, files and figures present.
    Verify {
        /// The experiment's output folder (holding experiment.json).
        dir: PathBuf,
    },
    /// When to repair: simulate stop rules epoch by epoch over a finished dense
    /// experiment (profile `dense`: every epoch's checkpoint repaired) against the oracle
    /// (best repaired test Qual) and `converged` (early stopping, then repair); writes
    /// readiness.md, the CSV tables and figures into DIR/readiness.
    Readiness(ReadinessArgs),
    /// Print a script that submits an experiment to Slurm as array jobs (train shards,
    /// then repair shards, then the collecting run and report).
    Slurm(SlurmArgs),
    /// Measure speed.
    Bench {
        /// What to measure.
        #[command(subcommand)]
        command: BenchCommand,
    },
}

/// `cargo xtask repair …`
#[derive(Debug, clap::Args)]
pub struct RepairArgs {
    /// The checkpoint (`RUN/checkpoints/epoch-NNN.safetensors`); `RUN/run.json` names
    /// its model.
    #[arg(long, required_unless_present_any = ["problem", "onnx"], conflicts_with_all = ["problem", "onnx"])]
    pub checkpoint: Option<PathBuf>,
    /// Instead of a checkpoint: an ONNX image classifier whose output comes from a final
    /// Gemm (or MatMul + Add, optionally then Softmax), repaired on --dataset's split
    /// (the study's, or --split) with the preprocessing the flags below state; writes
    /// repaired.onnx. Needs a build with `--features onnx`.
    #[arg(long, conflicts_with_all = ["problem", "earlier", "export_problem"], requires = "dataset")]
    pub onnx: Option<PathBuf>,
    /// --onnx: the dataset the model classifies (gtsrb, pneumonia).
    #[arg(long, requires = "onnx")]
    pub dataset: Option<String>,
    /// --onnx: the model's input size, HEIGHT,WIDTH (default: the dataset's images).
    #[arg(long, value_name = "HEIGHT,WIDTH", value_parser = height_width, requires = "onnx")]
    pub input_size: Option<(usize, usize)>,
    /// --onnx: multiplies each 0–255 pixel (the default, 1/255, gives [0, 1]).
    #[arg(long, default_value_t = 1.0 / 255.0, requires = "onnx")]
    pub scale: f32,
    /// --onnx: per-channel mean subtracted after scaling (one value or one per channel).
    #[arg(long, value_delimiter = ',', default_value = "0", requires = "onnx")]
    pub mean: Vec<f32>,
    /// --onnx: per-channel standard deviation divided by after that.
    #[arg(long, value_delimiter = ',', default_value = "1", requires = "onnx")]
    pub std: Vec<f32>,
    /// --onnx: the model takes channels last (N, H, W, C), as Keras exports do.
    #[arg(long, requires = "onnx")]
    pub nhwc: bool,
    /// --onnx: the seed of the study's split when no --split is given.
    #[arg(long, default_value_t = STUDY_SPLIT_SEED, requires = "onnx")]
    pub split_seed: u64,
    /// Instead of a checkpoint: a problem file from any framework (the safetensors of
    /// `--export-problem`, or a folder holding `problem.safetensors`; schema in the
    /// README): its last layer, negatives and positives (and sites, if it names them).
    #[arg(long, conflicts_with_all = ["split", "export_problem", "earlier", "data"])]
    pub problem: Option<PathBuf>,
    /// With --problem: ignore the file's sites and localise.
    #[arg(long, requires = "problem")]
    pub relocalise: bool,
    #[command(flatten)]
    pub data: DataDir,
    /// The split the model was trained on. Default: `RUN/split.json`.
    #[arg(long)]
    pub split: Option<PathBuf>,
    /// The class to repair, or several at once (`--class 20,27,30`: the negatives of
    /// all of them; Qual_α then takes their mean accuracy).
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "problem",
        conflicts_with = "problem"
    )]
    pub class: Vec<u32>,
    /// Seed of the positive sampling and random FL (the repair problem), and of the
    /// search unless --search-seed is given.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Seed of the search alone: another search on the same problem (same positives,
    /// same sites).
    #[arg(long)]
    pub search_seed: Option<u64>,
    /// Return the search's best even when it does worse than the original layer on the
    /// search's own objective (the study's behaviour, for research); without it such a
    /// repair returns the original layer and says so.
    #[arg(long)]
    pub keep_worse: bool,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Fault localiser: arachne, gradient or random.
    #[arg(long, default_value = "arachne", value_parser = choice::<LocaliserName>())]
    pub localiser: LocaliserName,
    /// Sites for the gradient and random localisers.
    #[arg(long, default_value_t = BASELINE_SITES, value_parser = at_least_one)]
    pub sites: usize,
    /// The search: arachne (the study's PSO), canonical (textbook PSO) or de (Arachne
    /// v2's differential evolution; --particles and --iterations are its population
    /// and generations, 100 and 100 in Arachne v2).
    #[arg(long, visible_alias = "search", default_value = "arachne", value_parser = choice::<Search>())]
    pub pso: Search,
    /// Particles (default: the study's 100).
    #[arg(long, default_value_t = ARACHNE_PARTICLES, value_parser = at_least_one)]
    pub particles: usize,
    /// Iterations (default: the study's 50).
    #[arg(long, default_value_t = ARACHNE_ITERATIONS, value_parser = at_least_one)]
    pub iterations: usize,
    /// The method: arachne (--localiser and --pso once, the study), de (the same as
    /// --pso de), adaptive (PSO phases re-localised when the search stagnates, Li Calsi
    /// et al.) or history (the weights that moved most since --earlier times their
    /// gradient loss, searched with a price per broken positive, after NeuRecover).
    #[arg(long, default_value = "arachne", value_parser = choice::<MethodName>())]
    pub method: MethodName,
    /// adaptive: w, the iterations of the stagnation check.
    #[arg(long, default_value_t = STAGNATION_WINDOW, value_parser = at_least_one)]
    pub window: usize,
    /// adaptive: τ, the relative improvement below which a phase stagnated.
    #[arg(long, default_value_t = STAGNATION_THRESHOLD, value_parser = non_negative)]
    pub threshold: f64,
    /// adaptive: the most localisations.
    #[arg(long, default_value_t = MAX_PHASES, value_parser = at_least_one)]
    pub max_phases: usize,
    /// history: an earlier checkpoint of the same run, e.g. one that classified more
    /// of this one's misclassified inputs right.
    #[arg(long)]
    pub earlier: Option<PathBuf>,
    /// history: λ, the price of a broken positive.
    #[arg(long, default_value_t = HISTORY_PENALTY, value_parser = non_negative)]
    pub penalty: f64,
    /// Positive sampler: stratified (the study) or uniform (the toolkit).
    #[arg(long, default_value = "stratified", value_parser = choice::<PositiveSampler>())]
    pub sampler: PositiveSampler,
    /// Cross-entropy of FL and fitness: logits (unclipped, as the study's Keras) or
    /// clipped (Keras' probability clip to [1e-7, 1 − 1e-7]).
    #[arg(long, default_value = "logits", value_parser = choice::<CrossEntropy>())]
    pub cross_entropy: CrossEntropy,
    /// Also write the search problem (problem.safetensors + problem.json).
    #[arg(long)]
    pub export_problem: bool,
    /// cpu or cuda (activation extraction).
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

/// `cargo xtask experiment …`
#[derive(Debug, clap::Args)]
pub struct ExperimentArgs {
    /// A named experiment (`experiments/<NAME>.toml`), e.g. gtsrb.
    pub name: String,
    /// The profile: quick (default) or paper.
    #[arg(long, default_value = "quick")]
    pub profile: String,
    /// Your own experiment file instead of the named one.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Replace a profile setting by its dotted key, e.g. `--set train.model=cnn-s --set train.seeds=[1024,2048]`
    /// (TOML values; recorded in experiment.json).
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub data: DataDir,
    /// Output folder. Default: `runs/<NAME>-<PROFILE>`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// cpu or cuda.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Run only shard I of N (1-based) of each stage's units. Default: the Slurm array
    /// task's shard inside an array job, else all the work.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<repair_experiment::Shard>,
    /// train (train this shard's runs, cache activations), repair (this shard's
    /// repairs; every run must be trained) or all.
    #[arg(long, default_value = "all", value_parser = choice::<repair_experiment::Stage>())]
    pub stage: repair_experiment::Stage,
}

/// `cargo xtask slurm …`
#[derive(Debug, clap::Args)]
pub struct SlurmArgs {
    /// A named experiment (`experiments/<NAME>.toml`), e.g. gtsrb.
    pub name: String,
    /// The profile: quick (default, as for experiment) or paper, paper10, …
    #[arg(long, default_value = "quick")]
    pub profile: String,
    /// Your own experiment file instead of the named one.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Profile settings passed on to every task (`--set KEY=VALUE`, as for experiment).
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Array tasks per stage. Default: one per seed.
    #[arg(long, value_parser = at_least_one)]
    pub shards: Option<usize>,
    /// Output folder on the cluster's shared file system. Default: `runs/<NAME>-<PROFILE>`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// cpu or cuda (cuda adds `--gres=gpu:1` and builds with `--features cuda`).
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda"])]
    pub device: String,
    /// Time limit of each training task (sbatch `--time`).
    #[arg(long, default_value = "24:00:00")]
    pub train_time: String,
    /// Time limit of each repair task.
    #[arg(long, default_value = "4:00:00")]
    pub repair_time: String,
    /// Time limit of the report task.
    #[arg(long, default_value = "1:00:00")]
    pub report_time: String,
    /// CPUs per task (sbatch `--cpus-per-task`); each task runs on
    /// `SLURM_CPUS_PER_TASK` threads. A node with fewer never starts the tasks.
    #[arg(long, default_value_t = 2, value_parser = at_least_one)]
    pub cpus: usize,
    /// An extra sbatch option for every job, e.g. `--sbatch --partition=gpu` or
    /// `--sbatch=--qos=long` (repeatable; the value may start with `-`).
    #[arg(long, allow_hyphen_values = true, value_name = "OPTION")]
    pub sbatch: Vec<String>,
    /// Run this xtask binary in the jobs instead of building one (release) when the
    /// script runs; made absolute.
    #[arg(long)]
    pub xtask: Option<PathBuf>,
    /// Write the script to this file (atomically, executable) instead of stdout, so a
    /// failed call leaves no empty script behind that would "succeed" when run.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

/// `cargo xtask report …`
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// `repairs.csv` files, or the folders that hold them; several (e.g. the GTSRB and
    /// the pneumonia experiment) give one Table 1 with a row group per dataset.
    #[arg(required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// The α values of Qual_α.
    #[arg(long, value_delimiter = ',', default_values_t = PAPER_ALPHAS, value_parser = fraction)]
    pub alpha: Vec<f64>,
    /// Ties with the converged checkpoint: post (default) or earliest (the notebook).
    #[arg(long, default_value = "post", value_parser = choice::<TiePolicy>())]
    pub tie: TiePolicy,
    /// Missing repairs: mark (default) or available (classify on what is there).
    #[arg(long, default_value = "mark", value_parser = choice::<IncompletePolicy>())]
    pub incomplete: IncompletePolicy,
    /// Output folder. Default: the folder of the CSV (required for several).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `cargo xtask readiness …`
#[derive(Debug, clap::Args)]
pub struct ReadinessArgs {
    /// The dense experiment's output folder (holding experiment.json).
    pub dir: PathBuf,
    /// The rules to evaluate beside `converged`: `best-repaired[:PATIENCE[:MIN_GAIN]]`,
    /// `significant[:PATIENCE[:Z]]`, `saturated[:PATIENCE[:MIN_GAIN[:JACCARD]]]`,
    /// `smoothed[:PATIENCE[:WINDOW]]`, `converged[:PATIENCE]`.
    #[arg(long = "rule", default_values = ["best-repaired", "best-repaired:2", "saturated"])]
    pub rules: Vec<RuleSpec>,
    /// Bootstrap resamples of the mean-regret interval.
    #[arg(long, default_value_t = 10_000, value_parser = at_least_one)]
    pub resamples: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder. Default: DIR/readiness.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `cargo xtask train …`
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Dataset name: gtsrb or pneumonia.
    pub dataset: String,
    #[command(flatten)]
    pub data: DataDir,
    /// Model.
    #[arg(long, default_value = "cnn-s", value_parser = choice::<Arch>())]
    pub model: Arch,
    /// Seed of the initial weights and the batch order.
    #[arg(long, default_value_t = 1024)]
    pub seed: u64,
    /// Seed of the study's split, made the first time OUT has none (an experiment's
    /// `data.split_seed`, whose default this is).
    #[arg(long, default_value_t = STUDY_SPLIT_SEED)]
    pub split_seed: u64,
    /// Output folder (checkpoints, training.csv, resume state).
    #[arg(long)]
    pub out: PathBuf,
    /// Upper bound on epochs (default: the paper's 30).
    #[arg(long, value_parser = at_least_one)]
    pub epochs: Option<usize>,
    /// Train on N images of the training split only (quick runs): a stratified subset,
    /// every class in proportion, drawn with --seed.
    #[arg(long, value_parser = at_least_one)]
    pub subset: Option<usize>,
    /// cpu or cuda.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// ImageNet VGG16 weights (safetensors, torchvision names) for the conv base.
    #[arg(long)]
    pub pretrained: Option<PathBuf>,
    /// Resize images to N × N first (bilinear): DenseNet-121 needs N ≥ 32, so
    /// PneumoniaMNIST (28 × 28) takes `--input-side 32`.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub input_side: Option<usize>,
    /// The online mode: after every epoch, repair this class on the checkpoint (the
    /// study's Arachne settings) and ask `--rule` whether to stop; keep the chosen
    /// epoch's repaired model as OUT/best-repaired.safetensors, the report in
    /// OUT/online.json. Checkpoints every epoch.
    #[arg(long, value_name = "CLASS", requires = "rule")]
    pub repair_class: Option<u32>,
    /// α of the Qual_α the rule optimises (online mode).
    #[arg(long, default_value_t = 0.5, requires = "repair_class", value_parser = fraction)]
    pub alpha: f64,
    /// The stop rule of the online mode: `best-repaired[:PATIENCE[:MIN_GAIN]]`,
    /// `significant[:PATIENCE[:Z]]`, `saturated[:PATIENCE[:MIN_GAIN[:JACCARD]]]`,
    /// `smoothed[:PATIENCE[:WINDOW]]` or `converged[:PATIENCE]`.
    #[arg(long, requires = "repair_class")]
    pub rule: Option<RuleSpec>,
}

/// `cargo xtask bench …`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Training steps (forward + backward + SGD) on random 32×32×3 batches; the last
    /// line is `images/s: <number>`.
    Train {
        /// Model.
        #[arg(long, default_value = "cnn-s", value_parser = choice::<Arch>())]
        model: Arch,
        /// Batch size.
        #[arg(long, default_value_t = 128, value_parser = at_least_one)]
        batch: usize,
        /// Timed steps (after one warm-up step).
        #[arg(long, default_value_t = 10, value_parser = at_least_one)]
        steps: usize,
        /// cpu or cuda.
        #[arg(long, default_value = "cpu")]
        device: String,
    },
}

/// `cargo xtask data …`
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Verify a data folder against `datasets/<DATASET>.toml` and print a per-class table.
    Check {
        /// Dataset name: gtsrb or pneumonia.
        dataset: String,
        #[command(flatten)]
        data: DataDir,
        /// Skip the SHA-256 of every file (sizes and counts are still checked).
        #[arg(long)]
        no_hash: bool,
    },
    /// Decode a dataset from its official files into the packed layout of its manifest
    /// (rsna: `stage_2_train_labels.csv` + `stage_2_train_images/*.dcm` → 160×160 grey).
    Import {
        /// Dataset name: gtsrb (the official layout `data fetch gtsrb` unpacks, packed
        /// with the study's preprocessing) or rsna (the Kaggle DICOMs).
        dataset: String,
        /// The folder holding the official files.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
    /// Download and unpack the official archives listed in the manifest.
    Fetch {
        /// Dataset name (only gtsrb has downloadable official archives).
        dataset: String,
        /// Folder to unpack into (gets `GTSRB/Final_Training`, `GTSRB/Final_Test`); pack
        /// it with `data import gtsrb --from` this folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Make the seeded train/val/repair/test split and save it as JSON.
    Split {
        /// Dataset name: gtsrb or pneumonia.
        dataset: String,
        #[command(flatten)]
        data: DataDir,
        /// Seed of the split.
        #[arg(long, default_value_t = STUDY_SPLIT_SEED)]
        seed: u64,
        /// study (the paper's rule), by-track (GTSRB: whole tracks per split) or official.
        #[arg(long, default_value = "study", value_parser = choice::<repair_data::SplitRule>())]
        rule: repair_data::SplitRule,
        /// Output JSON file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Where a dataset's packed files are.
#[derive(Debug, clap::Args)]
pub struct DataDir {
    /// The dataset's folder. Default: `$EARLY_REPAIR_DATA/<DATASET>`.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

impl DataDir {
    /// The folder to read `dataset` from.
    pub fn resolve(&self, dataset: &str) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.data {
            return Ok(dir.clone());
        }
        match std::env::var_os("EARLY_REPAIR_DATA") {
            Some(root) => Ok(PathBuf::from(root).join(dataset)),
            None => anyhow::bail!(
                "no data folder: pass --data DIR or set EARLY_REPAIR_DATA to the folder holding {dataset}/"
            ),
        }
    }
}

/// Creates the `--out` folder, or says that the path names a file.
pub fn create_out(out: &std::path::Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        !out.exists() || out.is_dir(),
        "--out {}: is a file, not a folder",
        out.display()
    );
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("--out {}: cannot create the folder: {e}", out.display()))
}

/// A value parser of a [`Choice`] (a method, a localiser, …): clap lists its names in
/// `--help` and refuses any other value with the list of choices, before a command runs.
fn choice<T: Choice + Clone + Send + Sync>() -> impl clap::builder::TypedValueParser<Value = T> {
    clap::builder::PossibleValuesParser::new(choice_names::<T>())
        .map(|name| T::from_name(&name).expect("clap passes only the listed names"))
}

/// A count that must be at least 1 (`--particles 0`, `--steps 0` and the like would
/// give an empty search, an empty benchmark, an empty bootstrap).
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

/// `HEIGHT,WIDTH` (or `HEIGHTxWIDTH`), both at least 1.
fn height_width(text: &str) -> Result<(usize, usize), String> {
    let parts: Vec<&str> = text.split([',', 'x', '×']).map(str::trim).collect();
    match parts[..] {
        [h, w] => match (h.parse::<usize>(), w.parse::<usize>()) {
            (Ok(h), Ok(w)) if h > 0 && w > 0 => Ok((h, w)),
            _ => Err(format!(
                "`{text}`: want HEIGHT,WIDTH, two whole numbers ≥ 1"
            )),
        },
        _ => Err(format!("`{text}`: want HEIGHT,WIDTH, e.g. 28,28")),
    }
}

/// A finite number ≥ 0.
fn non_negative(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        Ok(x) => Err(format!("{x} is not a finite number ≥ 0")),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// α of Qual_α: a number in [0, 1].
fn fraction(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(a) if (0.0..=1.0).contains(&a) => Ok(a),
        Ok(a) => Err(format!("{a} is outside [0, 1]")),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(args: &str) -> String {
        let argv = std::iter::once("cargo xtask").chain(args.split_whitespace());
        Xtask::try_parse_from(argv).unwrap_err().to_string()
    }

    #[test]
    fn a_wrong_method_localiser_search_sampler_or_rule_is_refused_by_the_parser_listing_the_choices(
    ) {
        for (args, flag, choices) in [
            (
                "repair --checkpoint c --class 1 --out o --method annealing",
                "--method",
                "[possible values: arachne, de, adaptive, history]",
            ),
            (
                "repair --checkpoint c --class 1 --out o --localiser grad",
                "--localiser",
                "[possible values: arachne, gradient, random]",
            ),
            (
                "repair --checkpoint c --class 1 --out o --pso pso",
                "--pso",
                "[possible values: arachne, canonical, de]",
            ),
            (
                "repair --checkpoint c --class 1 --out o --sampler random",
                "--sampler",
                "[possible values: stratified, uniform]",
            ),
            (
                "repair --checkpoint c --class 1 --out o --cross-entropy mse",
                "--cross-entropy",
                "[possible values: logits, clipped]",
            ),
            (
                "train gtsrb --out x --repair-class 1 --rule patience",
                "--rule",
                "(converged, best-repaired, significant, saturated, smoothed)",
            ),
            (
                "readiness dir --rule best-repaired:0",
                "--rule",
                "patience must be a whole number",
            ),
        ] {
            let e = refused(args);
            assert!(e.contains(flag) && e.contains(choices), "{args}: {e}");
        }
    }

    #[test]
    fn a_slurm_device_other_than_cpu_or_cuda_is_refused() {
        let e = refused("slurm gtsrb --device gpu");
        assert!(e.contains("--device") && e.contains("gpu"), "{e}");
    }

    #[test]
    fn sbatch_options_are_taken_however_they_are_written() {
        for args in [
            ["--sbatch", "--partition=gpu"],
            ["--sbatch=--partition=gpu", "--cpus=2"],
        ] {
            let argv = ["cargo xtask", "slurm", "gtsrb"].into_iter().chain(args);
            match Xtask::try_parse_from(argv).unwrap().command {
                Command::Slurm(s) => assert_eq!(s.sbatch, ["--partition=gpu"]),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn zero_counts_and_alphas_outside_the_unit_interval_are_refused_naming_the_flag() {
        for (args, flag) in [
            ("bench train --steps 0", "--steps"),
            ("bench train --batch 0", "--batch"),
            ("train gtsrb --out x --subset 0", "--subset"),
            ("train gtsrb --out x --epochs 0", "--epochs"),
            (
                "repair --checkpoint c --class 1 --out o --sites 0",
                "--sites",
            ),
            (
                "repair --checkpoint c --class 1 --out o --particles 0",
                "--particles",
            ),
            ("report r.csv --alpha 0.2,1.5", "--alpha"),
            ("readiness d --resamples 0", "--resamples"),
        ] {
            let e = refused(args);
            assert!(e.contains(flag), "{args}: {e}");
            assert!(
                e.contains("must be at least 1") || e.contains("outside [0, 1]"),
                "{args}: {e}"
            );
        }
        let ok = [
            "cargo xtask",
            "bench",
            "train",
            "--steps",
            "1",
            "--batch",
            "2",
        ];
        Xtask::try_parse_from(ok).unwrap();
    }
}
