//! The framework-neutral problem file: a repair problem as one safetensors
//! file that numpy, PyTorch, Keras or `--export-problem` can write, and
//! `xtask repair --problem` and the Python package read.
//!
//! Tensors (the README gives the same schema):
//!
//! | name | dtype | shape | |
//! |---|---|---|---|
//! | `negatives.activations` | F32 or F64 | (N, D) | penultimate activations of I_neg |
//! | `negatives.labels` | any integer | (N) | their true classes |
//! | `positives.activations` | F32 or F64 | (P, D) | of I_pos |
//! | `positives.labels` | any integer | (P) | |
//! | `kernel` *or* `weight` | F32 or F64 | (D, C) Keras *or* (C, D) PyTorch | the last layer |
//! | `bias` | F32 or F64 | (C) | |
//! | `sites` (optional) | any integer | (K, 2) | (i, j) of the weights to search; absent: localise |
//! | `earlier.kernel` *or* `earlier.weight` (optional) | F32 or F64 | as the layer | an earlier checkpoint's layer, for the `history` method |
//!
//! F64 values are rounded to f32 (the search's precision); the layer's name says its
//! layout, so a square layer is never transposed by guess. Every value must be finite,
//! every label a class of the layer and every site inside it; each error names the file
//! and the tensor.

use std::path::{Path, PathBuf};

use repair_core::{DenseLayer, LabelledActivations, Layout, Site, TensorFile};
use repair_fitness::RepairProblem;
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;

use crate::error::{MethodError, Result};
use crate::solve::Sets;

/// A problem file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemFile {
    /// The safetensors file read.
    pub path: PathBuf,
    /// The last layer (Keras layout inside).
    pub layer: DenseLayer,
    /// The layout the file gave it in (the repaired layer is written the same way).
    pub layout: Layout,
    /// I_neg and I_pos.
    pub sets: Sets,
    /// The sites to search, when the file names them.
    pub sites: Option<Vec<Site>>,
    /// An earlier layer (the history method).
    pub earlier: Option<DenseLayer>,
}

/// The safetensors file of `path`: the file itself, or `problem.safetensors` in a folder,
/// or the `.safetensors` beside a `.json` of the same stem.
pub fn problem_tensors_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("problem.safetensors")
    } else if path.extension().is_some_and(|e| e == "json") {
        path.with_extension("safetensors")
    } else {
        path.to_path_buf()
    }
}

/// Reads the problem file at `path` (see [`problem_tensors_path`]).
pub fn read_problem(path: &Path) -> Result<ProblemFile> {
    let path = problem_tensors_path(path);
    let fail = |problem: String| MethodError::File {
        path: path.clone(),
        problem,
    };
    let bytes = std::fs::read(&path).map_err(|e| fail(e.to_string()))?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| fail(format!("not a safetensors file: {e}")))?;
    let read = Reader { file: &file };
    let (layer, layout) = read.layer("").map_err(&fail)?.ok_or_else(|| {
        fail("no layer: want a tensor `kernel` (width, classes) or `weight` (classes, width), and `bias`".into())
    })?;
    let earlier = match read.layer("earlier.").map_err(&fail)? {
        None => None,
        Some((earlier, _)) if (earlier.width, earlier.classes) != (layer.width, layer.classes) => {
            return Err(fail(format!(
                "the earlier layer is {} × {}, the layer {} × {}",
                earlier.width, earlier.classes, layer.width, layer.classes
            )))
        }
        Some((earlier, _)) => Some(earlier),
    };
    let sets = Sets {
        negatives: read.rows("negatives", &layer).map_err(&fail)?,
        positives: read.rows("positives", &layer).map_err(&fail)?,
    };
    let sites = match read.integers("sites").map_err(&fail)? {
        None => None,
        Some((shape, values)) => {
            if shape.len() != 2 || shape[1] != 2 {
                return Err(fail(format!(
                    "sites: shape {shape:?}, want (K, 2) of (i, j)"
                )));
            }
            let sites: Vec<Site> = values
                .chunks_exact(2)
                .map(|p| Site {
                    i: p[0] as usize,
                    j: p[1] as usize,
                })
                .collect();
            if let Some(s) = sites
                .iter()
                .find(|s| s.i >= layer.width || s.j >= layer.classes)
            {
                return Err(fail(format!(
                    "sites: ({}, {}) is outside the {} × {} layer",
                    s.i, s.j, layer.width, layer.classes
                )));
            }
            Some(sites)
        }
    };
    Ok(ProblemFile {
        path: path.clone(),
        layer,
        layout,
        sets,
        sites,
        earlier,
    })
}

