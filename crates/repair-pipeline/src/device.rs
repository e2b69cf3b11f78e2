//! The compute device by the name a command line or experiment gives it.

use candle_core::Device;

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
