//! Seeded train / val / repair / test splits over a [`Corpus`], saved as JSON with the
//! seed, the ratios, the corpus checksum and the index lists, so every later stage uses
//! the very same split.
//!
//! Rules (all indices are corpus indices; every list is sorted):
//! * [`SplitRule::Study`] — the paper's rule. Test is the official test part, or, with a
//!   `test_ratio`, carved from the pooled corpus (PneumoniaMNIST, standing in for the
//!   study's RSNA rule: stratified 10 % test, then 5 % of the rest → repair, then 20 %
//!   of the remaining training data → val). Then `repair_ratio` of what is left goes to
//!   repair, `val_ratio` of the rest to val, the remainder is train. Counts are
//!   `floor(ratio × n)` like the study's `int(0.3 * n)`: GTSRB's 39,209 training images
//!   give 11,762 repair, 5,489 val (floor of 5,489.4) and 21,958 train. GTSRB draws at
//!   random (as `random.sample`), PneumoniaMNIST per class (as sklearn's `stratify`).
//! * [`SplitRule::ByTrack`] — GTSRB: whole tracks (~30 frames of one physical sign) go to
//!   one split, so near-duplicates cannot leak from train into val or repair. Tracks are
//!   drawn per class, each added when it brings the class count closer to its target, so
//!   sizes are close to, not exactly, the study's.
//! * [`SplitRule::Official`] — keeps the official test (and val, if the dataset has one)
//!   and carves repair (and val, if needed) from the official train part, per class.

use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::corpus::Corpus;
use crate::dataset::{Dataset, ImageSet, Subset};
use crate::error::{DataError, Result};

/// How a corpus is cut; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitRule {
    /// The study's rule (random for GTSRB, stratified when a test share is carved).
    Study,
    /// Whole groups (GTSRB tracks) per split.
    ByTrack,
    /// Official test (and val) kept; repair carved from official train.
    Official,
}

impl repair_core::Choice for SplitRule {
    const WHAT: &'static str = "split rule";
    const ALL: &'static [Self] = &[SplitRule::Study, SplitRule::ByTrack, SplitRule::Official];

    fn name(self) -> &'static str {
        match self {
            SplitRule::Study => "study",
            SplitRule::ByTrack => "by-track",
            SplitRule::Official => "official",
        }
    }
}

repair_core::choice_text!(SplitRule);

/// Everything that determines a split besides the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitConfig {
    /// The rule.
    pub rule: SplitRule,
    /// Seed of the ChaCha8 stream all draws come from.
    pub seed: u64,
    /// Share of the pooled corpus that becomes test; `None` keeps the official test.
    pub test_ratio: Option<f64>,
    /// Share of the remaining data that becomes repair.
    pub repair_ratio: f64,
    /// Share of the data left after repair that becomes val (unless the rule keeps an
    /// official val).
    pub val_ratio: f64,
    /// Draw test and repair per class (largest-remainder quotas).
    pub stratify: bool,
}

impl SplitConfig {
    /// The study's rule for `dataset` with `seed`: RSNA's (test 10 % stratified, repair
    /// 5 % of the rest) for `rsna` and its stand-in `pneumonia`, GTSRB's otherwise.
    pub fn study(dataset: &str, seed: u64) -> Self {
        match dataset {
            "pneumonia" | "rsna" => SplitConfig {
                rule: SplitRule::Study,
                seed,
                test_ratio: Some(0.1),
                repair_ratio: 0.05,
                val_ratio: 0.2,
                stratify: true,
            },
            _ => SplitConfig {
                rule: SplitRule::Study,
                seed,
                test_ratio: None,
                repair_ratio: 0.3,
                val_ratio: 0.2,
                stratify: false,
            },
        }
    }

    /// The same ratios under another rule.
    pub fn with_rule(mut self, rule: SplitRule) -> Self {
        self.rule = rule;
        if rule == SplitRule::Official {
            self.test_ratio = None;
            self.stratify = true;
        }
        self
    }

    /// Refuses ratios outside (0, 1).
    pub fn validate(&self) -> Result<()> {
        let ratios = [
            ("test_ratio", self.test_ratio),
            ("repair_ratio", Some(self.repair_ratio)),
            ("val_ratio", Some(self.val_ratio)),
        ];
        for (name, value) in ratios {
            if let Some(v) = value {
                if !(v > 0.0 && v < 1.0) {
                    return Err(DataError::BadRatio { name, value: v });
                }
            }
        }
        Ok(())
    }
}

/// One of the four splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SplitPart {
    /// Training data.
    Train,
    /// Validation data (early stopping).
    Val,
    /// Repair data (fault localisation and search).
    Repair,
    /// Test data (all reported metrics).
    Test,
}

impl SplitPart {
    /// All four, in the usual order.
    pub const ALL: [SplitPart; 4] = [
        SplitPart::Train,
        SplitPart::Val,
        SplitPart::Repair,
        SplitPart::Test,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            SplitPart::Train => "train",
            SplitPart::Val => "val",
            SplitPart::Repair => "repair",
            SplitPart::Test => "test",
        }
    }
}