/// The bytes of a problem file of `problem` (Keras layout, f32, u32 labels, u64 sites,
/// left out when there are none): what `--export-problem` writes.
pub fn problem_bytes(problem: &RepairProblem) -> Result<Vec<u8>> {
    let (d, c) = (problem.layer.width, problem.layer.classes);
    let sites: Vec<u64> = problem
        .sites
        .iter()
        .flat_map(|s| [s.i as u64, s.j as u64])
        .collect();
    let mut t = TensorFile::default()
        .rows("negatives", &problem.negatives, d)
        .rows("positives", &problem.positives, d)
        .f32s("kernel", vec![d, c], &problem.layer.kernel)
        .f32s("bias", vec![c], &problem.layer.bias);
    // No sites: the reader localises (a problem saved before FL).
    if !sites.is_empty() {
        t = t.u64s("sites", vec![problem.sites.len(), 2], &sites);
    }
    t.bytes().map_err(invalid_tensors)
}

/// The bytes of a layer file: `kernel` or `weight` (by `layout`) and `bias`, f32 — the
/// repaired last layer, to load back into the user's model.
pub fn layer_bytes(layer: &DenseLayer, layout: Layout) -> Result<Vec<u8>> {
    let shape = layout.shape(layer.width, layer.classes);
    TensorFile::default()
        .f32s(layout.tensor_name(), shape.to_vec(), &layout.matrix(layer))
        .f32s("bias", vec![layer.classes], &layer.bias)
        .bytes()
        .map_err(invalid_tensors)
}

/// A tensor whose shape does not fit its values (a layer or set inconsistent with itself).
fn invalid_tensors(e: safetensors::SafeTensorError) -> MethodError {
    MethodError::Invalid(e.to_string())
}

/// A tensor's shape and values.
type Tensor<T> = (Vec<usize>, Vec<T>);

/// Typed reads of a problem file's tensors; errors name the tensor.
struct Reader<'a> {
    file: &'a SafeTensors<'a>,
}

