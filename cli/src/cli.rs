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
    /// AWS region (default: the standard AWS configuration chain: AWS_REGION, the profile).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS profile of the shared config and credentials files (default: AWS_PROFILE, else
    /// the default profile).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Seconds one AWS call may take, retries included, before the command fails (`analyze`
    /// waits at least as long as the analyzer may run: 330 s).
    #[arg(long, global = true, value_name = "SECONDS", env = "FLEETOPT_TIMEOUT",
          default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=900))]
    pub timeout: u64,
    /// Seconds one attempt of an AWS call may take before it is retried (never more than
    /// --timeout). Retries follow AWS_MAX_ATTEMPTS, AWS_RETRY_MODE or the profile's settings.
    #[arg(long, global = true, value_name = "SECONDS", env = "FLEETOPT_ATTEMPT_TIMEOUT",
          default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=900))]
    pub attempt_timeout: u64,
    /// Show the AWS SDK's own log on standard error: where credentials came from, the endpoint,
    /// each attempt and retry (RUST_LOG, when set, chooses what instead).
    #[arg(long, global = true)]
    pub debug: bool,
}

impl Global {
    /// The one SDK configuration of a run: the standard chain, with --profile, --region and
    /// the timeouts.
    pub async fn sdk_config(&self) -> fleetopt_aws::SdkConfig {
        fleetopt_aws::load_profile_config(
            self.profile.clone(),
            self.region.clone(),
            self.timeouts(),
        )
        .await
    }

