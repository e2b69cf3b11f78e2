//! The one writer of the project's safetensors files: problem files, repaired-layer
//! files and the activation cache all hold f32/u32/u64 tensors and labelled rows.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensorError, TensorView};

use crate::activations::LabelledActivations;

/// Tensors to write as one safetensors file (little-endian bytes, as safetensors stores
/// them): the one writer of the project's safetensors files of labelled activations —
/// problem and layer files in repair-method, the experiment's activation cache in
/// repair-pipeline. A set `NAME`
/// is `NAME.activations`, f32 (rows, width), and `NAME.labels`, u32 (rows).
#[derive(Default)]
pub struct TensorFile {
    buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)>,
    metadata: HashMap<String, String>,
}

impl TensorFile {
    /// Adds a tensor of raw little-endian bytes.
    pub fn push(mut self, name: &str, dtype: Dtype, shape: Vec<usize>, bytes: Vec<u8>) -> Self {
        self.buffers.push((name.to_string(), dtype, shape, bytes));
        self
    }

    /// Adds a `key` = `value` pair to the file's metadata (none: the file has no
    /// metadata, as every file before correctness files).
    pub fn metadata(mut self, key: &str, value: &str) -> Self {
        self.metadata.insert(key.to_string(), value.to_string());
        self
    }

    /// Adds a set of rows of `width` values each (`NAME.activations`, `NAME.labels`).
    pub fn rows(self, name: &str, rows: &LabelledActivations, width: usize) -> Self {
        self.f32s(
            &format!("{name}.activations"),
            vec![rows.len(), width],
            &rows.activations,
        )
        .u32s(&format!("{name}.labels"), vec![rows.len()], &rows.labels)
    }

    /// Adds an f32 tensor.
    pub fn f32s(self, name: &str, shape: Vec<usize>, values: &[f32]) -> Self {
        let bytes = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.push(name, Dtype::F32, shape, bytes)
    }

    /// Adds a u32 tensor.
    pub fn u32s(self, name: &str, shape: Vec<usize>, values: &[u32]) -> Self {
        let bytes = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.push(name, Dtype::U32, shape, bytes)
    }

    /// Adds a u64 tensor.
    pub fn u64s(self, name: &str, shape: Vec<usize>, values: &[u64]) -> Self {
        let bytes = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.push(name, Dtype::U64, shape, bytes)
    }

    /// The file's bytes; a shape that does not fit its bytes is an error.
    pub fn bytes(&self) -> Result<Vec<u8>, SafeTensorError> {
        let mut views = HashMap::new();
        for (name, dtype, shape, bytes) in &self.buffers {
            views.insert(name.clone(), TensorView::new(*dtype, shape.clone(), bytes)?);
        }
        let metadata = (!self.metadata.is_empty()).then(|| self.metadata.clone());
        safetensors::serialize(&views, metadata)
    }
}
