//! `cargo xtask`: thin wiring of the workspace crates into commands. Logic lives in the
//! crates; this binary parses flags, calls them, prints, and maps errors to exit codes.

mod data;
mod fetch;
mod flags;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let flags = flags::Xtask::parse();
    let result = match flags.command {
        flags::Command::Data { command } => data::run(command),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
