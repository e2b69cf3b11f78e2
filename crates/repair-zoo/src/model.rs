//! [`Model`]: a backbone (everything up to the penultimate activations) plus a dense
//! head, with all parameters in one `VarMap`; built by name with [`build_model`].

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{Linear, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

use repair_core::{Arch, DenseLayer};

use crate::backbone::Backbone;
use crate::classifier::Classifier;
use crate::conv::ConvBackend;
use crate::error::{Result, ZooError};
use crate::seeded::SeededVarMap;

/// What to build: architecture, input shape, class count, and the seed of the
/// initial weights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// The architecture (serialised by its [`Arch::name`]).
    pub arch: Arch,
    /// Input (channels, height, width).
    pub input: (usize, usize, usize),
    /// Number of classes.
    pub num_classes: usize,
    /// Seed of the initial weights.
    pub seed: u64,
}

/// A zoo model: backbone + last dense layer (`head`), parameters in one `VarMap`.
pub struct Model {
    spec: ModelSpec,
    vars: VarMap,
    backbone: Box<dyn Backbone>,
    head: Linear,
    head_vars: (Var, Var),
    /// The head's prefix in the var map (`head`, DenseNet's `classifier`).
    head_name: &'static str,
    device: Device,
}

/// How a model is built beyond what it is ([`ModelSpec`]): choices that change speed,
/// not the function computed (to rounding).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildOptions {
    /// The CPU convolution (CUDA always runs candle's).
    pub conv: ConvBackend,
}

/// Builds the model `spec.arch` on `device` with seeded initial weights and the default
/// [`BuildOptions`].
pub fn build_model(spec: &ModelSpec, device: &Device) -> Result<Model> {
    build_model_with(spec, device, &BuildOptions::default())
}

/// [`build_model`] with explicit build options.
pub fn build_model_with(
    spec: &ModelSpec,
    device: &Device,
    options: &BuildOptions,
) -> Result<Model> {
    let conv = options.conv;
    let unsupported = |problem: String| ZooError::Unsupported {
        model: spec.arch.name().to_string(),
        problem,
    };
    if spec.num_classes < 2 {
        return Err(unsupported(format!(
            "needs at least 2 classes, got {}",
            spec.num_classes
        )));
    }
    let (c, h, w) = spec.input;
    let vars = VarMap::new();
    let backend = SeededVarMap::new(vars.clone(), spec.seed);
    let vb = VarBuilder::from_backend(Box::new(backend), DType::F32, device.clone());
    let (backbone, width): (Box<dyn Backbone>, usize) = match spec.arch {
        Arch::CnnS | Arch::CnnM => {
            if h < 8 || w < 8 {
                return Err(unsupported(format!("input {h}×{w} is smaller than 8×8")));
            }
            let widths = if spec.arch == Arch::CnnS {
                crate::cnn::CNN_S
            } else {
                crate::cnn::CNN_M
            };
            (
                Box::new(crate::cnn::SmallCnn::new(
                    spec.input,
                    widths,
                    conv,
                    vb.clone(),
                )?),
                widths.dense,
            )
        }
        Arch::Vgg16 => {
            if h < 32 || w < 32 || h % 32 != 0 || w % 32 != 0 {
                return Err(unsupported(format!(
                    "input {h}×{w}: sides must be multiples of 32"
                )));
            }
            (
                Box::new(crate::vgg::Vgg16::new(spec.input, conv, vb.clone())?),
                4096,
            )
        }
        Arch::Densenet121 => {
            if crate::densenet::final_side(h).is_none() || crate::densenet::final_side(w).is_none()
            {
                return Err(unsupported(format!(
                    "input {h}×{w} is too small; sides must be at least 32 (resize the images: `input_side` in an experiment, `--input-side` in `xtask train`)"
                )));
            }
            (
                Box::new(crate::densenet::DenseNet121::new(c, conv, vb.clone())?),
                1024,
            )
        }
    };
    let head_name = if spec.arch == Arch::Densenet121 {
        "classifier"
    } else {
        "head"
    };
    let head = candle_nn::linear(width, spec.num_classes, vb.pp(head_name))?;
    let var = |suffix: &str| -> Var {
        vars.data().lock().expect("var map lock")[&format!("{head_name}.{suffix}")].clone()
    };
    let head_vars = (var("weight"), var("bias"));
    Ok(Model {
        spec: spec.clone(),
        vars,
        backbone,
        head,
        head_vars,
        head_name,
        device: device.clone(),
    })
}

