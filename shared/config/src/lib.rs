//! fleet-optimizer's configuration (docs/configuration.md).
//!
//! One configuration per environment: the environment's preset from `shared/schema/presets.json`,
//! overridden field by field by `FLEETOPT_*` variables, validated once at start-up. Every refusal
//! names the variable, the value and what is allowed; all problems are reported together.
//!
//! **Architecture invariant:** this is the only crate that reads the process environment
//! ([`Config::from_env`]); everything else receives typed values.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use fleetopt_scoring::{CpuPercentile, InstanceFamily, Priority, RightSizingPreferences, Targets};
use serde::Deserialize;

mod window;
pub use window::{ChangeWindow, MAX_WINDOW_MINUTES};

/// The deployment environment; picks the preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    /// Automation on, tightest targets.
    Production,
    /// Automation on, looser targets.
    Staging,
    /// Automation off, loosest targets.
    Development,
}

impl Environment {
    /// Every environment, in the order of the design's table.
    pub const ALL: [Environment; 3] = [
        Environment::Production,
        Environment::Staging,
        Environment::Development,
    ];

    /// The name used in variables, resource names and metric dimensions.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
            Environment::Development => "development",
        }
    }

    /// The preset of section 3 for this environment.
    pub fn preset(self) -> &'static Settings {
        let presets = &*PRESETS;
        match self {
            Environment::Production => &presets.production,
            Environment::Staging => &presets.staging,
            Environment::Development => &presets.development,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An environment name that is not one of the three.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown environment {0:?}: expected production, staging or development")]
pub struct UnknownEnvironment(pub String);

impl FromStr for Environment {
    type Err = UnknownEnvironment;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Environment::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| UnknownEnvironment(s.to_owned()))
    }
}

/// The optimization settings of section 3.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Whether the engine may apply SCALE_UP on its own.
    pub enable_auto_scaling_optimization: bool,
    /// Whether the cost optimizer runs its analyses.
    pub enable_cost_optimization: bool,
    /// Whether the analyzer scores and publishes.
    pub enable_performance_monitoring: bool,
    /// How often the analyzer runs, and the assessment window, in minutes.
    pub analysis_interval_minutes: u32,
    /// CPU, memory and response time targets, the throughput target (requests a minute per
    /// instance) and the utilization threshold (percent; under it a group is under-utilized).
    pub targets: Targets,
    /// Hourly run-rate above which a cost alert fires, USD.
    pub max_hourly_cost: f64,
}

/// The JSON shape of one preset.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PresetFile {
    enable_auto_scaling_optimization: bool,
    enable_cost_optimization: bool,
    enable_performance_monitoring: bool,
    analysis_interval_minutes: u32,
    cpu_utilization_target: f64,
    memory_utilization_target: f64,
    response_time_target_ms: f64,
    throughput_target: f64,
    max_hourly_cost: f64,
    utilization_threshold: f64,
}

#[derive(Deserialize)]
struct PresetsFile {
    production: PresetFile,
    staging: PresetFile,
    development: PresetFile,
}

struct Presets {
    production: Settings,
    staging: Settings,
    development: Settings,
}

/// The presets file, compiled in so that a deployed function needs no file system.
pub const PRESETS_JSON: &str = include_str!("../../schema/presets.json");

fn parse_presets(json: &str) -> Result<Presets, String> {
    let file: PresetsFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let settings = |p: PresetFile| -> Result<Settings, String> {
        Ok(Settings {
            enable_auto_scaling_optimization: p.enable_auto_scaling_optimization,
            enable_cost_optimization: p.enable_cost_optimization,
            enable_performance_monitoring: p.enable_performance_monitoring,
            analysis_interval_minutes: p.analysis_interval_minutes,
            targets: Targets::new(
                p.cpu_utilization_target,
                p.memory_utilization_target,
                p.response_time_target_ms,
                p.throughput_target,
                p.utilization_threshold,
            )
            .map_err(|e| e.to_string())?,
            max_hourly_cost: p.max_hourly_cost,
        })
    };
    Ok(Presets {
        production: settings(file.production)?,
        staging: settings(file.staging)?,
        development: settings(file.development)?,
    })
}

#[allow(clippy::expect_used)]
static PRESETS: LazyLock<Presets> = LazyLock::new(|| {
    // The file is compiled in, so it cannot change after the build; the unit test
    // `presets_are_those_of_docs_configuration` parses it and checks every value, so this never fails
    // in a tested build.
    parse_presets(PRESETS_JSON).expect("shared/schema/presets.json is valid")
});

/// Which Auto Scaling groups the functions work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetSelector {
    /// These groups, by name (`FLEETOPT_TARGET_GROUPS`).
    Names(Vec<String>),
    /// Every group carrying this tag (`FLEETOPT_TARGET_TAG`).
    Tag {
        /// Tag key.
        key: String,
        /// Tag value.
        value: String,
    },
}

/// The SNS topics notifications go to; no topic, no notification.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Topics {
    /// New recommendations and approvals.
    pub recommendation: Option<String>,
    /// HIGH-priority performance findings.
    pub performance_alert: Option<String>,
    /// Cost alerts.
    pub cost_alert: Option<String>,
}

/// Everything a function needs to know, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The environment.
    pub environment: Environment,
    /// The application name, used in resource names.
    pub application: String,
    /// The recommendations table.
    pub table: String,
    /// Which groups to work on.
    pub fleet: FleetSelector,
    /// The preset with its overrides.
    pub settings: Settings,
    /// SNS topics.
    pub topics: Topics,
    /// Decide and log everything, change nothing.
    pub dry_run: bool,
    /// CloudWatch namespace of the published metrics.
    pub metrics_namespace: String,
    /// The wait after a scaling activity before the engine scales a group again; `None`: the
    /// group's own DefaultCooldown.
    pub scaling_cooldown_seconds: Option<u32>,
    /// The operator's controls over automation and noise.
    pub controls: Controls,
    /// The operator's right-sizing preferences (percentile, headroom, lookback, families).
    pub right_sizing: RightSizingPreferences,
    /// How long the function waits for AWS.
    pub aws_timeouts: AwsTimeouts,
    /// The signing keys and how long approvals and changes stay valid.
    pub approvals: Approvals,
    /// The role the functions assume in another account (`FLEETOPT_MEMBER_ROLE_NAME`, default
    /// `fleet-optimizer-member`): a shard of that account is read and scaled through it.
    pub member_role_name: String,
    /// When the engine may apply approved scale-downs, type changes and schedules
    /// (`FLEETOPT_CHANGE_WINDOW_CRON` and `_MINUTES`); `None`: whenever they are approved.
    pub change_window: Option<ChangeWindow>,
}

/// How approvals are proven and how long they, and changes in flight, stay valid
/// (docs/configuration.md, "Approvals").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approvals {
    /// The approvals key (`FLEETOPT_APPROVAL_KEY`; id, ARN or alias; default
    /// `alias/<application>-<environment>-approvals`): `kms:Sign` on it is the right to approve.
    pub approval_key: String,
    /// The findings key (`FLEETOPT_FINDING_KEY`; default
    /// `alias/<application>-<environment>-findings`): the analyzer signs automated changes.
    pub finding_key: String,
    /// A capacity change (SCALE_UP, SCALE_DOWN) awaiting approval or approved expires this
    /// many hours after its analysis (`FLEETOPT_APPROVAL_MAX_AGE_HOURS`, 1..=168, default 6).
    pub capacity_max_age_hours: u32,
    /// Any other type expires this many days after its analysis
    /// (`FLEETOPT_MANUAL_APPROVAL_MAX_AGE_DAYS`, 1..=90, default 14).
    pub manual_max_age_days: u32,
    /// An IN_PROGRESS change older than this many minutes is closed with an alert
    /// (`FLEETOPT_IN_PROGRESS_MAX_MINUTES`, 10..=1440, default 120).
    pub in_progress_max_minutes: u32,
    /// Roll back an automated change whose measured outcome is WORSE
    /// (`FLEETOPT_ROLLBACK_WORSE`, default false).
    pub roll_back_worse: bool,
}