/// Version of the split file format.
const FORMAT: u32 = 1;

/// A saved split: config, the corpus it belongs to, and four sorted index lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// File format version.
    pub format: u32,
    /// Dataset name.
    pub dataset: String,
    /// [`Corpus::checksum`] of the data it was made from.
    pub corpus_checksum: String,
    /// Number of images of that corpus.
    pub corpus_len: usize,
    /// Rule, seed and ratios.
    pub config: SplitConfig,
    /// Training indices.
    pub train: Vec<usize>,
    /// Validation indices.
    pub val: Vec<usize>,
    /// Repair indices.
    pub repair: Vec<usize>,
    /// Test indices.
    pub test: Vec<usize>,
}

impl Split {
    /// Cuts `corpus` by `config`.
    pub fn make(corpus: &Corpus, config: &SplitConfig) -> Result<Split> {
        config.validate()?;
        let images = corpus.images();
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let official = |name: &str| -> Vec<usize> {
            corpus
                .part(name)
                .map(|p| p.range.clone().collect())
                .unwrap_or_default()
        };
        let groups = match config.rule {
            SplitRule::ByTrack => Some(corpus.groups().ok_or_else(|| {
                DataError::invalid(
                    corpus.name(),
                    "the by-track rule needs track ids, and this dataset has none",
                )
            })?),
            _ => None,
        };
        let carver = Carver {
            images,
            groups,
            stratify: config.stratify,
        };
        let (test, pool) = match (config.rule, config.test_ratio) {
            (SplitRule::Official, _) | (_, None) => {
                let test = official("test");
                let pool: Vec<usize> = (0..images.len())
                    .filter(|i| !test.contains_sorted(*i))
                    .collect();
                (test, pool)
            }
            (_, Some(ratio)) => carver.carve((0..images.len()).collect(), ratio, &mut rng),
        };
        let (val, train, repair) =
            if config.rule == SplitRule::Official && corpus.part("val").is_some() {
                let val = official("val");
                let pool: Vec<usize> = pool
                    .into_iter()
                    .filter(|i| !val.contains_sorted(*i))
                    .collect();
                let (repair, train) = carver.carve(pool, config.repair_ratio, &mut rng);
                (val, train, repair)
            } else {
                let (repair, rest) = carver.carve(pool, config.repair_ratio, &mut rng);
                let (val, train) = carver.carve(rest, config.val_ratio, &mut rng);
                (val, train, repair)
            };
        let split = Split {
            format: FORMAT,
            dataset: corpus.name().to_string(),
            corpus_checksum: corpus.checksum().to_string(),
            corpus_len: images.len(),
            config: config.clone(),
            train,
            val,
            repair,
            test,
        };
        split.check_parts_hold_images(corpus.name())?;
        Ok(split)
    }

    /// Refuses a split with an empty part, naming it and `origin` (the split file, or
    /// the corpus it was cut from): an empty repair part once read "nothing to repair",
    /// and an empty test part gave accuracies over zero images.
    fn check_parts_hold_images(&self, origin: impl Into<PathBuf>) -> Result<()> {
        match SplitPart::ALL.iter().find(|&&p| self.indices(p).is_empty()) {
            None => Ok(()),
            Some(part) => Err(DataError::invalid(
                origin,
                format!(
                    "the {} part of the split is empty ({} images in all)",
                    part.name(),
                    self.corpus_len
                ),
            )),
        }
    }

    /// The index list of one split.
    pub fn indices(&self, part: SplitPart) -> &[usize] {
        match part {
            SplitPart::Train => &self.train,
            SplitPart::Val => &self.val,
            SplitPart::Repair => &self.repair,
            SplitPart::Test => &self.test,
        }
    }

    /// A view of one split of `corpus`, sharing its pixels.
    pub fn view(&self, corpus: &Corpus, part: SplitPart) -> Subset<ImageSet> {
        corpus.images().subset(self.indices(part).to_vec())
    }

