//! `fleetopt`, the operator's command line (DESIGN section 12).
//!
//! Exit status: 0 success, 1 runtime failure (AWS error, not found), 2 bad usage or invalid
//! input. `--output json` is stable for scripts.

mod cli;
mod score;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        cli::Command::Score(args) => score::run(&cli.global, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