    /// --timeout and --attempt-timeout; an attempt never outlasts its call.
    pub fn timeouts(&self) -> fleetopt_aws::Timeouts {
        let operation = std::time::Duration::from_secs(self.timeout);
        fleetopt_aws::Timeouts {
            attempt: std::time::Duration::from_secs(self.attempt_timeout).min(operation),
            operation,
        }
    }
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
                            fleetopt recommendations --type SCALE_DOWN --limit 5 --output json\n  \
                            fleetopt recommendations --id rec-5d41402abc4b2a76b9719d91"
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
    /// Approve a recommendation that awaits approval (AWAITING_APPROVAL -> APPROVED), signing
    /// the approval with the environment's approvals key (KMS).
    #[command(after_help = "Examples:\n  \
                      fleetopt approve rec-5d41402abc4b2a76b9719d91 --note \"after the sale\"\n  \
                      fleetopt approve rec-5d41402abc4b2a76b9719d91 --valid-for 2h --output json\n\n\
                      The approval is signed with kms:Sign on the approvals key (default \
                      alias/<application>-<environment>-approvals): holding that permission is \
                      what makes you an approver. The signature binds the recommendation, its \
                      proposed action, you (your STS ARN) and an expiry; the engine verifies it \
                      before it acts, and refuses an APPROVED item without a valid one. An \
                      approved SCALE_UP or SCALE_DOWN is applied by the optimization engine on \
                      its next run; any other type lists the steps to carry out (then `fleetopt \
                      done`). The change is conditional: if someone else moved the \
                      recommendation first, nothing is written and the exit status is 1.")]
    Approve(ApproveArgs),
    /// Record that you carried out an approved change yourself (APPROVED -> COMPLETED), with a
    /// note.
    #[command(after_help = "Examples:\n  \
                      fleetopt done rec-5d41402abc4b2a76b9719d91 --note \"instance refresh to m6g.large finished\"\n\n\
                      For changes a person carries out (INSTANCE_TYPE_CHANGE, COST_OPTIMIZATION, \
                      PERFORMANCE_TUNING). The engine also completes an instance type change by \
                      itself once the group runs the recommended type. Capacity changes are the \
                      engine's to complete. The note and your STS ARN go to statusHistory.")]
    Done(DoneArgs),
    /// Reject a recommendation that awaits approval (AWAITING_APPROVAL -> REJECTED), saying why.
    #[command(after_help = "Examples:\n  \
                      fleetopt reject rec-5d41402abc4b2a76b9719d91 --reason \"peak season\"\n  \
                      fleetopt reject rec-5d41402abc4b2a76b9719d91 --reason \"reserved instances \
                      cover it\" --output json\n\n\
                      The change is conditional: if someone else moved the recommendation first, \
                      nothing is written and the exit status is 1.")]
    Reject(RejectArgs),
    /// Undo an applied schedule (COMPLETED SCHEDULED_SCALING -> ROLLED_BACK): remove the
    /// scheduled actions the engine put on the group, after checking they are still this
    /// recommendation's, and bring the group back to the schedule's busy capacity if the quiet
    /// window has it lower. Only the group is changed first: when the removal fails, nothing is
    /// recorded and the command can be run again.
    #[command(
        after_help = "Example:\n  fleetopt rollback rec-0123456789abcdef01234567 --reason \"checkout slow at night\""
    )]
    Rollback(RollbackArgs),
    /// Set a recommendation aside for a while (PENDING, AWAITING_APPROVAL or APPROVED ->
    /// SNOOZED); the engine's sweep puts it back where it was when the time is up.
    #[command(after_help = "Examples:\n  \
                      fleetopt snooze rec-5d41402abc4b2a76b9719d91 --for 7d --reason \"month-end batch\"\n  \
                      fleetopt snooze rec-5d41402abc4b2a76b9719d91 --for 1d12h --reason \"freeze\" \
                      --output json\n\n\
                      While it sleeps, new findings of the same type for the same group are not \
                      written (the functions count them as suppressed) and nothing is applied. The \
                      15-minute sweep wakes it within 15 minutes of its end. A snooze that ends \
                      after the item's TTL moves the TTL to 7 days after the end. The change is \
                      conditional: if someone else moved the recommendation first, nothing is \
                      written and the exit status is 1.")]
    Snooze(SnoozeArgs),
    /// Show each targeted Auto Scaling group's size, health, last scaling activity and open
    /// recommendations.
    #[command(
        after_help = "Examples:\n  fleetopt scaling\n  fleetopt scaling --group web --group api \
                            --output json\n  fleetopt scaling --tag team=checkout\n\n\
                            Open recommendations are those PENDING, AWAITING_APPROVAL, APPROVED or \
                            IN_PROGRESS; \"waiting\" is why the engine last held one back."
    )]
    Scaling(ScalingArgs),
    /// Show what the account spent this month and in the last full months by service, Cost
    /// Explorer's forecast to the month's end, and the open cost recommendations with their
    /// monthly savings.
    #[command(
        after_help = "Examples:\n  fleetopt cost\n  fleetopt cost --months 6\n  \
                      fleetopt cost --output json\n\n\
                      Month to date runs from the first of the month (UTC) to today, included; \
                      the forecast from tomorrow to the month's end (none on its last day); \
                      projected month = month to date + forecast. Cost Explorer bills per request: \
                      a run makes one GetCostAndUsage request (more only if the answer is paged) \
                      and at most one GetCostForecast, and prints how many. If Cost Explorer has \
                      no data yet or access is denied, the command shows what it has, says what \
                      is unavailable and why, and exits 0. Open recommendations are \
                      COST_OPTIMIZATION and INSTANCE_TYPE_CHANGE ones that are PENDING, \
                      AWAITING_APPROVAL or APPROVED."
    )]
    Cost(CostArgs),
    /// Show the seven widgets of the CloudWatch dashboard in the terminal: performance score and
    /// efficiency rating over time, CPU against its target range, memory trend, cost savings
    /// potential, capacity, and the recommendations by type, priority and status; then the
    /// console URL of the deployed dashboard.
    #[command(
        after_help = "Examples:\n  fleetopt dashboard\n  fleetopt dashboard --period 72 --group web\n  \
                      fleetopt dashboard --output json\n\n\
                      Reads every series in one GetMetricData request per 500 queries (8 per group, \
                      4 for the environment), the groups with DescribeAutoScalingGroups and the \
                      recommendations with one TypeIndex query per type. Sparklines span the \
                      period; `·` marks a stretch with no datapoints (no data is never drawn as 0)."
    )]
    Dashboard(HistoryArgs),
    /// Write one self-contained HTML report (no network needed to open it): per group, charts
    /// of CPU against its target band, memory, score over time and capacity against max, and
    /// the open recommendations with their evidence.
    #[command(after_help = "Examples:\n  fleetopt report --out fleet.html\n  \
                      fleetopt report --out web.html --group web --period 168\n  \
                      fleetopt report --out fleet.html --output json\n\n\
                      Reads what `fleetopt dashboard` reads (the same calls) and draws the charts \
                      as inline SVG.")]
    Report(ReportArgs),
    /// Print a shell completion script for fleetopt.
    #[command(
        after_help = "Examples:\n  fleetopt completions bash > /etc/bash_completion.d/fleetopt\n  \
                      fleetopt completions zsh > \"${fpath[1]}/_fleetopt\"\n  \
                      fleetopt completions fish > ~/.config/fish/completions/fleetopt.fish"
    )]
    Completions(CompletionsArgs),
}

