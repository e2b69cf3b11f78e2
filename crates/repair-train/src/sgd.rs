//! SGD with momentum, PyTorch semantics (`torch.optim.SGD`, dampening 0, no Nesterov,
//! no weight decay):
//!
//! ```text
//! v ← μ·v + g        (v starts at 0, so the first step is v = g)
//! p ← p − lr·v
//! ```
//!
//! Keras' SGD (the study's framework) keeps `v ← μ·v − lr·g; p ← p + v` instead. The
//! two agree while the learning rate is constant; when the rate drops, Keras' velocity
//! still carries steps taken at the old rate for a few iterations, PyTorch's rescales
//! at once. candle-nn's own `SGD` has no momentum, hence this type.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, InplaceOp2, Layout, Tensor, Var};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Learning rate and momentum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SgdConfig {
    /// Learning rate (the paper: 1e-2).
    pub lr: f64,
    /// Momentum μ (the paper: 0.9).
    pub momentum: f64,
}

/// Momentum SGD over named variables; its velocity can be saved and restored so a
/// resumed training continues exactly.
pub struct SgdMomentum {
    vars: Vec<(String, Var)>,
    velocity: Vec<Option<Tensor>>,
    config: SgdConfig,
}

impl SgdMomentum {
    /// Optimises `vars` (name, variable); names key the saved velocity.
    pub fn new(vars: Vec<(String, Var)>, config: SgdConfig) -> Self {
        let velocity = vec![None; vars.len()];
        SgdMomentum {
            vars,
            velocity,
            config,
        }
    }

    /// One update from the gradients of a backward pass. Variables without a gradient
    /// are left alone (and keep their velocity).
    pub fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        let (lr, momentum) = (self.config.lr, self.config.momentum);
        for ((_, var), velocity) in self.vars.iter().zip(self.velocity.iter_mut()) {
            let Some(g) = grads.get(var) else { continue };
            // Detached: otherwise each velocity keeps the op graph of the previous one
            // and of this batch's backward pass alive, and memory grows every step.
            let g = g.detach();
            // The fused update reads and writes flat slices: CPU, f32, contiguous (the
            // velocity always is: it starts as a contiguous copy, then stays in place).
            let fused = var.device().is_cpu()
                && var.dtype() == candle_core::DType::F32
                && g.is_contiguous();
            match velocity.take() {
                Some(v) if momentum != 0.0 && fused => {
                    // In place, one pass each and no allocation (VGG16: 17 M weights):
                    // the same f32 arithmetic as the tensor expressions below.
                    v.inplace_op2(
                        &g,
                        &Axpby {
                            a: momentum as f32,
                            b: 1.0,
                        },
                    )?;
                    var.as_tensor().inplace_op2(
                        &v,
                        &Axpby {
                            a: 1.0,
                            b: -lr as f32,
                        },
                    )?;
                    *velocity = Some(v);
                }
                v => {
                    let v = match v {
                        Some(v) if momentum != 0.0 => ((v * momentum)? + g)?,
                        // A contiguous copy: the first velocity must not share the
                        // gradient's storage, and later steps update it in place.
                        _ => g.contiguous()?.copy()?,
                    }
                    .detach();
                    var.set(&(var.as_tensor() - (&v * lr)?)?)?;
                    *velocity = Some(v);
                }
            }
        }
        Ok(())
    }

    /// `loss.backward()` then [`SgdMomentum::step`].
    pub fn backward_step(&mut self, loss: &Tensor) -> candle_core::Result<()> {
        let grads = loss.backward()?;
        self.step(&grads)
    }

    /// Sets the learning rate (the schedule calls this at each epoch start).
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    /// The velocity of every variable that has one, by variable name.
    pub fn velocity(&self) -> HashMap<String, Tensor> {
        self.vars
            .iter()
            .zip(&self.velocity)
            .filter_map(|((name, _), v)| {
                v.as_ref().map(|v| (format!("velocity.{name}"), v.clone()))
            })
            .collect()
    }

    /// Restores velocities saved by [`SgdMomentum::velocity`]; variables absent from
    /// `saved` start again from zero velocity.
    pub fn set_velocity(&mut self, saved: &HashMap<String, Tensor>) -> candle_core::Result<()> {
        for ((name, var), velocity) in self.vars.iter().zip(self.velocity.iter_mut()) {
            *velocity = match saved.get(&format!("velocity.{name}")) {
                Some(v) if v.shape() == var.shape() => Some(v.to_device(var.device())?),
                Some(v) => candle_core::bail!(
                    "saved velocity of `{name}` has shape {:?}, the parameter {:?}",
                    v.dims(),
                    var.dims()
                ),
                None => None,
            };
        }
        Ok(())
    }
}

/// `x ← a·x + b·y` in place on contiguous CPU `f32` tensors. With `b = 1` or `a = 1` it
/// rounds exactly as `x·a + y` and `x − y·lr` do, so fused and tensor steps agree.
struct Axpby {
    a: f32,
    b: f32,
}

