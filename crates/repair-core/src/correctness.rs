//! Per-image correctness of a base model and its repair: one bit per image of a set
//! (the test set, the selection set), so that an evaluation can score any subset of the
//! images again — a cross-fitted oracle on halves of the test set, a bootstrap over test
//! images — without the model. Accuracies alone cannot be split that way.
//!
//! The file, `correct.safetensors` in a repair unit's folder, is a safetensors file of
//! `U8` tensors of packed bits, row k at byte k / 8, bit k % 8, least significant first
//! (numpy's `np.packbits(x, bitorder="little")`), the padding bits of the last byte 0:
//!
//! | tensor | bit k is 1 when |
//! |---|---|
//! | `SET.class` | image k is of the unit's class |
//! | `SET.base` | the checkpoint classifies image k right |
//! | `SET.repaired` | the repaired model classifies image k right |
//!
//! for `SET` = `selection` and, when the unit was scored on it, `test`. The metadata
//! holds `format` = [`CORRECTNESS_FORMAT`] and `SET_rows`, the number of images. Every
//! bit vector of a set has that many rows; [`UnitCorrectness::read`] checks all of it.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::Dtype;
use safetensors::SafeTensors;

use crate::tensor_file::TensorFile;

/// The `format` metadata of a correctness file.
pub const CORRECTNESS_FORMAT: &str = "early-repair per-image correctness 1";

/// The file name in a repair unit's folder.
pub const CORRECTNESS_FILE: &str = "correct.safetensors";

/// A correctness file or bit vector that is not one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadCorrectness(pub String);

/// One bit per row, packed least significant bit first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowBits {
    rows: usize,
    bytes: Vec<u8>,
}

impl RowBits {
    /// The bits of `values`, in order.
    pub fn from_bools(values: impl IntoIterator<Item = bool>) -> Self {
        let mut bytes = Vec::new();
        let mut rows = 0;
        for value in values {
            if rows % 8 == 0 {
                bytes.push(0);
            }
            if value {
                bytes[rows / 8] |= 1 << (rows % 8);
            }
            rows += 1;
        }
        RowBits { rows, bytes }
    }

    /// `rows` bits from packed `bytes`, checked: `⌈rows / 8⌉` bytes, padding bits 0.
    pub fn from_bytes(rows: usize, bytes: Vec<u8>) -> Result<Self, BadCorrectness> {
        if bytes.len() != rows.div_ceil(8) {
            return Err(BadCorrectness(format!(
                "{} bytes for {rows} rows: want {}",
                bytes.len(),
                rows.div_ceil(8)
            )));
        }
        if !rows.is_multiple_of(8) && bytes[rows / 8] >> (rows % 8) != 0 {
            return Err(BadCorrectness(format!(
                "padding bits past row {rows} are set"
            )));
        }
        Ok(RowBits { rows, bytes })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Row `k`'s bit.
    pub fn get(&self, k: usize) -> bool {
        assert!(k < self.rows, "row {k} of {}", self.rows);
        self.bytes[k / 8] >> (k % 8) & 1 == 1
    }

    /// The packed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Rows whose bit is 1.
    pub fn count(&self) -> usize {
        self.bytes.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Rows whose bit is 1 here and in `other` (the same number of rows).
    pub fn count_and(&self, other: &RowBits) -> usize {
        assert_eq!(self.rows, other.rows, "bit vectors of different lengths");
        self.bytes
            .iter()
            .zip(&other.bytes)
            .map(|(a, b)| (a & b).count_ones() as usize)
            .sum()
    }
}

/// One set's bits: which images are of the class, and which each model gets right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCorrectness {
    /// Images of the unit's class.
    pub class: RowBits,
    /// Images the checkpoint classifies right.
    pub base: RowBits,
    /// Images the repaired model classifies right.
    pub repaired: RowBits,
}

impl SetCorrectness {
    /// The bits of a set with true `labels`, for `class`, from both models' predictions.
    pub fn of(labels: &[u32], class: u32, base: &[u32], repaired: &[u32]) -> Self {
        let right = |predicted: &[u32]| {
            RowBits::from_bools(labels.iter().zip(predicted).map(|(l, p)| l == p))
        };
        SetCorrectness {
            class: RowBits::from_bools(labels.iter().map(|&l| l == class)),
            base: right(base),
            repaired: right(repaired),
        }
    }