/// The default alias of one of an environment's signing keys (`approvals` or `findings`).
pub fn default_key_alias(application: &str, environment: Environment, key: &str) -> String {
    format!("alias/{application}-{environment}-{key}")
}

/// How long a function waits for AWS, in whole seconds: one attempt of a call, and the call with
/// its retries (`FLEETOPT_AWS_ATTEMPT_TIMEOUT_SECONDS`, `FLEETOPT_AWS_OPERATION_TIMEOUT_SECONDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsTimeouts {
    /// One attempt, seconds (default 20).
    pub attempt_seconds: u32,
    /// One call with its retries, seconds (default 60; never less than an attempt).
    pub operation_seconds: u32,
}

impl Default for AwsTimeouts {
    /// 20 s an attempt, 60 s a call: the engine's 2-minute function timeout outlasts one hung
    /// call with room to answer.
    fn default() -> Self {
        AwsTimeouts {
            attempt_seconds: 20,
            operation_seconds: 60,
        }
    }
}

/// The longest AWS timeout accepted: Lambda's longest function timeout, 15 minutes.
pub const MAX_AWS_TIMEOUT_SECONDS: u32 = 900;

/// The operator's controls: how far one action moves a group, how persistent a need must be
/// before automation acts on it, and which findings are noise (README "Operator controls").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Controls {
    /// One action moves desired capacity by at most this share of it, percent (1..=100).
    pub max_step_percent: u32,
    /// One action moves desired capacity by at most this many instances (at least 1).
    pub max_step_instances: u32,
    /// Consecutive analyses that must find the same SCALE_UP before it is applied
    /// automatically, by priority.
    pub persistence: PersistenceRule,
    /// No recommendation reverses an action applied this many hours ago or less, unless HIGH.
    pub churn_window_hours: u32,
    /// No cost recommendation saves less than this, USD per month.
    pub min_monthly_savings_usd: f64,
    /// No cost recommendation saves less than this share of the cost, percent.
    pub min_savings_percent: f64,
}

impl Default for Controls {
    fn default() -> Self {
        Controls {
            max_step_percent: 50,
            max_step_instances: 10,
            persistence: PersistenceRule::default(),
            churn_window_hours: 6,
            min_monthly_savings_usd: 5.0,
            min_savings_percent: 5.0,
        }
    }
}

/// Consecutive analyses required before an automated SCALE_UP, per priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersistenceRule {
    /// HIGH (default 1: act at once).
    pub high: u32,
    /// MEDIUM (default 2).
    pub medium: u32,
    /// LOW (default 3).
    pub low: u32,
}

impl Default for PersistenceRule {
    fn default() -> Self {
        PersistenceRule {
            high: 1,
            medium: 2,
            low: 3,
        }
    }
}

impl PersistenceRule {
    /// The most analyses a setting may ask for: a day of hourly analyses.
    pub const MAX: u32 = 24;

    /// The count required for `priority`.
    pub fn required(&self, priority: Priority) -> u32 {
        match priority {
            Priority::High => self.high,
            Priority::Medium => self.medium,
            Priority::Low => self.low,
        }
    }

    /// `3` (every priority) or `HIGH=1,MEDIUM=2,LOW=3` (the priorities named; the others keep
    /// their defaults), each from 1 to [`PersistenceRule::MAX`].
    pub fn parse(text: &str) -> Result<PersistenceRule, String> {
        let count = |raw: &str| match raw.trim().parse::<u32>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(n),
            _ => Err(format!(
                "{:?} is not a count of analyses from 1 to {}",
                raw.trim(),
                Self::MAX
            )),
        };
        if !text.contains('=') {
            let n = count(text)?;
            return Ok(PersistenceRule {
                high: n,
                medium: n,
                low: n,
            });
        }
        let mut p = PersistenceRule::default();
        for part in text.split(',') {
            let (name, raw) = part
                .split_once('=')
                .ok_or_else(|| format!("{:?} is not PRIORITY=COUNT", part.trim()))?;
            let priority: Priority = name.trim().to_ascii_uppercase().parse()?;
            let n = count(raw)?;
            match priority {
                Priority::High => p.high = n,
                Priority::Medium => p.medium = n,
                Priority::Low => p.low = n,
            }
        }
        Ok(p)
    }
}

/// One refused variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}{}: {problem}", value.as_ref().map(|v| format!("={v:?}")).unwrap_or_default())]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// Its value, when it had one.
    pub value: Option<String>,
    /// What is wrong and what is allowed.
    pub problem: String,
}