impl Reader<'_> {
    /// The tensor `name`'s shape and values as f32 (F32, or F64 rounded), `None` if
    /// absent; a non-finite value is an error naming its index.
    fn floats(&self, name: &str) -> std::result::Result<Option<Tensor<f32>>, String> {
        let Ok(view) = self.file.tensor(name) else {
            return Ok(None);
        };
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect(),
            Dtype::F64 => data
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                .collect(),
            other => return Err(format!("{name} is {other:?}, want F32 or F64")),
        };
        if let Some(at) = values.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "{name}[{at}] is {} (not a finite number)",
                values[at]
            ));
        }
        Ok(Some((view.shape().to_vec(), values)))
    }

    /// The tensor `name` as non-negative integers (any integer dtype), `None` if absent.
    fn integers(&self, name: &str) -> std::result::Result<Option<Tensor<u64>>, String> {
        let Ok(view) = self.file.tensor(name) else {
            return Ok(None);
        };
        let data = view.data();
        let signed: Vec<i128> = match view.dtype() {
            Dtype::U8 => data.iter().map(|&b| i128::from(b)).collect(),
            Dtype::I8 => data.iter().map(|&b| i128::from(b as i8)).collect(),
            Dtype::U16 | Dtype::I16 => ints::<2>(data, view.dtype() == Dtype::I16),
            Dtype::U32 | Dtype::I32 => ints::<4>(data, view.dtype() == Dtype::I32),
            Dtype::U64 | Dtype::I64 => ints::<8>(data, view.dtype() == Dtype::I64),
            other => return Err(format!("{name} is {other:?}, want an integer dtype")),
        };
        if let Some(at) = signed
            .iter()
            .position(|&v| v < 0 || v > i128::from(u32::MAX))
        {
            return Err(format!(
                "{name}[{at}] is {}, not a class or index",
                signed[at]
            ));
        }
        Ok(Some((
            view.shape().to_vec(),
            signed.into_iter().map(|v| v as u64).collect(),
        )))
    }

    /// The layer `{prefix}kernel`/`{prefix}weight` and `{prefix}bias`, `None` if neither
    /// matrix is there.
    fn layer(&self, prefix: &str) -> std::result::Result<Option<(DenseLayer, Layout)>, String> {
        let keras = self.floats(&format!("{prefix}kernel"))?;
        let torch = self.floats(&format!("{prefix}weight"))?;
        let (layout, (shape, matrix)) = match (keras, torch) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                return Err(format!(
                    "both {prefix}kernel and {prefix}weight: give the layer once, in one layout"
                ))
            }
            (Some(k), None) => (Layout::Keras, k),
            (None, Some(w)) => (Layout::Torch, w),
        };
        let name = format!("{prefix}{}", layout.tensor_name());
        let [rows, columns] = shape[..] else {
            return Err(format!("{name}: shape {shape:?}, want a matrix"));
        };
        let bias_name = format!("{prefix}bias");
        let Some((bias_shape, bias)) = self.floats(&bias_name)? else {
            return Err(format!("no {bias_name} beside {name}"));
        };
        if bias_shape.len() != 1 {
            return Err(format!("{bias_name}: shape {bias_shape:?}, want a vector"));
        }
        let layer = layout
            .layer(&matrix, [rows, columns], bias)
            .map_err(|e| format!("{name}: {e}"))?;
        Ok(Some((layer, layout)))
    }

    /// The set `name` (`name.activations`, `name.labels`) of `layer`'s width and classes.
    fn rows(
        &self,
        name: &str,
        layer: &DenseLayer,
    ) -> std::result::Result<LabelledActivations, String> {
        let a_name = format!("{name}.activations");
        let l_name = format!("{name}.labels");
        let (a_shape, activations) = self
            .floats(&a_name)?
            .ok_or_else(|| format!("no tensor {a_name}"))?;
        let (l_shape, labels) = self
            .integers(&l_name)?
            .ok_or_else(|| format!("no tensor {l_name}"))?;
        if a_shape.len() != 2 || a_shape[1] != layer.width {
            return Err(format!(
                "{a_name}: shape {a_shape:?}, want (rows, {}) for the layer's width {}",
                layer.width, layer.width
            ));
        }
        if l_shape != [a_shape[0]] {
            return Err(format!(
                "{l_name}: shape {l_shape:?}, want ({}) for the {} rows of {a_name}",
                a_shape[0], a_shape[0]
            ));
        }
        if let Some(at) = labels.iter().position(|&l| l >= layer.classes as u64) {
            return Err(format!(
                "{l_name}[{at}] is {}, but the layer has {} classes",
                labels[at], layer.classes
            ));
        }
        Ok(LabelledActivations {
            activations,
            labels: labels.into_iter().map(|l| l as u32).collect(),
        })
    }
}

/// Little-endian integers of `N` bytes, signed or not, widened.
fn ints<const N: usize>(data: &[u8], signed: bool) -> Vec<i128> {
    data.chunks_exact(N)
        .map(|b| {
            let mut wide = [0u8; 16];
            wide[..N].copy_from_slice(b);
            if signed && b[N - 1] & 0x80 != 0 {
                wide[N..].fill(0xff);
            }
            i128::from_le_bytes(wide)
        })
        .collect()
}

