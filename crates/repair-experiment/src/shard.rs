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
    pub fn new(index: usize, count: usize) -> Result<Self, String> {
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "shard {index}/{count}: want i/n with 1 ≤ i ≤ n, e.g. 2/5"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard a Slurm array task is, from `SLURM_ARRAY_TASK_ID`,
    /// `SLURM_ARRAY_TASK_MIN` and `SLURM_ARRAY_TASK_COUNT` (read through `var`, so tests
    /// need not touch the environment). `None` outside an array job.
    pub fn from_slurm(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let Some(id) = var("SLURM_ARRAY_TASK_ID") else {
            return Ok(None);
        };
        let number = |name: &str, value: Option<String>| -> Result<usize, String> {
            let value =
                value.ok_or_else(|| format!("{name} is not set (but SLURM_ARRAY_TASK_ID is)"))?;
            value
                .trim()
                .parse()
                .map_err(|_| format!("{name}={value:?} is not a whole number"))
        };
        let id = number("SLURM_ARRAY_TASK_ID", Some(id))?;
        let min = number("SLURM_ARRAY_TASK_MIN", var("SLURM_ARRAY_TASK_MIN"))?;
        let count = number("SLURM_ARRAY_TASK_COUNT", var("SLURM_ARRAY_TASK_COUNT"))?;
        if id < min {
            return Err(format!(
                "SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"
            ));
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
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parse = |part: Option<&str>| part.and_then(|p| p.trim().parse::<usize>().ok());
        let mut parts = s.split('/');
        match (parse(parts.next()), parse(parts.next()), parts.next()) {
            (Some(i), Some(n), None) => Shard::new(i, n),
            _ => Err(format!("shard {s:?}: want i/n, e.g. 2/5")),
        }
    }
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

impl FromStr for Stage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "train" => Ok(Stage::Train),
            "repair" => Ok(Stage::Repair),
            "all" => Ok(Stage::All),
            other => Err(format!("stage {other:?}: want train, repair or all")),
        }
    }
}

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
            let e = bad.parse::<Shard>().unwrap_err();
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
            .contains("SLURM_ARRAY_TASK_MIN"));
        let garbage = env(&[
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert!(Shard::from_slurm(garbage)
            .unwrap_err()
            .contains("SLURM_ARRAY_TASK_ID"));
    }

    #[test]
    fn stages_parse() {
        assert_eq!("train".parse::<Stage>().unwrap(), Stage::Train);
        assert_eq!("repair".parse::<Stage>().unwrap(), Stage::Repair);
        assert_eq!("all".parse::<Stage>().unwrap(), Stage::All);
        assert!("both".parse::<Stage>().is_err());
    }
}
