//! Progress bars: the command line's [`Progress`] observer, and how the CLI builds the
//! [`Compute`] it hands to the crates (device by name, `EARLY_REPAIR_CONV` honoured).

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use repair_core::Progress;
use repair_pipeline::Compute;

/// One indicatif bar per stage, on standard error; lines above it.
#[derive(Default)]
pub struct Bars {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn begin(&self, what: &str, total: u64) {
        let bar = ProgressBar::new(total).with_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} {elapsed}")
                .expect("valid template"),
        );
        bar.set_prefix(what.to_string());
        *self.bar.lock().expect("bar lock") = Some(bar);
    }

    fn advance(&self, steps: u64, status: Option<&str>) {
        if let Some(bar) = &*self.bar.lock().expect("bar lock") {
            bar.inc(steps);
            if let Some(status) = status {
                bar.set_message(status.to_string());
            }
        }
    }

    fn end(&self) {
        if let Some(bar) = self.bar.lock().expect("bar lock").take() {
            bar.finish_and_clear();
        }
    }

    fn line(&self, text: &str) {
        match &*self.bar.lock().expect("bar lock") {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }
}

/// The compute of a command: the named device, the CPU convolution from
/// `EARLY_REPAIR_CONV` (`candle`, else the fast kernels), bars on standard error.
pub fn compute<'a>(device: &str, bars: &'a Bars) -> anyhow::Result<Compute<'a>> {
    let conv = std::env::var("EARLY_REPAIR_CONV").ok();
    Compute::named(device, conv.as_deref(), bars)
        .map_err(|e| anyhow::anyhow!("--device {device} (EARLY_REPAIR_CONV={conv:?}): {e}"))
}
