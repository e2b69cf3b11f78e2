//! Seeded parameter initialisation. candle's CPU random numbers come from a thread-local
//! generator that cannot be seeded, so a model built twice would differ. This backend
//! for `VarBuilder` draws every parameter from its own ChaCha8 stream, seeded by the
//! model seed and a hash of the parameter's name: the same seed gives the same weights,
//! whatever the construction order or thread count. The distributions are candle's
//! (= PyTorch's) `Init` hints, computed in `f64` and stored as `f32`.

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::init::{FanInOut, NormalOrUniform};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// A `VarMap` that fills missing variables from seeded streams.
pub struct SeededVarMap {
    vars: VarMap,
    seed: u64,
}

impl SeededVarMap {
    /// Creates variables in `vars` (shared with the model) from `seed`.
    pub fn new(vars: VarMap, seed: u64) -> Self {
        SeededVarMap { vars, seed }
    }

    fn init_values(&self, shape: &Shape, name: &str, init: Init) -> Vec<f32> {
        let n = shape.elem_count();
        let stream = xxhash_rust::xxh3::xxh3_64(name.as_bytes());
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(stream);
        let uniform = |rng: &mut ChaCha8Rng, lo: f64, up: f64| -> Vec<f32> {
            (0..n).map(|_| rng.random_range(lo..up) as f32).collect()
        };
        let normal = |rng: &mut ChaCha8Rng, mean: f64, std: f64| -> Vec<f32> {
            let d = Normal::new(mean, std).expect("finite standard deviation");
            (0..n).map(|_| d.sample(rng) as f32).collect()
        };
        match init {
            Init::Const(c) => vec![c as f32; n],
            Init::Uniform { lo, up } => uniform(&mut rng, lo, up),
            Init::Randn { mean, stdev } => normal(&mut rng, mean, stdev),
            Init::Kaiming {
                dist,
                fan,
                non_linearity,
            } => {
                let fan = match fan {
                    FanInOut::FanIn => FanInOut::FanIn.for_shape(shape),
                    FanInOut::FanOut => FanInOut::FanOut.for_shape(shape),
                };
                let std = non_linearity.gain() / (fan as f64).sqrt();
                match dist {
                    NormalOrUniform::Uniform => {
                        let bound = 3f64.sqrt() * std;
                        uniform(&mut rng, -bound, bound)
                    }
                    NormalOrUniform::Normal => normal(&mut rng, 0.0, std),
                }
            }
        }
    }
}

impl SimpleBackend for SeededVarMap {
    fn get(
        &self,
        shape: Shape,
        name: &str,
        init: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let mut data = self.vars.data().lock().expect("var map lock");
        if let Some(var) = data.get(name) {
            if var.shape() != &shape {
                candle_core::bail!(
                    "parameter `{name}` exists with shape {:?}, asked for {:?}",
                    var.shape(),
                    shape
                );
            }
            return Ok(var.as_tensor().clone());
        }
        let values = self.init_values(&shape, name, init);
        let tensor = Tensor::from_vec(values, shape, dev)?.to_dtype(dtype)?;
        let var = Var::from_tensor(&tensor)?;
        let out = var.as_tensor().clone();
        data.insert(name.to_string(), var);
        Ok(out)
    }

    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let data = self.vars.data().lock().expect("var map lock");
        match data.get(name) {
            Some(v) => Ok(v.as_tensor().clone()),
            None => candle_core::bail!("no parameter `{name}`"),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.vars
            .data()
            .lock()
            .expect("var map lock")
            .contains_key(name)
    }
}
