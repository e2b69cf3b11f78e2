//! `cargo xtask`: thin wiring of the workspace crates into commands. Logic lives in the
//! crates; this binary parses flags, calls them, prints, and maps errors to exit codes.

mod bench;
mod curl;
mod data;
mod experiment;
mod flags;
mod progress;
mod readiness;
mod repair;
mod report;
mod slurm;
mod train;

use clap::Parser;

/// mimalloc keeps freed memory for reuse: with glibc's allocator every training step
/// maps and unmaps its large tensors, and the page faults and TLB shootdowns cost ~20 %
/// of a cnn-s step on 2 cores.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v2's `mi_option_purge_delay` (libmimalloc-sys 0.1.49 names no constant).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // Never return freed pages to the OS: a training step frees and reallocates the same
    // tensors, and re-faulting zeroed pages cost ~10 % of a cnn-s step.
    // SAFETY: sets a plain integer option of the allocator.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    let flags = flags::Xtask::parse();
    let result = match flags.command {
        flags::Command::Data { command } => data::run(command),
        flags::Command::Train(args) => train::run(args),
        flags::Command::Repair(args) => repair::run(*args),
        flags::Command::Report(args) => report::run(args),
        flags::Command::Experiment(args) => experiment::run(args),
        flags::Command::Readiness(args) => readiness::run(args),
        flags::Command::Slurm(args) => slurm::run(args),
        flags::Command::Verify { dir } => experiment::verify(&dir),
        flags::Command::Bench { command } => bench::run(command),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each cause once: our errors already print the operating
/// system's message they wrap, which `{:#}` would print a second time.
fn describe(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::other("File exists (os error 17)");
        let wrapped = anyhow::Error::new(io).context("split.json: File exists (os error 17)");
        assert_eq!(describe(&wrapped), "split.json: File exists (os error 17)");
        let new = anyhow::Error::new(std::io::Error::other("disk full")).context("writing x");
        assert_eq!(describe(&new), "writing x: disk full");
    }
}