/// Every problem found in the environment, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: ")?;
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The variables of section 12.
pub mod vars {
    /// `production`, `staging` or `development` (required).
    pub const ENVIRONMENT: &str = "FLEETOPT_ENVIRONMENT";
    /// Application name (required).
    pub const APPLICATION: &str = "FLEETOPT_APPLICATION";
    /// Recommendations table.
    pub const TABLE: &str = "FLEETOPT_TABLE";
    /// Comma-separated group names.
    pub const TARGET_GROUPS: &str = "FLEETOPT_TARGET_GROUPS";
    /// `key=value` tag selector.
    pub const TARGET_TAG: &str = "FLEETOPT_TARGET_TAG";
    /// Override of cpuUtilizationTarget.
    pub const CPU_UTILIZATION_TARGET: &str = "FLEETOPT_CPU_UTILIZATION_TARGET";
    /// Override of memoryUtilizationTarget.
    pub const MEMORY_UTILIZATION_TARGET: &str = "FLEETOPT_MEMORY_UTILIZATION_TARGET";
    /// Override of responseTimeTarget.
    pub const RESPONSE_TIME_TARGET_MS: &str = "FLEETOPT_RESPONSE_TIME_TARGET_MS";
    /// Override of throughputTarget.
    pub const THROUGHPUT_TARGET: &str = "FLEETOPT_THROUGHPUT_TARGET";
    /// Override of maxHourlyCost.
    pub const MAX_HOURLY_COST: &str = "FLEETOPT_MAX_HOURLY_COST";
    /// Override of utilizationThreshold.
    pub const UTILIZATION_THRESHOLD: &str = "FLEETOPT_UTILIZATION_THRESHOLD";
    /// Override of analysisInterval.
    pub const ANALYSIS_INTERVAL_MINUTES: &str = "FLEETOPT_ANALYSIS_INTERVAL_MINUTES";
    /// Override of enableAutoScalingOptimization.
    pub const ENABLE_AUTO_SCALING_OPTIMIZATION: &str = "FLEETOPT_ENABLE_AUTO_SCALING_OPTIMIZATION";
    /// Override of enableCostOptimization.
    pub const ENABLE_COST_OPTIMIZATION: &str = "FLEETOPT_ENABLE_COST_OPTIMIZATION";
    /// Override of enablePerformanceMonitoring.
    pub const ENABLE_PERFORMANCE_MONITORING: &str = "FLEETOPT_ENABLE_PERFORMANCE_MONITORING";
    /// Recommendation topic.
    pub const RECOMMENDATION_TOPIC_ARN: &str = "FLEETOPT_RECOMMENDATION_TOPIC_ARN";
    /// Performance alert topic.
    pub const PERFORMANCE_ALERT_TOPIC_ARN: &str = "FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN";
    /// Cost alert topic.
    pub const COST_ALERT_TOPIC_ARN: &str = "FLEETOPT_COST_ALERT_TOPIC_ARN";
    /// `true`: change nothing.
    pub const DRY_RUN: &str = "FLEETOPT_DRY_RUN";
    /// CloudWatch namespace.
    pub const METRICS_NAMESPACE: &str = "FLEETOPT_METRICS_NAMESPACE";
    /// The role assumed in a member account (default `fleet-optimizer-member`).
    pub const MEMBER_ROLE_NAME: &str = "FLEETOPT_MEMBER_ROLE_NAME";
    /// Seconds the engine waits after a scaling activity (default: the group's DefaultCooldown).
    pub const SCALING_COOLDOWN_SECONDS: &str = "FLEETOPT_SCALING_COOLDOWN_SECONDS";
    /// Largest step of one action, percent of desired capacity (default 50).
    pub const MAX_STEP_PERCENT: &str = "FLEETOPT_MAX_STEP_PERCENT";
    /// Largest step of one action, instances (default 10).
    pub const MAX_STEP_INSTANCES: &str = "FLEETOPT_MAX_STEP_INSTANCES";
    /// Consecutive analyses before an automated SCALE_UP: `N` or `HIGH=1,MEDIUM=2,LOW=3`.
    pub const PERSISTENCE_ANALYSES: &str = "FLEETOPT_PERSISTENCE_ANALYSES";
    /// Hours during which an applied action is not reversed unless HIGH (default 6).
    pub const CHURN_WINDOW_HOURS: &str = "FLEETOPT_CHURN_WINDOW_HOURS";
    /// Smallest monthly saving of a cost recommendation, USD (default 5).
    pub const MIN_MONTHLY_SAVINGS_USD: &str = "FLEETOPT_MIN_MONTHLY_SAVINGS_USD";
    /// Smallest saving of a cost recommendation, percent (default 5).
    pub const MIN_SAVINGS_PERCENT: &str = "FLEETOPT_MIN_SAVINGS_PERCENT";
    /// Most hours above 90 % CPU a capacity proposal's backtest may show, percent (default 1).
    pub const BACKTEST_MAX_SATURATED_PERCENT: &str = "FLEETOPT_BACKTEST_MAX_SATURATED_PERCENT";
    /// The engine's change window: a five-field cron, UTC (default: none).
    pub const CHANGE_WINDOW_CRON: &str = "FLEETOPT_CHANGE_WINDOW_CRON";
    /// The change window's length, minutes (1 to 1440; required with the cron).
    pub const CHANGE_WINDOW_MINUTES: &str = "FLEETOPT_CHANGE_WINDOW_MINUTES";
    /// Percentile of hourly maxima right-sizing sizes for: `p90`, `p95` or `p99.5` (default).
    pub const RIGHTSIZING_CPU_PERCENTILE: &str = "FLEETOPT_RIGHTSIZING_CPU_PERCENTILE";
    /// Room above the projected CPU, percent, 0 to 100 (default 20).
    pub const RIGHTSIZING_CPU_HEADROOM: &str = "FLEETOPT_RIGHTSIZING_CPU_HEADROOM";
    /// Room above the projected memory, percent, 0 to 100 (default 20).
    pub const RIGHTSIZING_MEMORY_HEADROOM: &str = "FLEETOPT_RIGHTSIZING_MEMORY_HEADROOM";
    /// Days of hourly maxima right-sizing reads: 14 (default) or 32.
    pub const RIGHTSIZING_LOOKBACK_DAYS: &str = "FLEETOPT_RIGHTSIZING_LOOKBACK_DAYS";
    /// Comma-separated instance families type changes are limited to, such as `m7g,c7g`.
    pub const RIGHTSIZING_PREFERRED_FAMILIES: &str = "FLEETOPT_RIGHTSIZING_PREFERRED_FAMILIES";
    /// Comma-separated instance families type changes never go to.
    pub const RIGHTSIZING_EXCLUDED_FAMILIES: &str = "FLEETOPT_RIGHTSIZING_EXCLUDED_FAMILIES";
    /// Seconds one attempt of an AWS call may take (default 20).
    pub const AWS_ATTEMPT_TIMEOUT_SECONDS: &str = "FLEETOPT_AWS_ATTEMPT_TIMEOUT_SECONDS";
    /// Seconds one AWS call may take with its retries (default 60).
    pub const AWS_OPERATION_TIMEOUT_SECONDS: &str = "FLEETOPT_AWS_OPERATION_TIMEOUT_SECONDS";
    /// The approvals signing key (id, ARN or alias).
    pub const APPROVAL_KEY: &str = "FLEETOPT_APPROVAL_KEY";
    /// The findings signing key (id, ARN or alias).
    pub const FINDING_KEY: &str = "FLEETOPT_FINDING_KEY";
    /// Hours a capacity change may wait for, or hold, an approval (default 6).
    pub const APPROVAL_MAX_AGE_HOURS: &str = "FLEETOPT_APPROVAL_MAX_AGE_HOURS";
    /// Days any other approval request may wait or hold (default 14).
    pub const MANUAL_APPROVAL_MAX_AGE_DAYS: &str = "FLEETOPT_MANUAL_APPROVAL_MAX_AGE_DAYS";
    /// Minutes before an IN_PROGRESS change is closed with an alert (default 120).
    pub const IN_PROGRESS_MAX_MINUTES: &str = "FLEETOPT_IN_PROGRESS_MAX_MINUTES";
    /// Roll back automated changes measured WORSE (default false).
    pub const ROLLBACK_WORSE: &str = "FLEETOPT_ROLLBACK_WORSE";
}

/// The default tag selector: `fleet-optimizer:enabled=true`.
pub const DEFAULT_TARGET_TAG: (&str, &str) = ("fleet-optimizer:enabled", "true");
/// The default metrics namespace.
pub const DEFAULT_METRICS_NAMESPACE: &str = "FleetOptimizer";

/// The role a member account's stack creates and the functions assume there.
pub const DEFAULT_MEMBER_ROLE_NAME: &str = "fleet-optimizer-member";

/// An IAM role name: 1 to 64 of letters, digits and `+=,.@_-`.
fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}
/// The longest analysis interval accepted: the trend window is 24 h.
pub const MAX_ANALYSIS_INTERVAL_MINUTES: u32 = 24 * 60;
/// The longest scaling cooldown accepted: a day, like the analysis interval.
pub const MAX_COOLDOWN_SECONDS: u32 = 24 * 60 * 60;

/// A tag selector `key=value` (`FLEETOPT_TARGET_TAG`, `fleetopt scaling --tag`): a non-empty
/// key, a value that may be empty, both trimmed.
pub fn parse_tag(text: &str) -> Option<(String, String)> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Some((key.trim().to_owned(), value.trim().to_owned()))
        }
        _ => None,
    }
}

/// The recommendations table's default name: `<application>-<environment>-optimization-recommendations`.
pub fn default_table_name(application: &str, environment: Environment) -> String {
    format!("{application}-{environment}-optimization-recommendations")
}

/// Reads variables through a lookup and collects every problem.
struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<ConfigError>,
}