/// Which groups, over how long, from which table: what `dashboard` and `report` read.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Hours to look back (1 to 336).
    #[arg(long, value_name = "HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=336))]
    pub period: u32,
    /// Only this group (repeat for several); default: the groups carrying --tag.
    #[arg(long = "group", value_name = "NAME", value_parser = non_empty, conflicts_with = "tag")]
    pub groups: Vec<String>,
    /// The tag that marks targeted groups, key=value.
    #[arg(
        long,
        value_name = "KEY=VALUE",
        value_parser = tag,
        default_value = "fleet-optimizer:enabled=true"
    )]
    pub tag: (String, String),
    /// The recommendations table (default <application>-<environment>-optimization-recommendations).
    #[arg(long, env = "FLEETOPT_TABLE", value_name = "NAME")]
    pub table: Option<String>,
    /// The namespace the functions publish their metrics in.
    #[arg(
        long,
        env = "FLEETOPT_METRICS_NAMESPACE",
        value_name = "NAMESPACE",
        default_value = "FleetOptimizer",
        value_parser = non_empty
    )]
    pub namespace: String,
}

/// What `report` reads, and where it writes.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The HTML file to write (replaced if it exists).
    #[arg(long, value_name = "FILE.html")]
    pub out: std::path::PathBuf,
    /// Groups, period, table.
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// Which shell.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// How far back `cost` looks, and where the recommendations are.
#[derive(Debug, Args)]
pub struct CostArgs {
    /// Full months to show before the current one (1 to 12).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=12))]
    pub months: u32,
    /// The recommendations table (default <application>-<environment>-optimization-recommendations).
    #[arg(long, env = "FLEETOPT_TABLE", value_name = "NAME")]
    pub table: Option<String>,
}

/// Who decides, and where the recommendation is: what `approve`, `reject` and `snooze` share.
#[derive(Debug, Args)]
pub struct DecisionOptions {
    /// A name recorded in statusHistory next to your AWS identity (the caller ARN from STS
    /// GetCallerIdentity, always recorded), for when several people share one role.
    #[arg(long, env = "FLEETOPT_ACTOR", value_name = "NAME", value_parser = non_empty)]
    pub actor: Option<String>,
    /// The recommendations table (default <application>-<environment>-optimization-recommendations).
    #[arg(long, env = "FLEETOPT_TABLE", value_name = "NAME")]
    pub table: Option<String>,
}

/// What to approve.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The recommendation's id (as `fleetopt recommendations` shows it).
    #[arg(value_name = "ID", value_parser = non_empty)]
    pub id: String,
    /// A note kept with the approval in statusHistory.
    #[arg(long, value_name = "TEXT", value_parser = non_empty)]
    pub note: Option<String>,
    /// How long the approval may be acted on (m, h, d or w; default 6h for a capacity change,
    /// 14d for any other type; the engine's own limits still apply).
    #[arg(long, value_name = "DURATION", value_parser = snooze_duration)]
    pub valid_for: Option<chrono::Duration>,
    /// The KMS key that signs approvals: key id, ARN or alias (default
    /// alias/<application>-<environment>-approvals).
    #[arg(long, env = "FLEETOPT_APPROVAL_KEY", value_name = "KEY", value_parser = non_empty)]
    pub approval_key: Option<String>,
    /// Who and where.
    #[command(flatten)]
    pub options: DecisionOptions,
}