    /// Writes the split as JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec(self).expect("a split always serialises");
        write_atomic(path, &json)
    }

    /// The dataset a split file was made for, read before the data is loaded (a repair
    /// finds its dataset this way).
    pub fn dataset_of(path: &Path) -> Result<String> {
        #[derive(serde::Deserialize)]
        struct Named {
            dataset: String,
        }
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        let named: Named = serde_json::from_slice(&bytes)
            .map_err(|e| DataError::invalid(path, format!("not a split file: {e}")))?;
        Ok(named.dataset)
    }

    /// Reads a split and checks that it belongs to `corpus` and is well formed
    /// (indices in range, the four lists disjoint).
    pub fn load(path: &Path, corpus: &Corpus) -> Result<Split> {
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        let split: Split = serde_json::from_slice(&bytes)
            .map_err(|e| DataError::invalid(path, format!("not a split file: {e}")))?;
        split.check_against(path, corpus)?;
        Ok(split)
    }

    fn check_against(&self, path: &Path, corpus: &Corpus) -> Result<()> {
        if self.format != FORMAT {
            return Err(DataError::invalid(
                path,
                format!("split format {} (this build reads {FORMAT})", self.format),
            ));
        }
        let made_for = format!(
            "{} ({} images, {})",
            self.dataset, self.corpus_len, self.corpus_checksum
        );
        if made_for != corpus.describe() {
            return Err(DataError::SplitMismatch {
                path: PathBuf::from(path),
                expected: made_for,
                found: corpus.describe(),
            });
        }
        let mut seen = vec![false; self.corpus_len];
        for part in SplitPart::ALL {
            for &i in self.indices(part) {
                let slot = seen.get_mut(i).ok_or_else(|| {
                    DataError::invalid(path, format!("{} index {i} is out of range", part.name()))
                })?;
                if std::mem::replace(slot, true) {
                    return Err(DataError::invalid(
                        path,
                        format!("index {i} appears twice (splits must be disjoint)"),
                    ));
                }
            }
        }
        self.check_parts_hold_images(path)
    }
}

/// Draws a share of an index pool, plainly, per class, or per group and class.
struct Carver<'a> {
    images: &'a ImageSet,
    groups: Option<&'a [u32]>,
    stratify: bool,
}

impl Carver<'_> {
    /// Splits `pool` into (taken, rest), both sorted.
    fn carve(
        &self,
        pool: Vec<usize>,
        ratio: f64,
        rng: &mut ChaCha8Rng,
    ) -> (Vec<usize>, Vec<usize>) {
        let mut taken = if let Some(groups) = self.groups {
            self.carve_groups(&pool, groups, ratio, rng)
        } else if self.stratify {
            self.carve_stratified(&pool, ratio, rng)
        } else {
            let mut shuffled = pool.clone();
            shuffled.shuffle(rng);
            shuffled.truncate((ratio * pool.len() as f64).floor() as usize);
            shuffled
        };
        taken.sort_unstable();
        let rest = pool
            .into_iter()
            .filter(|i| !taken.contains_sorted(*i))
            .collect();
        (taken, rest)
    }

    /// Items of each class in `pool`, in pool order.
    fn by_class(&self, pool: &[usize]) -> Vec<Vec<usize>> {
        let mut classes = vec![Vec::new(); self.images.num_classes()];
        for &i in pool {
            classes[self.images.label(i)].push(i);
        }
        classes
    }

    /// Per-class quotas summing to `floor(ratio × n)`, by largest remainder (ties to
    /// the lower class).
    fn carve_stratified(&self, pool: &[usize], ratio: f64, rng: &mut ChaCha8Rng) -> Vec<usize> {
        let classes = self.by_class(pool);
        let total = (ratio * pool.len() as f64).floor() as usize;
        let exact: Vec<f64> = classes.iter().map(|c| ratio * c.len() as f64).collect();
        let mut quota: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
        let mut order: Vec<usize> = (0..classes.len()).collect();
        order.sort_by(|&a, &b| {
            let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
            rb.total_cmp(&ra).then(a.cmp(&b))
        });
        let missing = total.saturating_sub(quota.iter().sum());
        for &c in order.iter().take(missing) {
            quota[c] += 1;
        }
        let mut taken = Vec::with_capacity(total);
        for (mut members, q) in classes.into_iter().zip(quota) {
            members.shuffle(rng);
            taken.extend_from_slice(&members[..q.min(members.len())]);
        }
        taken
    }

    /// Whole groups, per class: shuffled, each added while it brings the class count
    /// closer to `ratio × n_class`.
    fn carve_groups(
        &self,
        pool: &[usize],
        groups: &[u32],
        ratio: f64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<usize> {
        let mut taken = Vec::new();
        for members in self.by_class(pool) {
            let mut by_group: Vec<(u32, Vec<usize>)> = Vec::new();
            for i in members.iter().copied() {
                match by_group.iter_mut().find(|(g, _)| *g == groups[i]) {
                    Some((_, list)) => list.push(i),
                    None => by_group.push((groups[i], vec![i])),
                }
            }
            by_group.shuffle(rng);
            let target = ratio * members.len() as f64;
            let mut count = 0usize;
            for (_, list) in by_group {
                let after = (count + list.len()) as f64;
                if (after - target).abs() < (count as f64 - target).abs() {
                    count += list.len();
                    taken.extend(list);
                }
            }
        }
        taken
    }
}

/// Membership test on a sorted index list.
trait ContainsSorted {
    fn contains_sorted(&self, x: usize) -> bool;
}

impl ContainsSorted for Vec<usize> {
    fn contains_sorted(&self, x: usize) -> bool {
        self.binary_search(&x).is_ok()
    }
}
