//! The one safetensors layout of labelled activations, shared by the experiment's
//! activation cache (`RUN/activations/epoch-NNN.safetensors`: sets `repair`, `test`)
//! and an exported search problem (`problem.safetensors`: `negatives`, `positives`,
//! plus the layer and sites): a set `NAME` is `NAME.activations`, f32 (rows, width),
//! and `NAME.labels`, u32 (rows). Plain `safetensors`, no tensor library, so other
//! tools (numpy, PyTorch) read the files as they are. Both are written by
//! [`repair_core::TensorFile`]; this module reads the cache.

use std::path::Path;

use repair_core::LabelledActivations;
use repair_core::TensorFile;
use repair_data::write_atomic;
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;

use crate::error::{file_error, Result};

/// Writes `file` to `path` atomically (the cache's writer, and the tests').
pub fn write_tensors(file: &TensorFile, path: &Path) -> Result<()> {
    let bytes = file.bytes().map_err(|e| file_error(path, e))?;
    write_atomic(path, &bytes)?;
    Ok(())
}

/// Reads the sets `names` of a file written with `TensorFile::rows`, or `None` when
/// it lacks one of them (a cache written before that set was kept), so that the caller
/// can extract it again. Another dtype or shapes that do not agree is an error naming
/// the file and tensor.
pub fn read_rows_if_all(path: &Path, names: &[&str]) -> Result<Option<Vec<LabelledActivations>>> {
    let bytes = std::fs::read(path).map_err(|e| file_error(path, e))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| {
        file_error(
            path,
            format!("{e} (a damaged cache: delete it to extract again)"),
        )
    })?;
    let present = |name: &&str| {
        ["activations", "labels"]
            .iter()
            .all(|part| file.tensor(&format!("{name}.{part}")).is_ok())
    };
    if !names.iter().all(present) {
        return Ok(None);
    }
    read_rows_of(path, &bytes, names).map(Some)
}

fn read_rows_of(path: &Path, bytes: &[u8], names: &[&str]) -> Result<Vec<LabelledActivations>> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| file_error(path, e))?;
    let tensor = |key: &str, dtype: Dtype| {
        let view = file
            .tensor(key)
            .map_err(|_| file_error(path, format!("no tensor {key}")))?;
        if view.dtype() != dtype {
            return Err(file_error(
                path,
                format!("{key} is {:?}, expected {dtype:?}", view.dtype()),
            ));
        }
        Ok((view.shape().to_vec(), view.data().to_vec()))
    };
    let mut sets = Vec::with_capacity(names.len());
    for name in names {
        let (a_shape, a) = tensor(&format!("{name}.activations"), Dtype::F32)?;
        let (l_shape, l) = tensor(&format!("{name}.labels"), Dtype::U32)?;
        if a_shape.len() != 2 || l_shape.len() != 1 || a_shape[0] != l_shape[0] {
            return Err(file_error(
                path,
                format!(
                    "{name}: activations of shape {a_shape:?} do not fit labels of shape {l_shape:?}"
                ),
            ));
        }
        let f32s = a
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")));
        let u32s = l
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
        let activations: Vec<f32> = f32s.collect();
        if let Some(at) = activations.iter().position(|v| !v.is_finite()) {
            return Err(file_error(
                path,
                format!(
                    "{name}.activations[{at}] is {} (a damaged cache: delete it to extract again)",
                    activations[at]
                ),
            ));
        }
        sets.push(LabelledActivations {
            activations,
            labels: u32s.collect(),
        });
    }
    Ok(sets)
}

#[cfg(test)]
#[path = "../../../fixtures/mutations.rs"]
mod mutations;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(super::mutations::config())]

        /// A damaged activation cache reads back as sets of finite
        /// values, as `None` (extract again), or an error naming the file; never a panic.
        #[test]
        fn a_damaged_cache_never_panics(m in super::mutations::mutations()) {
            let dir = tempfile::tempdir().unwrap();
            let good = dir.path().join("good.safetensors");
            let rows = LabelledActivations {
                activations: vec![0.5, -1.0, 2.0, 0.0, 1.5, 3.0],
                labels: vec![3, 1, 0],
            };
            write_tensors(&TensorFile::default().rows("repair", &rows, 2).rows("val", &rows, 2), &good).unwrap();
            let path = dir.path().join("epoch-004.safetensors");
            let bytes = super::mutations::apply(&std::fs::read(&good).unwrap(), &m);
            std::fs::write(&path, bytes).unwrap();
            match read_rows_if_all(&path, &["repair", "val"]) {
                Err(e) => super::mutations::names_file(&e.to_string(), &path)?,
                Ok(None) => {}
                Ok(Some(sets)) => prop_assert!(sets
                    .iter()
                    .all(|s| s.activations.iter().all(|v| v.is_finite()))),
            }
        }
    }

    #[test]
    fn sets_read_back_as_written_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.safetensors");
        let repair = LabelledActivations {
            activations: vec![0.5, -1.0, 2.0, 0.0],
            labels: vec![3, 1],
        };
        let test = LabelledActivations {
            activations: vec![7.0, 8.0],
            labels: vec![0],
        };
        let file = TensorFile::default()
            .rows("repair", &repair, 2)
            .rows("test", &test, 2);
        write_tensors(&file, &path).unwrap();
        assert_eq!(
            read_rows_if_all(&path, &["repair", "test"]).unwrap(),
            Some(vec![repair, test.clone()])
        );
        assert_eq!(read_rows_if_all(&path, &["repair", "val"]).unwrap(), None);
        assert_eq!(
            read_rows_if_all(&path, &["test"]).unwrap(),
            Some(vec![test])
        );
    }
}
