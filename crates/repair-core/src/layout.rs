//! How a dense layer's weight matrix is laid out in a file: Keras' `kernel` (this
//! project's own) or PyTorch's `nn.Linear.weight`, and the conversions between the two.
//! Problem files, repaired-layer files and ONNX initialisers all name their layout.

use serde::{Deserialize, Serialize};

use crate::choice::Choice;
use crate::error::ProblemError;
use crate::layer::DenseLayer;

/// How a layer's weight matrix is laid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Keras' `kernel`, (width, classes): W_ij at `i · classes + j` (this project's).
    #[default]
    Keras,
    /// PyTorch's `nn.Linear.weight`, (classes, width).
    Torch,
}

impl Choice for Layout {
    const WHAT: &'static str = "layout";
    const ALL: &'static [Self] = &[Layout::Keras, Layout::Torch];

    fn name(self) -> &'static str {
        match self {
            Layout::Keras => "keras",
            Layout::Torch => "torch",
        }
    }
}

crate::choice_text!(Layout);

impl Layout {
    /// The tensor name of the matrix in this layout.
    pub fn tensor_name(self) -> &'static str {
        match self {
            Layout::Keras => "kernel",
            Layout::Torch => "weight",
        }
    }

    /// The matrix's shape for a layer of `width` inputs and `classes` outputs.
    pub fn shape(self, width: usize, classes: usize) -> [usize; 2] {
        match self {
            Layout::Keras => [width, classes],
            Layout::Torch => [classes, width],
        }
    }

    /// The layer of `matrix` (in this layout, `shape` as given) and `bias`; an error
    /// names what does not fit.
    pub fn layer(
        self,
        matrix: &[f32],
        shape: [usize; 2],
        bias: Vec<f32>,
    ) -> Result<DenseLayer, ProblemError> {
        let (width, classes) = match self {
            Layout::Keras => (shape[0], shape[1]),
            Layout::Torch => (shape[1], shape[0]),
        };
        let misfit = |what, found| ProblemError::LayerShape {
            what,
            found,
            shape,
            tensor: self.tensor_name(),
            layout: self.name(),
            classes,
        };
        if matrix.len() != width * classes {
            return Err(misfit("matrix", matrix.len()));
        }
        if bias.len() != classes {
            return Err(misfit("bias", bias.len()));
        }
        let kernel = match self {
            Layout::Keras => matrix.to_vec(),
            Layout::Torch => transpose(matrix, classes, width),
        };
        DenseLayer::new(width, classes, kernel, bias)
    }

    /// The layer's matrix in this layout (row-major).
    pub fn matrix(self, layer: &DenseLayer) -> Vec<f32> {
        match self {
            Layout::Keras => layer.kernel.clone(),
            Layout::Torch => transpose(&layer.kernel, layer.width, layer.classes),
        }
    }
}

/// `rows × columns` row-major → `columns × rows`.
fn transpose(m: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    let mut out = vec![0.0; m.len()];
    for r in 0..rows {
        for c in 0..columns {
            out[c * rows + r] = m[r * columns + c];
        }
    }
    out
}