#[cfg(test)]
#[path = "../../../fixtures/mutations.rs"]
mod mutations;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use repair_fitness::SyntheticSpec;

    proptest! {
        #![proptest_config(super::mutations::config())]

        /// A damaged problem file reads as a problem of finite values and labels of the
        /// layer, or an error naming the file; never a panic.
        #[test]
        fn a_damaged_problem_file_never_panics(m in super::mutations::mutations()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("problem.safetensors");
            let bytes = super::mutations::apply(&problem_bytes(&problem()).unwrap(), &m);
            std::fs::write(&path, bytes).unwrap();
            match read_problem(&path) {
                Err(e) => super::mutations::names_file(&e.to_string(), &path)?,
                Ok(read) => {
                    for set in [&read.sets.negatives, &read.sets.positives] {
                        prop_assert!(set.activations.iter().all(|v| v.is_finite()));
                        prop_assert!(set.labels.iter().all(|&l| (l as usize) < read.layer.classes));
                    }
                }
            }
        }
    }

    fn problem() -> RepairProblem {
        RepairProblem::synthetic(SyntheticSpec {
            width: 6,
            classes: 3,
            negatives: 4,
            positives: 5,
            sites: 2,
            columns: 2,
            seed: 1,
        })
    }

    /// A tensor to write: name, dtype, shape, little-endian bytes.
    type Raw = (&'static str, Dtype, Vec<usize>, Vec<u8>);
    /// A change to a good file and what the error must then say.
    type Case = (Box<dyn Fn(&mut Vec<Raw>)>, &'static str);

    /// A safetensors file of `tensors`.
    fn file_of(tensors: &[Raw]) -> Vec<u8> {
        let mut t = TensorFile::default();
        for (name, dtype, shape, bytes) in tensors {
            t = t.push(name, *dtype, shape.clone(), bytes.clone());
        }
        t.bytes().unwrap()
    }

    fn f64s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|&x| f64::from(x).to_le_bytes()).collect()
    }
    fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
    fn i64s(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|&x| i64::from(x).to_le_bytes()).collect()
    }

    /// The problem as a PyTorch user writes it: `weight` (C, D), f64 activations, i64
    /// labels, no sites.
    fn torch_file(p: &RepairProblem) -> Vec<Raw> {
        let (d, c) = (p.layer.width, p.layer.classes);
        vec![
            (
                "negatives.activations",
                Dtype::F64,
                vec![4, d],
                f64s(&p.negatives.activations),
            ),
            (
                "negatives.labels",
                Dtype::I64,
                vec![4],
                i64s(&p.negatives.labels),
            ),
            (
                "positives.activations",
                Dtype::F32,
                vec![5, d],
                f32s(&p.positives.activations),
            ),
            (
                "positives.labels",
                Dtype::I64,
                vec![5],
                i64s(&p.positives.labels),
            ),
            (
                "weight",
                Dtype::F32,
                vec![c, d],
                f32s(&Layout::Torch.matrix(&p.layer)),
            ),
            ("bias", Dtype::F32, vec![c], f32s(&p.layer.bias)),
        ]
    }

    #[test]
    fn an_exported_problem_and_a_torch_users_file_read_as_the_same_problem() {
        let dir = tempfile::tempdir().unwrap();
        let p = problem();
        let exported = dir.path().join("problem.safetensors");
        std::fs::write(&exported, problem_bytes(&p).unwrap()).unwrap();
        for path in [
            exported.clone(),
            dir.path().to_path_buf(),
            dir.path().join("problem.json"),
        ] {
            let read = read_problem(&path).unwrap();
            assert_eq!(read.path, exported);
            assert_eq!((read.layout, &read.layer), (Layout::Keras, &p.layer));
            assert_eq!(read.sites.as_ref(), Some(&p.sites));
            assert_eq!(
                (&read.sets.negatives, &read.sets.positives),
                (&p.negatives, &p.positives)
            );
        }
        let torch = dir.path().join("torch.safetensors");
        std::fs::write(&torch, file_of(&torch_file(&p))).unwrap();
        let read = read_problem(&torch).unwrap();
        assert_eq!(
            (read.layout, &read.layer, read.sites),
            (Layout::Torch, &p.layer, None)
        );
        assert_eq!(read.sets.negatives, p.negatives);
        // The repaired layer goes back in the user's layout.
        let back = SafeTensors::deserialize(&layer_bytes(&p.layer, Layout::Torch).unwrap())
            .unwrap()
            .tensor("weight")
            .unwrap()
            .shape()
            .to_vec();
        assert_eq!(back, [3, 6]);
    }

    #[test]
    fn a_problem_with_no_positive_rows_reads_and_repairs_on_its_negatives() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = problem();
        p.positives = LabelledActivations {
            activations: Vec::new(),
            labels: Vec::new(),
        };
        let path = dir.path().join("problem.safetensors");
        std::fs::write(&path, problem_bytes(&p).unwrap()).unwrap();
        let read = read_problem(&path).unwrap();
        assert_eq!(read.sets.positives.len(), 0);
        let settings = crate::RepairSettings::study(0, 1);
        let solved = crate::solve(
            &read.layer,
            read.sets,
            read.sites,
            &settings,
            None,
            &repair_core::NoProgress,
        )
        .unwrap();
        assert_eq!(solved.score.fitness_after.n_intact, 0);
        assert!(solved.score.fitness_after.fitness.is_finite());
    }

    #[test]
    fn each_bad_tensor_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.safetensors");
        let p = problem();
        let good = torch_file(&p);
        let cases: Vec<Case> = vec![
            (
                Box::new(|t| t[1].3 = i64s(&[0, 1, 3, 0])),
                "negatives.labels[2] is 3, but the layer has 3 classes",
            ),
            (
                Box::new(|t| t[1].3[8..16].copy_from_slice(&(-1i64).to_le_bytes())),
                "negatives.labels[1] is -1",
            ),
            (
                Box::new(|t| t[0].3[8..16].copy_from_slice(&f64::NAN.to_le_bytes())),
                "negatives.activations[1] is NaN",
            ),
            (
                Box::new(|t| t[4].2 = vec![6, 3]),
                "bias of 3 values for a [6, 3] weight (torch layout: 6 classes)",
            ),
            (
                Box::new(|t| {
                    t[3].2 = vec![4];
                    t[3].3.truncate(32);
                }),
                "positives.labels: shape [4], want (5)",
            ),
            (
                Box::new(|t| {
                    t.remove(5);
                }),
                "no bias beside weight",
            ),
            (
                Box::new(|t| {
                    t.remove(4);
                }),
                "no layer",
            ),
            (
                Box::new(|t| {
                    t.remove(2);
                }),
                "no tensor positives.activations",
            ),
            (
                Box::new(|t| t[1].1 = Dtype::F64),
                "negatives.labels is F64, want an integer dtype",
            ),
            (
                Box::new(|t| t.push(("kernel", Dtype::F32, vec![6, 3], f32s(&[0.0; 18])))),
                "both kernel and weight",
            ),
            (
                Box::new(|t| t.push(("sites", Dtype::I64, vec![1, 2], i64s(&[6, 0])))),
                "sites: (6, 0) is outside the 6 × 3 layer",
            ),
            (
                Box::new(|t| t.push(("sites", Dtype::I64, vec![2], i64s(&[1, 0])))),
                "sites: shape [2], want (K, 2)",
            ),
            (
                // A layer of width 0 (and sets of zero-width rows): refused, not searched.
                Box::new(|t| {
                    for k in [0, 2, 4] {
                        let rows = t[k].2[0];
                        t[k].2 = vec![rows, 0];
                        t[k].3.clear();
                    }
                }),
                "the layer's width is 0, but must be at least 1",
            ),
            (
                Box::new(|t| {
                    t[1].1 = Dtype::U64;
                    t[1].3[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
                }),
                "negatives.labels[1] is 18446744073709551615",
            ),
        ];
        for (change, says) in cases {
            let mut t = good.clone();
            change(&mut t);
            std::fs::write(&path, file_of(&t)).unwrap();
            let e = read_problem(&path).unwrap_err().to_string();
            assert!(
                e.contains("bad.safetensors") && e.contains(says),
                "want `{says}` in {e}"
            );
        }
        std::fs::write(&path, b"not a file").unwrap();
        let e = read_problem(&path).unwrap_err().to_string();
        assert!(e.contains("not a safetensors file"), "{e}");
        let e = read_problem(&dir.path().join("missing.safetensors"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.safetensors"), "{e}");
    }
}
