//! Where and how the tensor work runs: the device (by the name a command line or
//! experiment gives it), the model build options, and the progress observer.

use candle_core::Device;
use repair_core::{NoProgress, Progress};
use repair_zoo::{BuildOptions, ConvBackend};

use crate::error::{PipelineError, Result};

/// `cpu`, or `cuda` (the first GPU; needs a build with the `cuda` feature).
pub fn device_named(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Device::new_cuda(0).map_err(|e| {
            PipelineError::Invalid(format!(
                "no CUDA device (build with `--features cuda` on a machine with a GPU): {e}"
            ))
        }),
        other => Err(PipelineError::Invalid(format!(
            "unknown device `{other}` (cpu or cuda)"
        ))),
    }
}

/// Where and how a stage computes: none of it changes a result beyond rounding.
#[derive(Clone)]
pub struct Compute<'a> {
    /// Training and extraction device.
    pub device: Device,
    /// How models are built (the CPU convolution).
    pub build: BuildOptions,
    /// Told of every batch, epoch and search iteration.
    pub progress: &'a dyn Progress,
}

impl<'a> Compute<'a> {
    /// The device named `device` (`cpu`, `cuda`), the CPU convolution named `conv`
    /// (`fast`, the default, or `candle`: what `EARLY_REPAIR_CONV` chooses, to compare
    /// the two), reporting to `progress`.
    pub fn named(device: &str, conv: Option<&str>, progress: &'a dyn Progress) -> Result<Self> {
        let conv = match conv {
            None | Some("fast") => ConvBackend::Fast,
            Some("candle") => ConvBackend::Candle,
            Some(other) => {
                return Err(PipelineError::Invalid(format!(
                    "convolution `{other}`: expected fast or candle"
                )))
            }
        };
        Ok(Compute {
            device: device_named(device)?,
            build: BuildOptions { conv },
            progress,
        })
    }

    /// The CPU, default build options, no progress: what tests and embedding programs
    /// use.
    pub fn cpu() -> Compute<'static> {
        Compute {
            device: Device::Cpu,
            build: BuildOptions::default(),
            progress: &NoProgress,
        }
    }
}

impl std::fmt::Debug for Compute<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compute")
            .field("device", &self.device)
            .field("build", &self.build)
            .finish_non_exhaustive()
    }
}
