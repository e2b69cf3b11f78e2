//! Slicing an experiment's work so several processes (machines, Slurm array tasks) share
//! it. Units are numbered in a fixed order; shard `i` of `n` takes the units whose number
//! is `i − 1` modulo `n`. Every unit writes its result atomically under the shared output
//! folder, so shards never write the same file and the unsharded run afterwards only
//! collects.

use std::fmt;
use std::str::FromStr;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: usize,
    count: usize,
}

impl Shard {
    /// All the work: shard 1 of 1.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Shard `index` of `count`, with `1 ≤ index ≤ count`.
    pub fn new(index: usize, count: usize) -> Result<Self, ShardError> {
        if count == 0 || index == 0 || index > count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    /// The shard a Slurm array task is, from `SLURM_ARRAY_TASK_ID`,
    /// `SLURM_ARRAY_TASK_MIN` and `SLURM_ARRAY_TASK_COUNT` (read through `var`, so tests
    /// need not touch the environment). `None` outside an array job.
    pub fn from_slurm(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ShardError> {
        let Some(id) = var("SLURM_ARRAY_TASK_ID") else {
            return Ok(None);
        };
        let number = |name: &'static str, value: Option<String>| -> Result<usize, ShardError> {
            let value = value.ok_or(ShardError::SlurmUnset { name })?;
            value
                .trim()
                .parse()
                .map_err(|_| ShardError::SlurmNotANumber { name, value })
        };
        let id = number("SLURM_ARRAY_TASK_ID", Some(id))?;
        let min = number("SLURM_ARRAY_TASK_MIN", var("SLURM_ARRAY_TASK_MIN"))?;
        let count = number("SLURM_ARRAY_TASK_COUNT", var("SLURM_ARRAY_TASK_COUNT"))?;
        if id < min {
            return Err(ShardError::SlurmBelowMin { id, min });
        }
        // Arrays with a step (`--array=0-8:2`) would leave gaps: the ids must be min..min+count.
        Shard::new(id - min + 1, count).map(Some)
    }

    /// Whether unit number `unit` (0-based, in the experiment's fixed order) is this
    /// shard's.
    pub fn owns(&self, unit: usize) -> bool {
        unit % self.count == self.index - 1
    }

    /// True for the unsharded run.
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, ShardError> {
        let parse = |part: Option<&str>| part.and_then(|p| p.trim().parse::<usize>().ok());
        let mut parts = s.split('/');
        match (parse(parts.next()), parse(parts.next()), parts.next()) {
            (Some(i), Some(n), None) => Shard::new(i, n),
            _ => Err(ShardError::Malformed(s.to_string())),
        }
    }
}

/// A shard that is not one: malformed, out of range, or a Slurm array task whose
/// environment does not say which it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Text that is not `i/n`.
    #[error("shard {0:?}: want i/n, e.g. 2/5")]
    Malformed(String),
    /// `i/n` outside `1 ≤ i ≤ n`.
    #[error("shard {index}/{count}: want i/n with 1 ≤ i ≤ n, e.g. 2/5")]
    OutOfRange {
        /// The `i` given.
        index: usize,
        /// The `n` given.
        count: usize,
    },
    /// A Slurm array variable missing beside `SLURM_ARRAY_TASK_ID`.
    #[error("{name} is not set (but SLURM_ARRAY_TASK_ID is)")]
    SlurmUnset {
        /// The variable.
        name: &'static str,
    },
    /// A Slurm array variable that is not a whole number.
    #[error("{name}={value:?} is not a whole number")]
    SlurmNotANumber {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// A task id below the array's first.
    #[error("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}")]
    SlurmBelowMin {
        /// `SLURM_ARRAY_TASK_ID`.
        id: usize,
        /// `SLURM_ARRAY_TASK_MIN`.
        min: usize,
    },
}

/// Which stages a process runs. Sharded work on a cluster runs `Train` on every shard,
/// then (when all have finished) `Repair` on every shard, then one unsharded `All` that
/// finds everything done and writes `repairs.csv` and the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    /// Train this shard's runs and cache their checkpoints' activations.
    Train,
    /// Repair this shard's units; every run must have finished its `Train` stage.
    Repair,
    /// Both, then (unsharded) `repairs.csv`.
    #[default]
    All,
}

impl repair_core::Choice for Stage {
    const WHAT: &'static str = "stage";
    const ALL: &'static [Self] = &[Stage::Train, Stage::Repair, Stage::All];

    fn name(self) -> &'static str {
        match self {
            Stage::Train => "train",
            Stage::Repair => "repair",
            Stage::All => "all",
        }
    }
}

repair_core::choice_text!(Stage);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_units() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard::new(i, 3).unwrap()).collect();
        for unit in 0..20 {
            let owners = shards.iter().filter(|s| s.owns(unit)).count();
            assert_eq!(owners, 1, "unit {unit}");
        }
        assert!(Shard::WHOLE.owns(17));
        assert!(shards[1].owns(1) && shards[1].owns(4) && !shards[1].owns(0));
    }

    #[test]
    fn parses_i_of_n_and_rejects_the_rest() {
        assert_eq!("2/5".parse::<Shard>().unwrap(), Shard::new(2, 5).unwrap());
        assert_eq!(Shard::new(2, 5).unwrap().to_string(), "2/5");
        for bad in ["0/5", "6/5", "1/0", "2", "a/b", "1/2/3", ""] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains("i/n") || e.contains("1 ≤ i ≤ n"), "{bad}: {e}");
        }
    }

    #[test]
    fn slurm_array_variables_give_the_shard() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Shard::from_slurm(env(&[])).unwrap(), None);
        let zero_based = env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            Shard::from_slurm(zero_based).unwrap(),
            Some(Shard::new(1, 4).unwrap())
        );
        let one_based = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            Shard::from_slurm(one_based).unwrap(),
            Some(Shard::new(4, 4).unwrap())
        );
        let missing = env(&[("SLURM_ARRAY_TASK_ID", "2")]);
        assert!(Shard::from_slurm(missing)
            .unwrap_err()
            .to_string()
            .contains("SLURM_ARRAY_TASK_MIN"));
        let garbage = env(&[
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert!(Shard::from_slurm(garbage)
            .unwrap_err()
            .to_string()
            .contains("SLURM_ARRAY_TASK_ID"));
    }

    #[test]
    fn stages_parse() {
        assert_eq!("train".parse::<Stage>().unwrap(), Stage::Train);
        assert_eq!("repair".parse::<Stage>().unwrap(), Stage::Repair);
        assert_eq!("all".parse::<Stage>().unwrap(), Stage::All);
        let err = "both".parse::<Stage>().unwrap_err().to_string();
        assert_eq!(err, "unknown stage `both` (train, repair or all)");
    }
}