/// What was carried out.
#[derive(Debug, Args)]
pub struct DoneArgs {
    /// The recommendation's id (as `fleetopt recommendations` shows it).
    #[arg(value_name = "ID", value_parser = non_empty)]
    pub id: String,
    /// What was done, kept in statusHistory (required, not empty).
    #[arg(long, value_name = "TEXT", value_parser = non_empty)]
    pub note: String,
    /// Who and where.
    #[command(flatten)]
    pub options: DecisionOptions,
}

/// What to roll back, and why.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The recommendation's id: a COMPLETED SCHEDULED_SCALING.
    #[arg(value_name = "ID", value_parser = non_empty)]
    pub id: String,
    /// Why it is rolled back, kept in statusHistory (required, not empty).
    #[arg(long, value_name = "TEXT", value_parser = non_empty)]
    pub reason: String,
    /// Who and where.
    #[command(flatten)]
    pub options: DecisionOptions,
}

/// What to reject, and why.
#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The recommendation's id (as `fleetopt recommendations` shows it).
    #[arg(value_name = "ID", value_parser = non_empty)]
    pub id: String,
    /// Why it is rejected, kept in statusHistory (required, not empty).
    #[arg(long, value_name = "TEXT", value_parser = non_empty)]
    pub reason: String,
    /// Who and where.
    #[command(flatten)]
    pub options: DecisionOptions,
}

/// What to snooze, for how long, and why.
#[derive(Debug, Args)]
pub struct SnoozeArgs {
    /// The recommendation's id (as `fleetopt recommendations` shows it).
    #[arg(value_name = "ID", value_parser = non_empty)]
    pub id: String,
    /// How long: a number and a unit, m (minutes), h, d or w, or several (1d12h); from 1
    /// minute to 365 days.
    #[arg(long = "for", value_name = "DURATION", value_parser = snooze_duration)]
    pub duration: chrono::Duration,
    /// Why, kept in statusHistory (required, not empty).
    #[arg(long, value_name = "TEXT", value_parser = non_empty)]
    pub reason: String,
    /// Who and where.
    #[command(flatten)]
    pub options: DecisionOptions,
}

/// Which groups `scaling` shows.
#[derive(Debug, Args)]
pub struct ScalingArgs {
    /// Only this group (repeat for several); default: the groups carrying --tag.
    #[arg(long = "group", value_name = "NAME", value_parser = non_empty, conflicts_with = "tag")]
    pub groups: Vec<String>,
    /// The tag that marks targeted groups, key=value.
    #[arg(
        long,
        value_name = "KEY=VALUE",
        value_parser = tag,
        default_value = "fleet-optimizer:enabled=true"
    )]
    pub tag: (String, String),
    /// The recommendations table (default <application>-<environment>-optimization-recommendations).
    #[arg(long, env = "FLEETOPT_TABLE", value_name = "NAME")]
    pub table: Option<String>,
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
    /// Analyze this account's groups (through its member role), with --group-region.
    #[arg(long, value_name = "ACCOUNT_ID", value_parser = account_id, requires = "group_region")]
    pub account: Option<String>,
    /// The region of --account's groups.
    #[arg(long, value_name = "REGION", value_parser = region_name, requires = "account")]
    pub group_region: Option<String>,
    /// The analyzer function (default <application>-<environment>-performance-analyzer).
    #[arg(long, env = "FLEETOPT_ANALYZER_FUNCTION", value_name = "NAME")]
    pub function_name: Option<String>,
}

