//! `cargo xtask`: thin wiring of the workspace crates into commands. Logic lives in the
//! crates; this binary parses flags, calls them, prints, and maps errors to exit codes.

mod bench;
mod data;
mod experiment;
mod fetch;
mod flags;
mod repair;
mod report;
mod slurm;
mod train;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let flags = flags::Xtask::parse();
    let result = match flags.command {
        flags::Command::Data { command } => data::run(command),
        flags::Command::Train(args) => train::run(args),
        flags::Command::Repair(args) => repair::run(args),
        flags::Command::Report(args) => report::run(args),
        flags::Command::Experiment(args) => experiment::run(args),
        flags::Command::Slurm(args) => slurm::run(args),
        flags::Command::Verify { dir } => experiment::verify(&dir),
        flags::Command::Bench { command } => bench::run(command),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
