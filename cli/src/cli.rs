//! The command line's shape: global options and one subcommand per job.

use clap::{Args, Parser, Subcommand, ValueEnum};
use fleetopt_config::Environment;
use fleetopt_model::{Priority, RecommendationType, Status};

/// fleetopt: read and act on what fleet-optimizer finds in an EC2 Auto Scaling fleet.
#[derive(Debug, Parser)]
#[command(name = "fleetopt", version, about, long_about = None)]
#[command(
    after_help = "Exit status: 0 success, 1 runtime failure (AWS error, not found), \
                        2 bad usage or invalid input."
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Environment whose preset (targets, thresholds) applies.
    #[arg(long, global = true, default_value = "production", value_parser = parse_environment)]
    pub environment: Environment,
    /// Application name, as in resource names (<application>-<environment>-...).
    #[arg(long, global = true, default_value = "app")]
    pub application: String,
    /// Output format: a table for people, JSON (stable keys) for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// AWS region (default: the standard AWS configuration chain).
    #[arg(long, global = true)]
    pub region: Option<String>,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Human-readable tables.
    Table,
    /// JSON, stable for scripts.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score figures you give, with the environment's targets; makes no AWS call.
    #[command(
        after_help = "Example:\n  fleetopt score --environment staging --cpu-avg 83 \
                            --memory-avg 71 --in-service 3 --max-size 4 --response-ms 900 \
                            --output json"
    )]
    Score(ScoreArgs),
    /// List recommendations from the table, newest first, through its GSIs (never a scan).
    #[command(
        after_help = "Examples:\n  fleetopt recommendations --priority HIGH --status PENDING\n  \
                            fleetopt recommendations --type SCALE_DOWN --limit 5 --output json"
    )]
    Recommendations(RecommendationsArgs),
    /// Run the analyzer now, through the Lambda Invoke API, and show what it found.
    #[command(
        after_help = "Examples:\n  fleetopt analyze\n  fleetopt analyze --group web --dry-run \
                            --output json\n\nLocally, AWS_ENDPOINT_URL_LAMBDA points the Invoke API at \
                            `cargo lambda watch` (scripts/demo does this)."
    )]
    Analyze(AnalyzeArgs),
    /// Show a group's section 4 figures over the last hours, each with its status, then its
    /// performance score and efficiency rating.
    #[command(
        after_help = "Examples:\n  fleetopt metrics --group web\n  fleetopt metrics --group web \
                            --period 24 --output json"
    )]
    Metrics(MetricsArgs),
}

/// Which group, over how long.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// The Auto Scaling group.
    #[arg(long, value_name = "NAME")]
    pub group: String,
    /// Hours to look back (1 to 336).
    #[arg(long, value_name = "HOURS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=336))]
    pub period: u32,
}

/// What to analyze.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Only this group (repeat for several); default: every targeted group.
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
    /// Compute and show everything, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The analyzer function (default <application>-<environment>-performance-analyzer).
    #[arg(long, env = "FLEETOPT_ANALYZER_FUNCTION", value_name = "NAME")]
    pub function_name: Option<String>,
}

/// Filters for `recommendations`.
#[derive(Debug, Args)]
pub struct RecommendationsArgs {
    /// Only this type: SCALE_UP, SCALE_DOWN, INSTANCE_TYPE_CHANGE, PERFORMANCE_TUNING,
    /// COST_OPTIMIZATION (reads TypeIndex).
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<RecommendationType>,
    /// Only this priority: HIGH, MEDIUM, LOW (reads PriorityIndex when no type is given).
    #[arg(long, value_name = "PRIORITY")]
    pub priority: Option<Priority>,
    /// Only this status: PENDING, IN_PROGRESS, COMPLETED, FAILED, ROLLED_BACK,
    /// AWAITING_APPROVAL, APPROVED, REJECTED, SUPERSEDED.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<Status>,
    /// At most this many.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// The recommendations table (default <application>-<environment>-optimization-recommendations).
    #[arg(long, env = "FLEETOPT_TABLE", value_name = "NAME")]
    pub table: Option<String>,
}

/// Figures to score. Memory and response time are optional: without them their weight is
/// shared among the other parts, and the result says which parts were missing.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct ScoreArgs {
    /// CPU utilization average, percent (0-100).
    #[arg(long, value_name = "PERCENT", value_parser = percentage)]
    pub cpu_avg: f64,
    /// Memory utilization average, percent (0-100).
    #[arg(long, value_name = "PERCENT", value_parser = percentage)]
    pub memory_avg: Option<f64>,
    /// Instances in service (at most --max-size).
    #[arg(long, value_name = "COUNT", value_parser = instance_count)]
    pub in_service: u32,
    /// The group's maximum size (at least 1).
    #[arg(long, value_name = "COUNT", value_parser = max_size)]
    pub max_size: u32,
    /// Load balancer response time, milliseconds.
    #[arg(long, value_name = "MS", value_parser = milliseconds)]
    pub response_ms: Option<f64>,
    /// Override the environment's CPU target, percent (20-90).
    #[arg(long, value_name = "PERCENT", value_parser = utilization_target)]
    pub cpu_target: Option<f64>,
    /// Override the environment's memory target, percent (20-90).
    #[arg(long, value_name = "PERCENT", value_parser = utilization_target)]
    pub memory_target: Option<f64>,
    /// Override the environment's response time target, milliseconds (> 0).
    #[arg(long, value_name = "MS", value_parser = positive_milliseconds)]
    pub response_target_ms: Option<f64>,
}

fn parse_environment(s: &str) -> Result<Environment, String> {
    s.parse()
        .map_err(|e: fleetopt_config::UnknownEnvironment| e.to_string())
}

fn finite(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{s:?} is not a number")),
    }
}

fn percentage(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not a percentage between 0 and 100"))
    }
}

fn instance_count(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .map_err(|_| format!("{s:?} is not a whole number of instances (0 or more)"))
}

fn max_size(s: &str) -> Result<u32, String> {
    match instance_count(s)? {
        0 => Err("a group with max size 0 cannot be scored: give at least 1".to_owned()),
        n => Ok(n),
    }
}

fn utilization_target(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if (20.0..=90.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside the allowed 20-90 %"))
    }
}

fn milliseconds(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("{v} ms is negative"))
    }
}

fn positive_milliseconds(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err(format!("{v} ms must be greater than 0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn value_parsers_refuse_what_is_not_a_finite_number_in_range() {
        assert_eq!(percentage("83"), Ok(83.0));
        assert_eq!(percentage("0"), Ok(0.0));
        assert_eq!(percentage("100"), Ok(100.0));
        assert!(percentage("100.01").is_err());
        assert!(percentage("-1").is_err());
        assert!(percentage("NaN").is_err());
        assert!(percentage("inf").is_err());
        assert!(percentage("eighty").is_err());
        assert_eq!(milliseconds("0"), Ok(0.0));
        assert!(milliseconds("-5").is_err());
        assert!(positive_milliseconds("0").is_err());
        assert!(utilization_target("95").is_err());
        assert_eq!(instance_count("0"), Ok(0));
        assert!(instance_count("-1").is_err());
        assert!(instance_count("1.5").is_err());
        assert!(max_size("0").is_err());
    }
}