/// Filters for `recommendations`.
#[derive(Debug, Args)]
pub struct RecommendationsArgs {
    /// Only this type: SCALE_UP, SCALE_DOWN, INSTANCE_TYPE_CHANGE, PERFORMANCE_TUNING,
    /// COST_OPTIMIZATION, SCHEDULED_SCALING (reads TypeIndex).
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<RecommendationType>,
    /// Only this priority: HIGH, MEDIUM, LOW (reads PriorityIndex when no type is given).
    #[arg(long, value_name = "PRIORITY")]
    pub priority: Option<Priority>,
    /// Only this status: PENDING, IN_PROGRESS, COMPLETED, FAILED, ROLLED_BACK,
    /// AWAITING_APPROVAL, APPROVED, REJECTED, SUPERSEDED, SNOOZED, EXPIRED, OBSOLETE.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<Status>,
    /// At most this many.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Show this one recommendation whole, with its audit trail (every status change: when,
    /// from, to, who, why), instead of a list.
    #[arg(long, value_name = "ID", value_parser = non_empty, conflicts_with_all = ["kind", "priority", "status", "limit"])]
    pub id: Option<String>,
    /// Only groups of this AWS account. Items about the functions' own account carry no
    /// account: they match when this is the account of your credentials.
    #[arg(long, value_name = "ACCOUNT_ID", value_parser = account_id, conflicts_with = "id")]
    pub account: Option<String>,
    /// Only groups in this region (`--region` is where fleetopt's own calls go). Items about
    /// the functions' own account match the region fleetopt calls.
    #[arg(long, value_name = "REGION", value_parser = region_name, conflicts_with = "id")]
    pub group_region: Option<String>,
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

/// The shortest and longest snooze.
const SNOOZE_RANGE: (i64, i64) = (60, 365 * 86_400);

/// `7d`, `12h`, `90m`, `2w`, or several of them (`1d12h`), as a positive duration within
/// [`SNOOZE_RANGE`].
fn snooze_duration(s: &str) -> Result<chrono::Duration, String> {
    let text = s.trim();
    let bad = || {
        format!(
            "{s:?} is not a duration: give a number and a unit, m, h, d or w (for example 7d, \
             12h, 1d12h)"
        )
    };
    let mut seconds: i64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: i64 = match c {
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let n: i64 = number.parse().map_err(|_| bad())?;
        number.clear();
        seconds = n
            .checked_mul(unit)
            .and_then(|part| seconds.checked_add(part))
            .ok_or_else(|| format!("{s:?} is longer than 365 days"))?;
    }
    if !number.is_empty() || text.is_empty() {
        return Err(bad());
    }
    let (shortest, longest) = SNOOZE_RANGE;
    if seconds < shortest {
        return Err(format!(
            "{s:?} is too short: a snooze lasts at least 1 minute and ends in the future"
        ));
    }
    if seconds > longest {
        return Err(format!(
            "{s:?} is longer than 365 days: reject the recommendation, or exclude its type \
             with the group's fleet-optimizer:exclude tag"
        ));
    }
    Ok(chrono::Duration::seconds(seconds))
}

fn account_id(s: &str) -> Result<String, String> {
    fleetopt_model::Shard::check_account(s.trim())
        .map(|()| s.trim().to_owned())
        .map_err(|e| e.to_string())
}

fn region_name(s: &str) -> Result<String, String> {
    fleetopt_model::Shard::check_region(s.trim())
        .map(|()| s.trim().to_owned())
        .map_err(|e| e.to_string())
}

fn non_empty(s: &str) -> Result<String, String> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        Err("must not be empty".to_owned())
    } else {
        Ok(trimmed.to_owned())
    }
}