impl Model {
    /// What this model was built from.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// All parameters and batch-norm statistics.
    pub fn vars(&self) -> &VarMap {
        &self.vars
    }

    /// Number of trainable parameters.
    pub fn parameter_count(&self) -> usize {
        self.trainable_vars()
            .iter()
            .map(|(_, v)| v.elem_count())
            .sum()
    }

    /// Loads the conv base of an ImageNet VGG16 from safetensors with torchvision's
    /// names (`features.0.weight` … `features.28.bias`); the dense layers keep their
    /// seeded initialisation, as in the study's fine-tuning.
    pub fn load_pretrained_vgg16(&self, path: &Path) -> Result<()> {
        if self.spec.arch != Arch::Vgg16 {
            return Err(ZooError::Unsupported {
                model: self.spec.arch.name().to_string(),
                problem: "only vgg16 loads ImageNet VGG16 weights".into(),
            });
        }
        let file = read_safetensors(path, &self.device)?;
        let data = self.vars.data().lock().expect("var map lock");
        for (index, _, _) in crate::vgg::conv_layers(self.spec.input.0) {
            for suffix in ["weight", "bias"] {
                let name = format!("features.{index}.{suffix}");
                set_from(path, &file, &name, &data[&name])?;
            }
        }
        Ok(())
    }
}

fn read_safetensors(path: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    candle_core::safetensors::load(path, device).map_err(|e| ZooError::Weights {
        path: path.to_path_buf(),
        problem: format!("not a readable safetensors file: {e}"),
    })
}

/// Copies tensor `name` of a loaded file into `var`, checking presence and shape.
fn set_from(path: &Path, file: &HashMap<String, Tensor>, name: &str, var: &Var) -> Result<()> {
    let weights_error = |problem: String| ZooError::Weights {
        path: path.to_path_buf(),
        problem,
    };
    let tensor = file
        .get(name)
        .ok_or_else(|| weights_error(format!("tensor `{name}` is missing")))?;
    if tensor.shape() != var.shape() {
        return Err(weights_error(format!(
            "tensor `{name}` has shape {:?}, the model needs {:?}",
            tensor.dims(),
            var.dims()
        )));
    }
    // A NaN or infinite weight makes every later number meaningless (a repair of such
    // a checkpoint once reported "class accuracy 0.0 → 1.0"): refuse it here, where the
    // file and the tensor are known. |t| ≤ f32::MAX exactly where t is finite.
    let tensor = tensor.to_dtype(DType::F32)?;
    let finite = tensor
        .abs()?
        .le(f32::MAX)?
        .to_dtype(DType::F32)?
        .sum_all()?
        .to_scalar::<f32>()? as usize;
    let nonfinite = tensor.elem_count() - finite;
    if nonfinite != 0 {
        return Err(weights_error(format!(
            "tensor `{name}` has {nonfinite} NaN or infinite values"
        )));
    }
    var.set(&tensor.to_dtype(var.dtype())?)?;
    Ok(())
}

impl Classifier for Model {
    fn name(&self) -> &str {
        self.spec.arch.name()
    }

    fn num_classes(&self) -> usize {
        self.spec.num_classes
    }

    fn logits(&self, images: &Tensor, train: bool) -> Result<Tensor> {
        Ok(self.head.forward(&self.penultimate(images, train)?)?)
    }

