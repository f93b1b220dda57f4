//! `fleetopt`, the operator's command line (docs/cli.md).
//!
//! Exit status: 0 success, 1 runtime failure (AWS error, not found), 2 bad usage or invalid
//! input. `--output json` is stable for scripts.

mod analyze;
mod approval;
mod charts;
mod cli;
mod cost;
mod dashboard;
mod history;
mod metrics;
mod recommendations;
mod report;
mod rightsizing;
mod scaling;
mod score;
mod terminal;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// Runs an AWS-facing command on a small runtime: the CLI makes a few calls at a time.
fn aws<F, Fut>(command: F) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(command())
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        cli::Command::Score(args) => score::run(&cli.global, args),
        cli::Command::Recommendations(args) => aws(|| recommendations::run(&cli.global, args)),
        cli::Command::Analyze(args) => aws(|| analyze::run(&cli.global, args)),
        cli::Command::Metrics(args) => aws(|| metrics::run(&cli.global, args)),
        cli::Command::Approve(args) => aws(|| approval::approve(&cli.global, args)),
        cli::Command::Reject(args) => aws(|| approval::reject(&cli.global, args)),
        cli::Command::Snooze(args) => aws(|| approval::snooze(&cli.global, args)),
        cli::Command::Scaling(args) => aws(|| scaling::run(&cli.global, args)),
        cli::Command::Cost(args) => aws(|| cost::run(&cli.global, args)),
        cli::Command::Dashboard(args) => aws(|| dashboard::run(&cli.global, args)),
        cli::Command::Report(args) => aws(|| report::run(&cli.global, args)),
        cli::Command::Completions(args) => {
            clap_complete::generate(
                args.shell,
                &mut cli::Cli::command(),
                "fleetopt",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{} {err:#}", terminal::error_prefix());
            ExitCode::from(1)
        }
    }
}