/// `key=value`, as FLEETOPT_TARGET_TAG: a non-empty key; the value may be empty.
fn tag(s: &str) -> Result<(String, String), String> {
    fleetopt_config::parse_tag(s)
        .ok_or_else(|| format!("{s:?} is not key=value, for example fleet-optimizer:enabled=true"))
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

    fn usage_error(args: &[&str]) -> clap::error::ErrorKind {
        let err = Cli::try_parse_from(args).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{err}");
        err.kind()
    }

    #[test]
    fn reject_needs_a_reason_that_is_not_empty() {
        use clap::error::ErrorKind;
        assert_eq!(
            usage_error(&["fleetopt", "reject", "rec-1"]),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            usage_error(&["fleetopt", "reject", "rec-1", "--reason", " "]),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            usage_error(&["fleetopt", "approve", "rec-1", "--actor", ""]),
            ErrorKind::ValueValidation
        );
        let cli =
            Cli::try_parse_from(["fleetopt", "reject", "rec-1", "--reason", " peak "]).unwrap();
        let Command::Reject(args) = cli.command else {
            panic!("{:?}", cli.command);
        };
        assert_eq!((args.id.as_str(), args.reason.as_str()), ("rec-1", "peak"));
    }

    #[test]
    fn a_snooze_lasts_from_a_minute_to_a_year_in_m_h_d_w() {
        let d = |s: &str| snooze_duration(s).map(|d| d.num_seconds());
        assert_eq!(d("7d"), Ok(7 * 86_400));
        assert_eq!(d("1d12h"), Ok(36 * 3_600));
        assert_eq!(d("90m"), Ok(5_400));
        assert_eq!(d("2w"), Ok(14 * 86_400));
        assert_eq!(d("1m"), Ok(60));
        assert_eq!(d("365d"), Ok(365 * 86_400));
        for (bad, says) in [
            ("0m", "too short"),
            ("0d", "too short"),
            ("-5m", "not a duration"),
            ("7", "not a duration"),
            ("d", "not a duration"),
            ("7 days", "not a duration"),
            ("1.5d", "not a duration"),
            ("", "not a duration"),
            ("366d", "longer than 365 days"),
            ("99999999999999999w", "longer than 365 days"),
        ] {
            let err = d(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
        assert_eq!(
            usage_error(&["fleetopt", "snooze", "rec-1", "--for", "7d"]),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            usage_error(&["fleetopt", "snooze", "rec-1", "--for=-1d", "--reason", "x"]),
            clap::error::ErrorKind::ValueValidation
        );
        let cli = Cli::try_parse_from([
            "fleetopt", "snooze", "rec-1", "--for", "7d", "--reason", "batch",
        ])
        .unwrap();
        let Command::Snooze(args) = cli.command else {
            panic!("{:?}", cli.command);
        };
        assert_eq!(args.duration, chrono::Duration::days(7));
    }

    #[test]
    fn one_recommendation_by_id_takes_no_list_filter() {
        let cli = Cli::try_parse_from(["fleetopt", "recommendations", "--id", "rec-1"]).unwrap();
        let Command::Recommendations(args) = cli.command else {
            panic!("{:?}", cli.command);
        };
        assert_eq!(args.id.as_deref(), Some("rec-1"));
        assert_eq!(
            usage_error(&[
                "fleetopt",
                "recommendations",
                "--id",
                "rec-1",
                "--status",
                "PENDING"
            ]),
            clap::error::ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn scaling_takes_groups_or_a_tag_not_both() {
        let cli = Cli::try_parse_from(["fleetopt", "scaling"]).unwrap();
        let Command::Scaling(args) = cli.command else {
            panic!("{:?}", cli.command);
        };
        assert!(args.groups.is_empty());
        assert_eq!(
            args.tag,
            ("fleet-optimizer:enabled".to_owned(), "true".to_owned())
        );
        assert_eq!(
            usage_error(&["fleetopt", "scaling", "--group", "web", "--tag", "team=web"]),
            clap::error::ErrorKind::ArgumentConflict
        );
        assert_eq!(
            usage_error(&["fleetopt", "scaling", "--tag", "team"]),
            clap::error::ErrorKind::ValueValidation
        );
    }

    #[test]
    fn cost_shows_3_months_by_default_and_refuses_0_or_more_than_12() {
        let cli = Cli::try_parse_from(["fleetopt", "cost"]).unwrap();
        let Command::Cost(args) = cli.command else {
            panic!("{:?}", cli.command);
        };
        assert_eq!(args.months, 3);
        let cli = Cli::try_parse_from(["fleetopt", "cost", "--months", "12"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Cost(CostArgs { months: 12, .. })
        ));
        for bad in ["0", "13", "-1", "three"] {
            assert_eq!(
                usage_error(&["fleetopt", "cost", &format!("--months={bad}")]),
                clap::error::ErrorKind::ValueValidation,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_tag_is_a_key_and_a_value() {
        assert_eq!(tag("team=web"), Ok(("team".to_owned(), "web".to_owned())));
        assert_eq!(tag("team="), Ok(("team".to_owned(), String::new())));
        assert_eq!(tag("a=b=c"), Ok(("a".to_owned(), "b=c".to_owned())));
        assert!(tag("=web").is_err());
        assert!(tag("team").is_err());
    }
}