impl InplaceOp2 for Axpby {
    fn name(&self) -> &'static str {
        "sgd-axpby"
    }

    fn cpu_fwd(
        &self,
        x: &mut CpuStorage,
        lx: &Layout,
        y: &CpuStorage,
        ly: &Layout,
    ) -> candle_core::Result<()> {
        let (CpuStorage::F32(x), CpuStorage::F32(y)) = (x, y) else {
            candle_core::bail!("sgd: the fused update takes f32 tensors");
        };
        let (Some((x0, x1)), Some((y0, y1))) = (lx.contiguous_offsets(), ly.contiguous_offsets())
        else {
            candle_core::bail!("sgd: the fused update takes contiguous tensors");
        };
        if x1 - x0 != y1 - y0 {
            candle_core::bail!("sgd: {} values updated from {}", x1 - x0, y1 - y0);
        }
        let (a, b) = (self.a, self.b);
        x[x0..x1]
            .par_chunks_mut(1 << 14)
            .zip(y[y0..y1].par_chunks(1 << 14))
            .for_each(|(x, y)| {
                for (x, y) in x.iter_mut().zip(y) {
                    *x = if a == 1.0 { *x + b * y } else { a * *x + b * y };
                }
            });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn three_steps_match_the_hand_computed_pytorch_updates() {
        // loss = Σ p·g has constant gradient g = (0.5, −1).
        let p = Var::new(&[1f32, 2.], &Device::Cpu).unwrap();
        let g = Tensor::new(&[0.5f32, -1.], &Device::Cpu).unwrap();
        let mut sgd = SgdMomentum::new(
            vec![("p".into(), p.clone())],
            SgdConfig {
                lr: 0.1,
                momentum: 0.9,
            },
        );
        let mut seen = Vec::new();
        for _ in 0..3 {
            let loss = (p.as_tensor() * &g).unwrap().sum_all().unwrap();
            sgd.backward_step(&loss).unwrap();
            seen.push(p.to_vec1::<f32>().unwrap());
        }
        // v1 = g, v2 = 1.9 g, v3 = 2.71 g; p moves by −0.1·(1, 1.9, 2.71)·g.
        assert!(close(&seen[0], &[0.95, 2.1]), "{seen:?}");
        assert!(close(&seen[1], &[0.855, 2.29]), "{seen:?}");
        assert!(close(&seen[2], &[0.7195, 2.561]), "{seen:?}");
    }

    #[test]
    fn a_transposed_gradient_takes_the_tensor_path_and_the_same_updates() {
        // A gradient that is a strided view (here: a transpose) cannot be updated as a
        // flat slice; the step must still follow v ← μ·v + g, p ← p − lr·v.
        let p = Var::new(&[[1f32, 2.], [3., 4.]], &Device::Cpu).unwrap();
        let g = Tensor::new(&[[1f32, 3.], [2., 4.]], &Device::Cpu)
            .unwrap()
            .t()
            .unwrap();
        assert!(!g.is_contiguous());
        let mut sgd = SgdMomentum::new(
            vec![("p".into(), p.clone())],
            SgdConfig {
                lr: 0.1,
                momentum: 0.5,
            },
        );
        for _ in 0..2 {
            let mut grads = p.as_tensor().sum_all().unwrap().backward().unwrap();
            grads.insert(p.as_tensor(), g.clone());
            sgd.step(&grads).unwrap();
        }
        // g = [[1, 2], [3, 4]]; v1 = g, v2 = 1.5 g; p − 0.1·2.5·g.
        let got = p.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(close(&got, &[0.75, 1.5, 2.25, 3.0]), "{got:?}");
    }

    #[test]
    fn velocities_hold_no_graph_so_memory_does_not_grow_with_steps() {
        let p = Var::new(&[1f32, 2.], &Device::Cpu).unwrap();
        let mut sgd = SgdMomentum::new(
            vec![("p".into(), p.clone())],
            SgdConfig {
                lr: 0.1,
                momentum: 0.9,
            },
        );
        for _ in 0..2 {
            let loss = p.as_tensor().sqr().unwrap().sum_all().unwrap();
            sgd.backward_step(&loss).unwrap();
        }
        let v = &sgd.velocity()["velocity.p"];
        assert!(!v.track_op(), "the velocity still references its op graph");
    }

    #[test]
    fn a_new_learning_rate_scales_the_whole_velocity() {
        let p = Var::new(&[0f32], &Device::Cpu).unwrap();
        let g = Tensor::new(&[1f32], &Device::Cpu).unwrap();
        let mut sgd = SgdMomentum::new(
            vec![("p".into(), p.clone())],
            SgdConfig {
                lr: 1.0,
                momentum: 0.5,
            },
        );
        let loss = || (p.as_tensor() * &g).unwrap().sum_all().unwrap();
        sgd.backward_step(&loss()).unwrap(); // v = 1, p = −1
        sgd.set_learning_rate(0.1);
        sgd.backward_step(&loss()).unwrap(); // v = 1.5, p = −1 − 0.15
        assert!(close(&p.to_vec1::<f32>().unwrap(), &[-1.15]));
    }

    #[test]
    fn saved_velocity_resumes_the_same_trajectory() {
        let run = |split: bool| {
            let p = Var::new(&[3f32, -1.], &Device::Cpu).unwrap();
            let cfg = SgdConfig {
                lr: 0.05,
                momentum: 0.9,
            };
            let mut sgd = SgdMomentum::new(vec![("p".into(), p.clone())], cfg);
            for step in 0..6 {
                if split && step == 3 {
                    let saved = sgd.velocity();
                    sgd = SgdMomentum::new(vec![("p".into(), p.clone())], cfg);
                    sgd.set_velocity(&saved).unwrap();
                }
                let loss = p.as_tensor().sqr().unwrap().sum_all().unwrap();
                sgd.backward_step(&loss).unwrap();
            }
            p.to_vec1::<f32>().unwrap()
        };
        assert_eq!(run(false), run(true));
    }
}