impl Reader<'_> {
    /// The variable's value; unset and blank are the same (a stack passes "" for "not set").
    fn get(&self, variable: &'static str) -> Option<String> {
        (self.lookup)(variable)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn refuse(&mut self, variable: &'static str, value: Option<&str>, problem: impl Into<String>) {
        self.errors.push(ConfigError {
            variable,
            value: value.map(str::to_owned),
            problem: problem.into(),
        });
    }

    fn required(&mut self, variable: &'static str, what: &str) -> Option<String> {
        let value = self.get(variable);
        if value.is_none() {
            self.refuse(variable, None, format!("is required ({what})"));
        }
        value
    }

    fn number(&mut self, variable: &'static str, default: f64, check: NumberRule) -> f64 {
        let Some(raw) = self.get(variable) else {
            return default;
        };
        match raw.parse::<f64>() {
            Ok(value) if value.is_finite() && check.allows(value) => value,
            Ok(_) => {
                self.refuse(variable, Some(&raw), check.describe());
                default
            }
            Err(_) => {
                self.refuse(
                    variable,
                    Some(&raw),
                    format!("is not a number; {}", check.describe()),
                );
                default
            }
        }
    }

    fn minutes(&mut self, variable: &'static str, default: u32) -> u32 {
        self.whole(variable, 1..=MAX_ANALYSIS_INTERVAL_MINUTES, "minutes")
            .unwrap_or(default)
    }

    /// A whole number within `range`, when the variable is set and valid.
    fn whole(
        &mut self,
        variable: &'static str,
        range: std::ops::RangeInclusive<u32>,
        unit: &str,
    ) -> Option<u32> {
        let raw = self.get(variable)?;
        match raw.parse::<u32>() {
            Ok(value) if range.contains(&value) => Some(value),
            _ => {
                self.refuse(
                    variable,
                    Some(&raw),
                    format!(
                        "must be a whole number of {unit} from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// A comma-separated list of instance families, folded to lower case, without repeats;
    /// empty when unset or refused.
    fn families(&mut self, variable: &'static str) -> Vec<InstanceFamily> {
        let Some(raw) = self.get(variable) else {
            return Vec::new();
        };
        let mut families = Vec::new();
        for part in raw.split(',') {
            match part.parse::<InstanceFamily>() {
                Ok(f) if families.contains(&f) => {}
                Ok(f) => families.push(f),
                Err(problem) => {
                    self.refuse(
                        variable,
                        Some(&raw),
                        format!(
                            "{problem}; expected comma-separated instance families such as \
                             m7g,c7g"
                        ),
                    );
                    return Vec::new();
                }
            }
        }
        families
    }

    fn flag(&mut self, variable: &'static str, default: bool) -> bool {
        let Some(raw) = self.get(variable) else {
            return default;
        };
        match raw.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => {
                self.refuse(variable, Some(&raw), "must be true or false");
                default
            }
        }
    }

    fn topic(&mut self, variable: &'static str) -> Option<String> {
        let raw = self.get(variable)?;
        let parts: Vec<&str> = raw.split(':').collect();
        if parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns" && !parts[5].is_empty() {
            Some(raw)
        } else {
            self.refuse(
                variable,
                Some(&raw),
                "must be an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>)",
            );
            None
        }
    }
}

/// The range a numeric variable must lie in.
#[derive(Clone, Copy)]
enum NumberRule {
    /// 20..=90: CPU and memory targets.
    Utilization,
    /// 0..=100.
    Percent,
    /// > 0.
    Positive,
    /// >= 0.
    NonNegative,
}

impl NumberRule {
    fn allows(self, value: f64) -> bool {
        match self {
            NumberRule::Utilization => {
                (Targets::MIN_UTILIZATION..=Targets::MAX_UTILIZATION).contains(&value)
            }
            NumberRule::Percent => (0.0..=100.0).contains(&value),
            NumberRule::Positive => value > 0.0,
            NumberRule::NonNegative => value >= 0.0,
        }
    }

    fn describe(self) -> String {
        match self {
            NumberRule::Utilization => format!(
                "must be between {} and {} (percent)",
                Targets::MIN_UTILIZATION,
                Targets::MAX_UTILIZATION
            ),
            NumberRule::Percent => "must be between 0 and 100 (percent)".to_owned(),
            NumberRule::Positive => "must be a number greater than 0".to_owned(),
            NumberRule::NonNegative => "must be a number, 0 or more".to_owned(),
        }
    }
}

fn is_name(value: &str, extra: &[char]) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

impl Config {
    /// Reads and validates the process environment.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads and validates variables through `lookup` (a map in tests).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let mut r = Reader {
            lookup,
            errors: Vec::new(),
        };
        let environment = r
            .required(vars::ENVIRONMENT, "production, staging or development")
            .and_then(|raw| match raw.parse::<Environment>() {
                Ok(environment) => Some(environment),
                Err(_) => {
                    r.refuse(
                        vars::ENVIRONMENT,
                        Some(&raw),
                        "must be production, staging or development",
                    );
                    None
                }
            });
        let application = r
            .required(
                vars::APPLICATION,
                "the application name used in resource names",
            )
            .and_then(|raw| {
                if raw.len() <= 32 && is_name(&raw, &['-', '_']) {
                    Some(raw)
                } else {
                    r.refuse(
                        vars::APPLICATION,
                        Some(&raw),
                        "must be 1 to 32 letters, digits, '-' or '_' (it becomes part of \
                         function and table names)",
                    );
                    None
                }
            });
        let table = r.get(vars::TABLE).and_then(|raw| {
            if (3..=255).contains(&raw.len()) && is_name(&raw, &['-', '_', '.']) {
                Some(raw)
            } else {
                r.refuse(
                    vars::TABLE,
                    Some(&raw),
                    "must be a DynamoDB table name: 3 to 255 letters, digits, '-', '_' or '.'",
                );
                None
            }
        });
        let fleet = Self::read_fleet(&mut r);

        // Overrides apply to the preset of the environment; without a valid environment they
        // are still validated (against production's preset) so that every problem is reported.
        let preset = environment.unwrap_or(Environment::Production).preset();
        let targets = preset.targets;
        let cpu = r.number(
            vars::CPU_UTILIZATION_TARGET,
            targets.cpu_utilization(),
            NumberRule::Utilization,
        );
        let memory = r.number(
            vars::MEMORY_UTILIZATION_TARGET,
            targets.memory_utilization(),
            NumberRule::Utilization,
        );
        let response = r.number(
            vars::RESPONSE_TIME_TARGET_MS,
            targets.response_time_ms(),
            NumberRule::Positive,
        );
        let throughput = r.number(
            vars::THROUGHPUT_TARGET,
            targets.throughput_target(),
            NumberRule::Positive,
        );
        let threshold = r.number(
            vars::UTILIZATION_THRESHOLD,
            targets.utilization_threshold(),
            NumberRule::Percent,
        );
        let settings = Settings {
            enable_auto_scaling_optimization: r.flag(
                vars::ENABLE_AUTO_SCALING_OPTIMIZATION,
                preset.enable_auto_scaling_optimization,
            ),
            enable_cost_optimization: r.flag(
                vars::ENABLE_COST_OPTIMIZATION,
                preset.enable_cost_optimization,
            ),
            enable_performance_monitoring: r.flag(
                vars::ENABLE_PERFORMANCE_MONITORING,
                preset.enable_performance_monitoring,
            ),
            analysis_interval_minutes: r.minutes(
                vars::ANALYSIS_INTERVAL_MINUTES,
                preset.analysis_interval_minutes,
            ),
            // Each value was checked against the same rules `Targets::new` applies; falling
            // back to the preset keeps this total when one was refused (and reported).
            targets: Targets::new(cpu, memory, response, throughput, threshold).unwrap_or(targets),
            max_hourly_cost: r.number(
                vars::MAX_HOURLY_COST,
                preset.max_hourly_cost,
                NumberRule::Positive,
            ),
        };
        let topics = Topics {
            recommendation: r.topic(vars::RECOMMENDATION_TOPIC_ARN),
            performance_alert: r.topic(vars::PERFORMANCE_ALERT_TOPIC_ARN),
            cost_alert: r.topic(vars::COST_ALERT_TOPIC_ARN),
        };
        let dry_run = r.flag(vars::DRY_RUN, false);
        let metrics_namespace = match r.get(vars::METRICS_NAMESPACE) {
            None => DEFAULT_METRICS_NAMESPACE.to_owned(),
            Some(raw) if raw.len() <= 255 && !raw.starts_with("AWS/") => raw,
            Some(raw) => {
                r.refuse(
                    vars::METRICS_NAMESPACE,
                    Some(&raw),
                    "must be at most 255 characters and must not start with the reserved \"AWS/\"",
                );
                DEFAULT_METRICS_NAMESPACE.to_owned()
            }
        };
        let member_role_name = match r.get(vars::MEMBER_ROLE_NAME) {
            None => DEFAULT_MEMBER_ROLE_NAME.to_owned(),
            Some(raw) if is_role_name(&raw) => raw,
            Some(raw) => {
                r.refuse(
                    vars::MEMBER_ROLE_NAME,
                    Some(&raw),
                    "must be an IAM role name: 1 to 64 letters, digits or +=,.@_- (no path)",
                );
                DEFAULT_MEMBER_ROLE_NAME.to_owned()
            }
        };

        let scaling_cooldown_seconds = r.whole(
            vars::SCALING_COOLDOWN_SECONDS,
            0..=MAX_COOLDOWN_SECONDS,
            "seconds",
        );

        let defaults = Controls::default();
        let persistence = match r.get(vars::PERSISTENCE_ANALYSES) {
            None => defaults.persistence,
            Some(raw) => PersistenceRule::parse(&raw).unwrap_or_else(|problem| {
                r.refuse(
                    vars::PERSISTENCE_ANALYSES,
                    Some(&raw),
                    format!("{problem}; expected N or HIGH=1,MEDIUM=2,LOW=3"),
                );
                defaults.persistence
            }),
        };
        let controls = Controls {
            max_step_percent: r
                .whole(vars::MAX_STEP_PERCENT, 1..=100, "percent")
                .unwrap_or(defaults.max_step_percent),
            max_step_instances: r
                .whole(vars::MAX_STEP_INSTANCES, 1..=10_000, "instances")
                .unwrap_or(defaults.max_step_instances),
            persistence,
            churn_window_hours: r
                .whole(vars::CHURN_WINDOW_HOURS, 0..=7 * 24, "hours")
                .unwrap_or(defaults.churn_window_hours),
            min_monthly_savings_usd: r.number(
                vars::MIN_MONTHLY_SAVINGS_USD,
                defaults.min_monthly_savings_usd,
                NumberRule::NonNegative,
            ),
            min_savings_percent: r.number(
                vars::MIN_SAVINGS_PERCENT,
                defaults.min_savings_percent,
                NumberRule::Percent,
            ),
        };
        let change_window = Self::read_change_window(&mut r);

        let right_sizing = Self::read_right_sizing(&mut r);
        let aws_timeouts = Self::read_aws_timeouts(&mut r);
        let approval_key = r.get(vars::APPROVAL_KEY);
        let finding_key = r.get(vars::FINDING_KEY);
        let capacity_max_age_hours = r
            .whole(vars::APPROVAL_MAX_AGE_HOURS, 1..=168, "hours")
            .unwrap_or(6);
        let manual_max_age_days = r
            .whole(vars::MANUAL_APPROVAL_MAX_AGE_DAYS, 1..=90, "days")
            .unwrap_or(14);
        let in_progress_max_minutes = r
            .whole(vars::IN_PROGRESS_MAX_MINUTES, 10..=1440, "minutes")
            .unwrap_or(120);
        let roll_back_worse = r.flag(vars::ROLLBACK_WORSE, false);

        match (environment, application, r.errors.is_empty()) {
            (Some(environment), Some(application), true) => Ok(Config {
                table: table.unwrap_or_else(|| default_table_name(&application, environment)),
                fleet,
                settings,
                topics,
                dry_run,
                metrics_namespace,
                scaling_cooldown_seconds,
                controls,
                right_sizing,
                aws_timeouts,
                approvals: Approvals {
                    approval_key: approval_key.unwrap_or_else(|| {
                        default_key_alias(&application, environment, "approvals")
                    }),
                    finding_key: finding_key.unwrap_or_else(|| {
                        default_key_alias(&application, environment, "findings")
                    }),
                    capacity_max_age_hours,
                    manual_max_age_days,
                    in_progress_max_minutes,
                    roll_back_worse,
                },
                member_role_name,
                change_window,
                environment,
                application,
            }),
            _ => Err(ConfigErrors(r.errors)),
        }
    }

    /// The `FLEETOPT_AWS_*_TIMEOUT_SECONDS` pair; an attempt longer than the call is refused.
    /// The change window: both variables or neither.
    fn read_change_window(r: &mut Reader<'_>) -> Option<ChangeWindow> {
        let cron = r.get(vars::CHANGE_WINDOW_CRON);
        let minutes = r.whole(
            vars::CHANGE_WINDOW_MINUTES,
            1..=MAX_WINDOW_MINUTES,
            "minutes",
        );
        match (cron, minutes) {
            (None, None) => None,
            (Some(_), None) if r.get(vars::CHANGE_WINDOW_MINUTES).is_some() => None,
            (Some(cron), None) => {
                r.refuse(
                    vars::CHANGE_WINDOW_MINUTES,
                    None,
                    format!("is required with {} ({cron})", vars::CHANGE_WINDOW_CRON),
                );
                None
            }
            (None, Some(_)) => {
                r.refuse(
                    vars::CHANGE_WINDOW_CRON,
                    None,
                    format!("is required with {}", vars::CHANGE_WINDOW_MINUTES),
                );
                None
            }
            (Some(cron), Some(minutes)) => match ChangeWindow::new(&cron, minutes) {
                Ok(w) => Some(w),
                Err(problem) => {
                    r.refuse(
                        vars::CHANGE_WINDOW_CRON,
                        Some(&cron),
                        format!(
                            "{problem}; expected five fields, UTC: minute hour day-of-month \
                             month day-of-week, e.g. \"0 2 * * SUN\""
                        ),
                    );
                    None
                }
            },
        }
    }

    fn read_aws_timeouts(r: &mut Reader<'_>) -> AwsTimeouts {
        let defaults = AwsTimeouts::default();
        let range = 1..=MAX_AWS_TIMEOUT_SECONDS;
        let attempt_seconds = r
            .whole(vars::AWS_ATTEMPT_TIMEOUT_SECONDS, range.clone(), "seconds")
            .unwrap_or(defaults.attempt_seconds);
        let operation = r.whole(vars::AWS_OPERATION_TIMEOUT_SECONDS, range, "seconds");
        let operation_seconds =
            operation.unwrap_or(defaults.operation_seconds.max(attempt_seconds));
        if operation_seconds < attempt_seconds {
            r.refuse(
                vars::AWS_OPERATION_TIMEOUT_SECONDS,
                operation.map(|o| o.to_string()).as_deref(),
                format!(
                    "must be at least the attempt timeout ({attempt_seconds} s): a call is one \
                     attempt or more"
                ),
            );
        }
        AwsTimeouts {
            attempt_seconds,
            operation_seconds: operation_seconds.max(attempt_seconds),
        }
    }

    /// The `FLEETOPT_RIGHTSIZING_*` preferences; each refused value is reported and replaced by
    /// its default so the rest are still checked.
    fn read_right_sizing(r: &mut Reader<'_>) -> RightSizingPreferences {
        let defaults = RightSizingPreferences::default();
        let cpu_percentile = match r.get(vars::RIGHTSIZING_CPU_PERCENTILE) {
            None => defaults.cpu_percentile,
            Some(raw) => raw.parse::<CpuPercentile>().unwrap_or_else(|_| {
                r.refuse(
                    vars::RIGHTSIZING_CPU_PERCENTILE,
                    Some(&raw),
                    "must be p90, p95 or p99.5",
                );
                defaults.cpu_percentile
            }),
        };
        let cpu_headroom_percent = r.number(
            vars::RIGHTSIZING_CPU_HEADROOM,
            defaults.cpu_headroom_percent,
            NumberRule::Percent,
        );
        let memory_headroom_percent = r.number(
            vars::RIGHTSIZING_MEMORY_HEADROOM,
            defaults.memory_headroom_percent,
            NumberRule::Percent,
        );
        let lookback_days = match r.get(vars::RIGHTSIZING_LOOKBACK_DAYS) {
            None => defaults.lookback_days,
            Some(raw) => match raw.parse::<u32>() {
                Ok(days) if RightSizingPreferences::LOOKBACK_DAYS.contains(&days) => days,
                _ => {
                    r.refuse(
                        vars::RIGHTSIZING_LOOKBACK_DAYS,
                        Some(&raw),
                        "must be 14 or 32 (days)",
                    );
                    defaults.lookback_days
                }
            },
        };
        let preferred_families = r.families(vars::RIGHTSIZING_PREFERRED_FAMILIES);
        let excluded_families = r.families(vars::RIGHTSIZING_EXCLUDED_FAMILIES);
        let both: Vec<&str> = excluded_families
            .iter()
            .filter(|f| preferred_families.contains(f))
            .map(InstanceFamily::as_str)
            .collect();
        if !both.is_empty() {
            let raw = r.get(vars::RIGHTSIZING_EXCLUDED_FAMILIES);
            r.refuse(
                vars::RIGHTSIZING_EXCLUDED_FAMILIES,
                raw.as_deref(),
                format!(
                    "{} also in {}: a family cannot be both preferred and excluded",
                    both.join(", "),
                    vars::RIGHTSIZING_PREFERRED_FAMILIES
                ),
            );
        }
        RightSizingPreferences {
            cpu_percentile,
            cpu_headroom_percent,
            memory_headroom_percent,
            lookback_days,
            preferred_families,
            excluded_families,
            max_saturated_percent: r.number(
                vars::BACKTEST_MAX_SATURATED_PERCENT,
                defaults.max_saturated_percent,
                NumberRule::Percent,
            ),
        }
    }

    fn read_fleet(r: &mut Reader<'_>) -> FleetSelector {
        if let Some(raw) = r.get(vars::TARGET_GROUPS) {
            let names: Vec<String> = raw.split(',').map(|n| n.trim().to_owned()).collect();
            if names.iter().any(|n| n.is_empty() || n.len() > 255) {
                r.refuse(
                    vars::TARGET_GROUPS,
                    Some(&raw),
                    "must be comma-separated Auto Scaling group names, none empty or longer \
                     than 255 characters",
                );
            }
            return FleetSelector::Names(names);
        }
        let (key, value) = match r.get(vars::TARGET_TAG) {
            None => (
                DEFAULT_TARGET_TAG.0.to_owned(),
                DEFAULT_TARGET_TAG.1.to_owned(),
            ),
            Some(raw) => match parse_tag(&raw) {
                Some(tag) => tag,
                None => {
                    r.refuse(
                        vars::TARGET_TAG,
                        Some(&raw),
                        "must be key=value, for example fleet-optimizer:enabled=true",
                    );
                    (String::new(), String::new())
                }
            },
        };
        FleetSelector::Tag { key, value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(&move |name| map.get(name).cloned())
    }

    fn minimal(environment: &str) -> Vec<(&str, &str)> {
        vec![
            (vars::ENVIRONMENT, environment),
            (vars::APPLICATION, "shop"),
        ]
    }

    #[test]
    fn a_change_window_takes_both_variables_and_a_valid_cron() {
        assert_eq!(config(&minimal("production")).unwrap().change_window, None);
        let mut vars = minimal("production");
        vars.extend([
            (vars::CHANGE_WINDOW_CRON, "0  2 * * SUN"),
            (vars::CHANGE_WINDOW_MINUTES, "120"),
            (vars::BACKTEST_MAX_SATURATED_PERCENT, "0.5"),
        ]);
        let c = config(&vars).unwrap();
        let w = c.change_window.unwrap();
        assert_eq!((w.cron(), w.minutes()), ("0 2 * * SUN", 120));
        assert_eq!(c.right_sizing.max_saturated_percent, 0.5);
        for (set, variable, problem) in [
            (
                vec![(vars::CHANGE_WINDOW_CRON, "0 2 * * SUN")],
                vars::CHANGE_WINDOW_MINUTES,
                "is required with FLEETOPT_CHANGE_WINDOW_CRON",
            ),
            (
                vec![(vars::CHANGE_WINDOW_MINUTES, "60")],
                vars::CHANGE_WINDOW_CRON,
                "is required with FLEETOPT_CHANGE_WINDOW_MINUTES",
            ),
            (
                vec![
                    (vars::CHANGE_WINDOW_CRON, "0 2 * *"),
                    (vars::CHANGE_WINDOW_MINUTES, "60"),
                ],
                vars::CHANGE_WINDOW_CRON,
                "expected five fields",
            ),
            (
                vec![
                    (vars::CHANGE_WINDOW_CRON, "0 2 * * *"),
                    (vars::CHANGE_WINDOW_MINUTES, "1441"),
                ],
                vars::CHANGE_WINDOW_MINUTES,
                "from 1 to 1440",
            ),
        ] {
            let mut vars = minimal("production");
            vars.extend(set);
            let errors = config(&vars).unwrap_err().0;
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].variable, variable);
            assert!(errors[0].problem.contains(problem), "{}", errors[0].problem);
        }
    }

    #[test]
    fn controls_default_and_override_field_by_field() {
        let c = config(&minimal("production")).unwrap();
        assert_eq!(c.controls, Controls::default());
        assert_eq!(
            (c.controls.max_step_percent, c.controls.max_step_instances),
            (50, 10)
        );
        assert_eq!(c.controls.persistence.required(Priority::High), 1);
        assert_eq!(c.controls.persistence.required(Priority::Medium), 2);
        let mut vars = minimal("staging");
        vars.extend([
            (vars::MAX_STEP_PERCENT, "25"),
            (vars::MAX_STEP_INSTANCES, "3"),
            (vars::PERSISTENCE_ANALYSES, "medium=4, LOW=5"),
            (vars::CHURN_WINDOW_HOURS, "0"),
            (vars::MIN_MONTHLY_SAVINGS_USD, "0"),
            (vars::MIN_SAVINGS_PERCENT, "12.5"),
        ]);
        let c = config(&vars).unwrap().controls;
        assert_eq!((c.max_step_percent, c.max_step_instances), (25, 3));
        assert_eq!(
            c.persistence,
            PersistenceRule {
                high: 1,
                medium: 4,
                low: 5
            }
        );
        assert_eq!(c.churn_window_hours, 0);
        assert_eq!(
            (c.min_monthly_savings_usd, c.min_savings_percent),
            (0.0, 12.5)
        );
        assert_eq!(
            PersistenceRule::parse("2")
                .unwrap()
                .required(Priority::High),
            2
        );
    }

    #[test]
    fn bad_controls_are_refused_together_naming_each_variable() {
        let mut vars = minimal("production");
        vars.extend([
            (vars::MAX_STEP_PERCENT, "0"),
            (vars::MAX_STEP_INSTANCES, "-1"),
            (vars::PERSISTENCE_ANALYSES, "URGENT=1"),
            (vars::CHURN_WINDOW_HOURS, "200"),
            (vars::MIN_MONTHLY_SAVINGS_USD, "-5"),
            (vars::MIN_SAVINGS_PERCENT, "101"),
        ]);
        let message = config(&vars).unwrap_err().to_string();
        for expected in [
            "FLEETOPT_MAX_STEP_PERCENT=\"0\": must be a whole number of percent from 1 to 100",
            "FLEETOPT_MAX_STEP_INSTANCES=\"-1\": must be a whole number of instances",
            "FLEETOPT_PERSISTENCE_ANALYSES=\"URGENT=1\": unknown priority",
            "FLEETOPT_CHURN_WINDOW_HOURS=\"200\": must be a whole number of hours from 0 to 168",
            "FLEETOPT_MIN_MONTHLY_SAVINGS_USD=\"-5\": must be a number, 0 or more",
            "FLEETOPT_MIN_SAVINGS_PERCENT=\"101\": must be between 0 and 100",
        ] {
            assert!(message.contains(expected), "{expected} in {message}");
        }
        for bad in ["0", "25", "HIGH", "HIGH=0", "HIGH=1,,LOW=2"] {
            assert!(PersistenceRule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn right_sizing_preferences_default_to_p99_5_with_20_percent_headroom_over_14_days() {
        let c = config(&minimal("production")).unwrap();
        assert_eq!(c.right_sizing, RightSizingPreferences::default());
        let p = c.right_sizing;
        assert_eq!(p.cpu_percentile, CpuPercentile::P99_5);
        assert_eq!(
            (p.cpu_headroom_percent, p.memory_headroom_percent),
            (20.0, 20.0)
        );
        assert_eq!(p.lookback_days, 14);
        assert!(p.preferred_families.is_empty() && p.excluded_families.is_empty());
    }

    #[test]
    fn right_sizing_preferences_override_one_by_one() {
        let with = |pair: (&'static str, &'static str)| {
            let mut vars = minimal("staging");
            vars.push(pair);
            config(&vars).unwrap().right_sizing
        };
        assert_eq!(
            with((vars::RIGHTSIZING_CPU_PERCENTILE, "p90")).cpu_percentile,
            CpuPercentile::P90
        );
        assert_eq!(
            with((vars::RIGHTSIZING_CPU_PERCENTILE, "P95")).cpu_percentile,
            CpuPercentile::P95
        );
        let p = with((vars::RIGHTSIZING_CPU_HEADROOM, "0"));
        assert_eq!(
            (p.cpu_headroom_percent, p.memory_headroom_percent),
            (0.0, 20.0)
        );
        let p = with((vars::RIGHTSIZING_MEMORY_HEADROOM, "100"));
        assert_eq!(
            (p.cpu_headroom_percent, p.memory_headroom_percent),
            (20.0, 100.0)
        );
        assert_eq!(
            with((vars::RIGHTSIZING_LOOKBACK_DAYS, "32")).lookback_days,
            32
        );
        let family = |name: &str| name.parse::<InstanceFamily>().unwrap();
        assert_eq!(
            with((vars::RIGHTSIZING_PREFERRED_FAMILIES, " m7g, C7G ,m7g")).preferred_families,
            vec![family("m7g"), family("c7g")]
        );
        let p = with((vars::RIGHTSIZING_EXCLUDED_FAMILIES, "t3,t3a"));
        assert_eq!(p.excluded_families, vec![family("t3"), family("t3a")]);
        assert!(p.preferred_families.is_empty());
    }

    #[test]
    fn bad_right_sizing_preferences_are_refused_together_naming_each_variable() {
        let mut vars = minimal("production");
        vars.extend([
            (vars::RIGHTSIZING_CPU_PERCENTILE, "p99"),
            (vars::RIGHTSIZING_CPU_HEADROOM, "-1"),
            (vars::RIGHTSIZING_MEMORY_HEADROOM, "101"),
            (vars::RIGHTSIZING_LOOKBACK_DAYS, "30"),
            (vars::RIGHTSIZING_PREFERRED_FAMILIES, "m7g.large"),
            (vars::RIGHTSIZING_EXCLUDED_FAMILIES, "t3,,t3a"),
        ]);
        let errors = config(&vars).unwrap_err();
        let named: Vec<&str> = errors.0.iter().map(|e| e.variable).collect();
        assert_eq!(
            named,
            vec![
                vars::RIGHTSIZING_CPU_PERCENTILE,
                vars::RIGHTSIZING_CPU_HEADROOM,
                vars::RIGHTSIZING_MEMORY_HEADROOM,
                vars::RIGHTSIZING_LOOKBACK_DAYS,
                vars::RIGHTSIZING_PREFERRED_FAMILIES,
                vars::RIGHTSIZING_EXCLUDED_FAMILIES,
            ]
        );
        let message = errors.to_string();
        for expected in [
            "FLEETOPT_RIGHTSIZING_CPU_PERCENTILE=\"p99\": must be p90, p95 or p99.5",
            "FLEETOPT_RIGHTSIZING_CPU_HEADROOM=\"-1\": must be between 0 and 100 (percent)",
            "FLEETOPT_RIGHTSIZING_MEMORY_HEADROOM=\"101\": must be between 0 and 100 (percent)",
            "FLEETOPT_RIGHTSIZING_LOOKBACK_DAYS=\"30\": must be 14 or 32 (days)",
            "FLEETOPT_RIGHTSIZING_PREFERRED_FAMILIES=\"m7g.large\": \"m7g.large\" is an \
             instance type, not a family",
            "FLEETOPT_RIGHTSIZING_EXCLUDED_FAMILIES=\"t3,,t3a\": \"\" is not an instance family",
        ] {
            assert!(message.contains(expected), "{expected} in {message}");
        }
        let mut not_a_number = minimal("production");
        not_a_number.push((vars::RIGHTSIZING_CPU_HEADROOM, "twenty"));
        assert!(
            config(&not_a_number)
                .unwrap_err()
                .to_string()
                .contains("FLEETOPT_RIGHTSIZING_CPU_HEADROOM=\"twenty\": is not a number")
        );
    }

    #[test]
    fn a_family_both_preferred_and_excluded_is_refused() {
        let mut vars = minimal("production");
        vars.extend([
            (vars::RIGHTSIZING_PREFERRED_FAMILIES, "m7g,c7g"),
            (vars::RIGHTSIZING_EXCLUDED_FAMILIES, "C7G,t3"),
        ]);
        let errors = config(&vars).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(
            errors.0[0].to_string(),
            "FLEETOPT_RIGHTSIZING_EXCLUDED_FAMILIES=\"C7G,t3\": c7g also in \
             FLEETOPT_RIGHTSIZING_PREFERRED_FAMILIES: a family cannot be both preferred and \
             excluded"
        );
    }

    #[test]
    fn presets_are_those_of_docs_configuration() {
        let p = Environment::Production.preset();
        assert!(p.enable_auto_scaling_optimization);
        assert_eq!(p.analysis_interval_minutes, 60);
        assert_eq!(
            p.targets,
            Targets::new(70.0, 80.0, 500.0, 1000.0, 60.0).unwrap()
        );
        assert_eq!(p.max_hourly_cost, 50.0);
        let s = Environment::Staging.preset();
        assert!(s.enable_auto_scaling_optimization);
        assert_eq!(s.analysis_interval_minutes, 120);
        assert_eq!(
            s.targets,
            Targets::new(75.0, 85.0, 1000.0, 1000.0, 50.0).unwrap()
        );
        assert_eq!(s.max_hourly_cost, 20.0);
        let d = Environment::Development.preset();
        assert!(!d.enable_auto_scaling_optimization);
        assert!(d.enable_cost_optimization && d.enable_performance_monitoring);
        assert_eq!(d.analysis_interval_minutes, 240);
        assert_eq!(
            d.targets,
            Targets::new(80.0, 90.0, 2000.0, 1000.0, 40.0).unwrap()
        );
        assert_eq!(d.max_hourly_cost, 10.0);
    }

    #[test]
    fn approvals_default_to_the_stacks_key_aliases_and_documented_ages() {
        let c = config(&minimal("staging")).unwrap();
        assert_eq!(
            c.approvals,
            Approvals {
                approval_key: "alias/shop-staging-approvals".into(),
                finding_key: "alias/shop-staging-findings".into(),
                capacity_max_age_hours: 6,
                manual_max_age_days: 14,
                in_progress_max_minutes: 120,
                roll_back_worse: false,
            }
        );
        let mut vars = minimal("production");
        vars.push((vars::APPROVAL_MAX_AGE_HOURS, "0"));
        vars.push((vars::MANUAL_APPROVAL_MAX_AGE_DAYS, "91"));
        vars.push((vars::IN_PROGRESS_MAX_MINUTES, "5"));
        let errors = config(&vars).unwrap_err();
        let text = errors.to_string();
        for variable in [
            "FLEETOPT_APPROVAL_MAX_AGE_HOURS=\"0\"",
            "FLEETOPT_MANUAL_APPROVAL_MAX_AGE_DAYS=\"91\"",
            "FLEETOPT_IN_PROGRESS_MAX_MINUTES=\"5\"",
        ] {
            assert!(text.contains(variable), "{text}");
        }
        let mut vars = minimal("production");
        vars.push((vars::APPROVAL_KEY, "arn:aws:kms:eu-west-1:1:key/a"));
        vars.push((vars::ROLLBACK_WORSE, "true"));
        let c = config(&vars).unwrap();
        assert_eq!(c.approvals.approval_key, "arn:aws:kms:eu-west-1:1:key/a");
        assert!(c.approvals.roll_back_worse);
    }

    #[test]
    fn minimal_environment_gets_the_preset_and_defaults() {
        let c = config(&minimal("staging")).unwrap();
        assert_eq!(c.environment, Environment::Staging);
        assert_eq!(c.table, "shop-staging-optimization-recommendations");
        assert_eq!(
            c.fleet,
            FleetSelector::Tag {
                key: "fleet-optimizer:enabled".into(),
                value: "true".into()
            }
        );
        assert_eq!(&c.settings, Environment::Staging.preset());
        assert_eq!(c.metrics_namespace, "FleetOptimizer");
        assert_eq!(c.member_role_name, "fleet-optimizer-member");
        assert!(!c.dry_run);
        assert_eq!(c.topics, Topics::default());
    }

    #[test]
    fn aws_timeouts_default_to_20_and_60_seconds_and_an_attempt_never_outlasts_its_call() {
        let c = config(&minimal("production")).unwrap();
        assert_eq!(
            c.aws_timeouts,
            AwsTimeouts {
                attempt_seconds: 20,
                operation_seconds: 60
            }
        );
        let mut vars = minimal("production");
        vars.extend([
            (vars::AWS_ATTEMPT_TIMEOUT_SECONDS, "5"),
            (vars::AWS_OPERATION_TIMEOUT_SECONDS, "12"),
        ]);
        let c = config(&vars).unwrap();
        assert_eq!(
            (
                c.aws_timeouts.attempt_seconds,
                c.aws_timeouts.operation_seconds
            ),
            (5, 12)
        );
        // An attempt set longer than the default call lengthens the call with it.
        let mut vars = minimal("production");
        vars.push((vars::AWS_ATTEMPT_TIMEOUT_SECONDS, "90"));
        assert_eq!(config(&vars).unwrap().aws_timeouts.operation_seconds, 90);

        let mut vars = minimal("production");
        vars.extend([
            (vars::AWS_ATTEMPT_TIMEOUT_SECONDS, "30"),
            (vars::AWS_OPERATION_TIMEOUT_SECONDS, "10"),
        ]);
        let message = config(&vars).unwrap_err().to_string();
        assert!(
            message.contains("FLEETOPT_AWS_OPERATION_TIMEOUT_SECONDS=\"10\": must be at least the attempt timeout (30 s)"),
            "{message}"
        );
        let mut vars = minimal("production");
        vars.push((vars::AWS_ATTEMPT_TIMEOUT_SECONDS, "0"));
        let message = config(&vars).unwrap_err().to_string();
        assert!(
            message.contains("must be a whole number of seconds from 1 to 900"),
            "{message}"
        );
    }

    #[test]
    fn overrides_replace_preset_fields_one_by_one() {
        let mut vars = minimal("development");
        vars.extend([
            (vars::CPU_UTILIZATION_TARGET, "65"),
            (vars::RESPONSE_TIME_TARGET_MS, "250"),
            (vars::ENABLE_AUTO_SCALING_OPTIMIZATION, "TRUE"),
            (vars::TARGET_GROUPS, "web, api"),
            (vars::TABLE, "custom.table"),
            (vars::DRY_RUN, "true"),
            (vars::ANALYSIS_INTERVAL_MINUTES, "30"),
            (
                vars::COST_ALERT_TOPIC_ARN,
                "arn:aws:sns:us-east-1:123456789012:cost",
            ),
        ]);
        let c = config(&vars).unwrap();
        assert_eq!(
            c.settings.targets,
            Targets::new(65.0, 90.0, 250.0, 1000.0, 40.0).unwrap()
        );
        assert!(c.settings.enable_auto_scaling_optimization);
        assert_eq!(c.settings.analysis_interval_minutes, 30);
        assert_eq!(
            c.fleet,
            FleetSelector::Names(vec!["web".into(), "api".into()])
        );
        assert_eq!(c.table, "custom.table");
        assert!(c.dry_run);
        assert_eq!(
            c.topics.cost_alert.as_deref(),
            Some("arn:aws:sns:us-east-1:123456789012:cost")
        );
    }

    #[test]
    fn refusals_name_the_variable_the_value_and_the_allowed_range() {
        let mut vars = minimal("production");
        vars.push((vars::CPU_UTILIZATION_TARGET, "95"));
        let err = config(&vars).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid configuration: FLEETOPT_CPU_UTILIZATION_TARGET=\"95\": must be between 20 \
             and 90 (percent)"
        );
    }

    #[test]
    fn the_member_role_is_a_role_name_without_a_path() {
        let mut vars = minimal("production");
        vars.push((vars::MEMBER_ROLE_NAME, "ops-fleet_reader"));
        assert_eq!(config(&vars).unwrap().member_role_name, "ops-fleet_reader");
        for bad in [
            "team/fleet",
            "arn:aws:iam::111122223333:role/x",
            &"r".repeat(65),
        ] {
            let mut vars = minimal("production");
            vars.push((vars::MEMBER_ROLE_NAME, bad));
            let err = config(&vars).unwrap_err().to_string();
            assert!(
                err.contains("FLEETOPT_MEMBER_ROLE_NAME") && err.contains("IAM role name"),
                "{err}"
            );
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = config(&[
            (vars::ENVIRONMENT, "prod"),
            (vars::MEMORY_UTILIZATION_TARGET, "ninety"),
            (vars::UTILIZATION_THRESHOLD, "101"),
            (vars::MAX_HOURLY_COST, "0"),
            (vars::THROUGHPUT_TARGET, "-1"),
            (vars::ANALYSIS_INTERVAL_MINUTES, "1.5"),
            (vars::DRY_RUN, "yes"),
            (vars::TARGET_TAG, "=true"),
            (vars::RECOMMENDATION_TOPIC_ARN, "my-topic"),
            (vars::METRICS_NAMESPACE, "AWS/EC2"),
            (vars::RESPONSE_TIME_TARGET_MS, "NaN"),
            (vars::SCALING_COOLDOWN_SECONDS, "-5"),
        ])
        .unwrap_err();
        let named: Vec<&str> = errors.0.iter().map(|e| e.variable).collect();
        assert_eq!(
            named,
            vec![
                vars::ENVIRONMENT,
                vars::APPLICATION,
                vars::TARGET_TAG,
                vars::MEMORY_UTILIZATION_TARGET,
                vars::RESPONSE_TIME_TARGET_MS,
                vars::THROUGHPUT_TARGET,
                vars::UTILIZATION_THRESHOLD,
                vars::ANALYSIS_INTERVAL_MINUTES,
                vars::MAX_HOURLY_COST,
                vars::RECOMMENDATION_TOPIC_ARN,
                vars::DRY_RUN,
                vars::METRICS_NAMESPACE,
                vars::SCALING_COOLDOWN_SECONDS,
            ]
        );
        let text = errors.to_string();
        assert!(
            text.contains(
                "FLEETOPT_ENVIRONMENT=\"prod\": must be production, staging or development"
            )
        );
        assert!(text.contains("FLEETOPT_APPLICATION: is required"));
        assert!(text.contains("FLEETOPT_MEMORY_UTILIZATION_TARGET=\"ninety\": is not a number"));
        assert!(text.contains("FLEETOPT_UTILIZATION_THRESHOLD=\"101\": must be between 0 and 100"));
        assert!(text.contains(
            "FLEETOPT_SCALING_COOLDOWN_SECONDS=\"-5\": must be a whole number of seconds from 0 \
             to 86400"
        ));
    }

    #[test]
    fn the_scaling_cooldown_defaults_to_the_groups_own() {
        assert_eq!(
            config(&minimal("production"))
                .unwrap()
                .scaling_cooldown_seconds,
            None
        );
        let mut vars = minimal("production");
        vars.push((vars::SCALING_COOLDOWN_SECONDS, "0"));
        assert_eq!(config(&vars).unwrap().scaling_cooldown_seconds, Some(0));
    }

    #[test]
    fn boundaries_of_the_ranges_are_accepted() {
        let mut vars = minimal("production");
        vars.extend([
            (vars::CPU_UTILIZATION_TARGET, "20"),
            (vars::MEMORY_UTILIZATION_TARGET, "90"),
            (vars::UTILIZATION_THRESHOLD, "0"),
        ]);
        assert!(config(&vars).is_ok());
        let mut too_low = minimal("production");
        too_low.push((vars::CPU_UTILIZATION_TARGET, "19.99"));
        assert!(config(&too_low).is_err());
    }

    #[test]
    fn blank_variables_count_as_unset() {
        let mut vars = minimal("production");
        vars.extend([(vars::TARGET_GROUPS, "  "), (vars::TABLE, "")]);
        let c = config(&vars).unwrap();
        assert!(matches!(c.fleet, FleetSelector::Tag { .. }));
        assert_eq!(c.table, "shop-production-optimization-recommendations");
    }

    #[test]
    fn group_lists_with_empty_names_are_refused() {
        let mut vars = minimal("production");
        vars.push((vars::TARGET_GROUPS, "web,,api"));
        assert_eq!(
            config(&vars).unwrap_err().0[0].variable,
            vars::TARGET_GROUPS
        );
    }

    #[test]
    fn environment_names_round_trip() {
        for e in Environment::ALL {
            assert_eq!(e.as_str().parse::<Environment>(), Ok(e));
        }
        assert_eq!(
            "Production".parse::<Environment>().unwrap_err().to_string(),
            "unknown environment \"Production\": expected production, staging or development"
        );
    }
}