    fn penultimate(&self, images: &Tensor, train: bool) -> Result<Tensor> {
        Ok(self.backbone.features(images, train)?)
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn trainable_vars(&self) -> Vec<(String, Var)> {
        let data = self.vars.data().lock().expect("var map lock");
        let mut vars: Vec<(String, Var)> = data
            .iter()
            .filter(|(name, _)| !name.ends_with("running_mean") && !name.ends_with("running_var"))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    }

    fn last_layer(&self) -> Result<DenseLayer> {
        let weight = self.head_vars.0.as_tensor();
        let (classes, width) = weight.dims2()?;
        let kernel = weight
            .to_dtype(DType::F32)?
            .t()?
            .contiguous()?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let bias = self
            .head_vars
            .1
            .as_tensor()
            .to_dtype(DType::F32)?
            .to_vec1::<f32>()?;
        Ok(DenseLayer {
            width,
            classes,
            kernel,
            bias,
        })
    }

    fn set_last_layer(&self, layer: &DenseLayer) -> Result<()> {
        let (weight, bias) = self.head_tensors(layer)?;
        self.head_vars.0.set(&weight)?;
        self.head_vars.1.set(&bias)?;
        Ok(())
    }

    fn save_with_last_layer(&self, layer: &DenseLayer, path: &Path) -> Result<()> {
        let (weight, bias) = self.head_tensors(layer)?;
        let mut tensors: HashMap<String, Tensor> = self
            .vars
            .data()
            .lock()
            .expect("var map lock")
            .iter()
            .map(|(name, var)| (name.clone(), var.as_tensor().clone()))
            .collect();
        tensors.insert(format!("{}.weight", self.head_name), weight);
        tensors.insert(format!("{}.bias", self.head_name), bias);
        repair_core::write_atomic_with(path, |tmp| {
            candle_core::safetensors::save(&tensors, tmp).map_err(std::io::Error::other)
        })
        .map_err(|e| ZooError::Weights {
            path: path.to_path_buf(),
            problem: e.to_string(),
        })
    }

    fn save(&self, path: &Path) -> Result<()> {
        repair_core::write_atomic_with(path, |tmp| {
            self.vars.save(tmp).map_err(std::io::Error::other)
        })
        .map_err(|e| ZooError::Weights {
            path: path.to_path_buf(),
            problem: e.to_string(),
        })
    }

    fn load(&self, path: &Path) -> Result<()> {
        let file = read_safetensors(path, &self.device)?;
        let data = self.vars.data().lock().expect("var map lock");
        let mut names: Vec<&String> = data.keys().collect();
        names.sort();
        for name in names {
            set_from(path, &file, name, &data[name])?;
        }
        Ok(())
    }
}

impl Model {
    /// `layer` as the head's (weight, bias) tensors, in candle's layout and the head's
    /// dtype, refused unless it has the head's width and classes.
    fn head_tensors(&self, layer: &DenseLayer) -> Result<(Tensor, Tensor)> {
        let (classes, width) = self.head_vars.0.as_tensor().dims2()?;
        let found = (
            layer.width,
            layer.classes,
            layer.kernel.len(),
            layer.bias.len(),
        );
        if found != (width, classes, width * classes, classes) {
            return Err(ZooError::Unsupported {
                model: self.spec.arch.name().to_string(),
                problem: format!(
                    "the last layer must be {width} × {classes} (Keras layout), got {} × {} \
                     with {} kernel and {} bias values",
                    found.0, found.1, found.2, found.3
                ),
            });
        }
        let dtype = self.head_vars.0.dtype();
        let kernel = Tensor::from_slice(&layer.kernel, (width, classes), &self.device)?;
        let weight = kernel.t()?.contiguous()?.to_dtype(dtype)?;
        let bias = Tensor::from_slice(&layer.bias, classes, &self.device)?.to_dtype(dtype)?;
        Ok((weight, bias))
    }
}