    /// Number of images.
    pub fn rows(&self) -> usize {
        self.class.rows()
    }

    /// (Acc_cls, Acc_total) of the model whose right answers are `right` (`base` or
    /// `repaired`): 0 for a set or class without images, as the reports count them.
    pub fn accuracy(&self, right: &RowBits) -> (f64, f64) {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        (
            ratio(right.count_and(&self.class), self.class.count()),
            ratio(right.count(), self.rows()),
        )
    }
}

/// A repair unit's per-image correctness on the selection set and, when it was scored
/// on it, the test set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitCorrectness {
    /// The test set (none: the unit was not scored on one).
    pub test: Option<SetCorrectness>,
    /// The selection set (the validation split).
    pub selection: SetCorrectness,
}

impl UnitCorrectness {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut file = TensorFile::default().metadata("format", CORRECTNESS_FORMAT);
        let sets = [
            ("test", self.test.as_ref()),
            ("selection", Some(&self.selection)),
        ];
        for (name, set) in sets {
            let Some(set) = set else { continue };
            file = file.metadata(&format!("{name}_rows"), &set.rows().to_string());
            for (part, bits) in [
                ("class", &set.class),
                ("base", &set.base),
                ("repaired", &set.repaired),
            ] {
                file = file.push(
                    &format!("{name}.{part}"),
                    Dtype::U8,
                    vec![bits.bytes().len()],
                    bits.bytes().to_vec(),
                );
            }
        }
        file.bytes().expect("packed bits always fit their shape")
    }

    /// Reads and checks a correctness file; an error names the file and what is wrong.
    pub fn read(path: &Path) -> Result<Self, BadCorrectness> {
        let named = |e: String| BadCorrectness(format!("{}: {e}", path.display()));
        let bytes = std::fs::read(path).map_err(|e| named(e.to_string()))?;
        Self::from_bytes(&bytes).map_err(|e| named(e.0))
    }

    /// [`UnitCorrectness::read`] of bytes in memory.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BadCorrectness> {
        Self::parse(bytes).map_err(BadCorrectness)
    }

    fn parse(bytes: &[u8]) -> Result<Self, String> {
        let (_, header) =
            SafeTensors::read_metadata(bytes).map_err(|e| format!("not safetensors: {e}"))?;
        let metadata: HashMap<String, String> = header.metadata().clone().unwrap_or_default();
        match metadata.get("format") {
            Some(f) if f == CORRECTNESS_FORMAT => {}
            other => {
                return Err(format!(
                    "format {other:?}: want \"{CORRECTNESS_FORMAT}\" (a per-image correctness file)"
                ))
            }
        }
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
        let set = |name: &str| -> Result<Option<SetCorrectness>, String> {
            let Some(rows) = metadata.get(&format!("{name}_rows")) else {
                return Ok(None);
            };
            let rows: usize = rows
                .parse()
                .map_err(|_| format!("{name}_rows = {rows:?} is not a whole number"))?;
            let bits = |part: &str| -> Result<RowBits, String> {
                let tensor_name = format!("{name}.{part}");
                let t = tensors
                    .tensor(&tensor_name)
                    .map_err(|_| format!("no tensor {tensor_name}"))?;
                if t.dtype() != Dtype::U8 || t.shape().len() != 1 {
                    return Err(format!(
                        "{tensor_name}: {:?} {:?}, want U8 of one dimension",
                        t.dtype(),
                        t.shape()
                    ));
                }
                RowBits::from_bytes(rows, t.data().to_vec())
                    .map_err(|e| format!("{tensor_name}: {}", e.0))
            };
            Ok(Some(SetCorrectness {
                class: bits("class")?,
                base: bits("base")?,
                repaired: bits("repaired")?,
            }))
        };
        Ok(UnitCorrectness {
            test: set("test")?,
            selection: set("selection")?.ok_or("no selection set (selection_rows)")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit() -> UnitCorrectness {
        let labels = [0, 1, 2, 1, 1, 0, 2, 2, 1, 0, 1];
        let base = [0, 1, 1, 1, 0, 0, 2, 0, 1, 0, 2];
        let repaired = [0, 1, 1, 1, 1, 0, 2, 0, 1, 1, 1];
        UnitCorrectness {
            test: Some(SetCorrectness::of(&labels, 1, &base, &repaired)),
            selection: SetCorrectness::of(&labels[..3], 1, &base[..3], &repaired[..3]),
        }
    }

    #[test]
    fn bits_count_what_the_predictions_say_and_round_trip_through_the_file() {
        let u = unit();
        let test = u.test.as_ref().unwrap();
        assert_eq!(test.rows(), 11);
        // Class 1: rows 1, 3, 4, 8, 10; base right on 1, 3, 8; repaired on all five.
        assert_eq!(test.class.count(), 5);
        assert_eq!(test.base.count_and(&test.class), 3);
        assert_eq!(test.repaired.count_and(&test.class), 5);
        assert_eq!(test.base.count(), 7);
        assert_eq!(test.repaired.count(), 8);
        assert!(test.class.get(10) && !test.class.get(9));
        assert_eq!(test.accuracy(&test.base), (3.0 / 5.0, 7.0 / 11.0));
        assert_eq!(test.accuracy(&test.repaired), (1.0, 8.0 / 11.0));
        // numpy's packbits(bitorder="little") of the class column.
        assert_eq!(test.class.bytes(), &[0b0001_1010, 0b0000_0101]);
        let back = UnitCorrectness::from_bytes(&u.to_bytes()).unwrap();
        assert_eq!(back, u);
        let no_test = UnitCorrectness { test: None, ..u };
        assert_eq!(
            UnitCorrectness::from_bytes(&no_test.to_bytes()).unwrap(),
            no_test
        );
    }

    #[test]
    fn a_damaged_file_is_refused_saying_what_is_wrong() {
        let bits_error = |rows, bytes| RowBits::from_bytes(rows, bytes).unwrap_err().0;
        assert!(bits_error(9, vec![0xff]).contains("1 bytes for 9 rows: want 2"));
        assert!(bits_error(3, vec![0b1000]).contains("padding bits"));
        let good = unit().to_bytes();
        let e = UnitCorrectness::from_bytes(&good[..good.len() - 1])
            .unwrap_err()
            .0;
        assert!(e.contains("safetensors"), "{e}");
        let other = TensorFile::default()
            .metadata("format", "something else")
            .bytes()
            .unwrap();
        let e = UnitCorrectness::from_bytes(&other).unwrap_err().0;
        assert!(e.contains("format"), "{e}");
        // A count that disagrees with the bytes.
        let u = unit();
        let wrong_rows = TensorFile::default()
            .metadata("format", CORRECTNESS_FORMAT)
            .metadata("selection_rows", "30")
            .push(
                "selection.class",
                Dtype::U8,
                vec![1],
                u.selection.class.bytes().to_vec(),
            )
            .push(
                "selection.base",
                Dtype::U8,
                vec![1],
                u.selection.base.bytes().to_vec(),
            )
            .push(
                "selection.repaired",
                Dtype::U8,
                vec![1],
                u.selection.repaired.bytes().to_vec(),
            )
            .bytes()
            .unwrap();
        let e = UnitCorrectness::from_bytes(&wrong_rows).unwrap_err().0;
        assert!(e.contains("selection.class: 1 bytes for 30 rows"), "{e}");
    }
}
