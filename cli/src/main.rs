//! `fleetopt`, the operator's command line (docs/cli.md).
//!
//! Exit status: 0 success, 1 runtime failure (AWS error, not found), 2 bad usage or invalid
//! input. `--output json` is stable for scripts.

mod analyze;
mod approval;
mod backtest;
mod charts;
mod cli;
mod cost;
mod dashboard;
mod history;
mod metrics;
mod profile;
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

/// `--debug`: the AWS SDK's tracing on standard error (credential chain, endpoint, attempts and
/// retries), or what RUST_LOG asks for.
fn debug_log() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "info,aws_config=debug,aws_smithy_runtime=debug,aws_smithy_runtime_api=debug,\
             aws_sigv4=info,aws_runtime=debug",
        )
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if cli.global.debug {
        debug_log();
    }
    let result = match &cli.command {
        cli::Command::Score(args) => score::run(&cli.global, args),
        cli::Command::Recommendations(args) => aws(|| recommendations::run(&cli.global, args)),
        cli::Command::Analyze(args) => aws(|| analyze::run(&cli.global, args)),
        cli::Command::Metrics(args) => aws(|| metrics::run(&cli.global, args)),
        cli::Command::Approve(args) => aws(|| approval::approve(&cli.global, args)),
        cli::Command::Reject(args) => aws(|| approval::reject(&cli.global, args)),
        cli::Command::Snooze(args) => aws(|| approval::snooze(&cli.global, args)),
        cli::Command::Done(args) => aws(|| approval::done(&cli.global, args)),
        cli::Command::Rollback(args) => aws(|| approval::rollback(&cli.global, args)),
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
            let text = format!("{err:#}");
            let hint = sign_in_hint(&text, cli.global.profile.as_deref())
                .map_or_else(String::new, |h| format!("; {h}"));
            eprintln!("{} {text}{hint}", terminal::error_prefix());
            ExitCode::from(1)
        }
    }
}

/// What to do when credentials failed to load because an IAM Identity Center (SSO) profile has
/// no cached login, as the AWS CLI would say it.
fn sign_in_hint(error: &str, profile: Option<&str>) -> Option<String> {
    let sso = error.contains("loading credentials")
        && (error.contains("SSO token") || error.contains("/sso/cache/"));
    sso.then(|| {
        let profile = profile
            .map(str::to_owned)
            .or_else(|| std::env::var("AWS_PROFILE").ok())
            .map_or_else(String::new, |p| format!(" --profile {p}"));
        format!(
            "this profile signs in with IAM Identity Center and has no valid login: run \
             `aws sso login{profile}` and try again"
        )
    })
}
