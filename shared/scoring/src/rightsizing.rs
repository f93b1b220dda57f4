//! The vocabulary of right-sizing (issue 10): the operator's preferences, and the ranked options
//! a group's right-sizing yields, as stored in a recommendation's evidence. The rules that
//! compute them live in `fleetopt-costing`; the configuration reads the preferences.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The percentile of hourly CPU (and memory) maxima right-sizing sizes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum CpuPercentile {
    /// The 90th percentile: tolerates the busiest tenth of the hours running hot.
    #[serde(rename = "p90")]
    P90,
    /// The 95th percentile.
    #[serde(rename = "p95")]
    P95,
    /// The 99.5th percentile (the default): sizes for all but the busiest half percent of hours.
    #[default]
    #[serde(rename = "p99.5")]
    P99_5,
}

impl CpuPercentile {
    /// Every choice, lowest first.
    pub const ALL: [CpuPercentile; 3] =
        [CpuPercentile::P90, CpuPercentile::P95, CpuPercentile::P99_5];

    /// The name in variables and JSON: `p90`, `p95`, `p99.5`.
    pub fn as_str(self) -> &'static str {
        match self {
            CpuPercentile::P90 => "p90",
            CpuPercentile::P95 => "p95",
            CpuPercentile::P99_5 => "p99.5",
        }
    }

    /// The percentile in thousandths (900, 950, 995), so nearest-rank arithmetic stays exact.
    pub fn per_mille(self) -> u32 {
        match self {
            CpuPercentile::P90 => 900,
            CpuPercentile::P95 => 950,
            CpuPercentile::P99_5 => 995,
        }
    }
}

impl fmt::Display for CpuPercentile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CpuPercentile {
    type Err = String;

    /// `p90`, `p95` or `p99.5`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        CpuPercentile::ALL
            .into_iter()
            .find(|p| p.as_str() == lower)
            .ok_or_else(|| format!("unknown percentile {s:?}: expected p90, p95 or p99.5"))
    }
}

/// An EC2 instance family, such as `m7g`, `c6in` or `u-6tb1`: what comes before the dot of an
/// instance type's name. Lower case; validated on construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstanceFamily(String);

impl InstanceFamily {
    /// The longest family name accepted (the longest AWS uses today is about 10).
    pub const MAX_LEN: usize = 20;

    /// The family's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The family of an instance type's name: `m5.large` -> `m5`. `None` when the part before
    /// the dot is not a family's shape.
    pub fn of_type(instance_type: &str) -> Option<InstanceFamily> {
        let family = instance_type.split('.').next().unwrap_or_default();
        family.parse().ok()
    }
}

impl FromStr for InstanceFamily {
    type Err = String;

    /// A family's shape: 1 to 20 characters, lower-case letters, digits and `-`, starting with
    /// a letter and containing a digit (every EC2 family has a generation). Upper case is folded.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        let shape = !name.is_empty()
            && name.len() <= Self::MAX_LEN
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().any(|c| c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if shape {
            Ok(InstanceFamily(name))
        } else if name.contains('.') {
            Err(format!(
                "{s:?} is an instance type, not a family: use the part before the dot (m7g, not \
                 m7g.large)"
            ))
        } else {
            Err(format!(
                "{s:?} is not an instance family (a letter, then letters, digits or '-', with a \
                 generation digit, at most {} characters, such as m7g or c6in)",
                Self::MAX_LEN
            ))
        }
    }
}

impl TryFrom<String> for InstanceFamily {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<InstanceFamily> for String {
    fn from(value: InstanceFamily) -> Self {
        value.0
    }
}

impl fmt::Display for InstanceFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The operator's right-sizing preferences (the `FLEETOPT_RIGHTSIZING_*` variables).
#[derive(Debug, Clone, PartialEq)]
pub struct RightSizingPreferences {
    /// The percentile of hourly maxima to size for (default p99.5).
    pub cpu_percentile: CpuPercentile,
    /// Room kept above the projected CPU, percent of it (default 20, 0..=100): a candidate fits
    /// when projected CPU × (1 + headroom / 100) ≤ 100 %.
    pub cpu_headroom_percent: f64,
    /// Room kept above the projected memory, percent of it (default 20, 0..=100).
    pub memory_headroom_percent: f64,
    /// Days of hourly maxima to read: 14 (default) or 32.
    pub lookback_days: u32,
    /// When not empty, instance type changes go only to these families.
    pub preferred_families: Vec<InstanceFamily>,
    /// Instance type changes never go to these families.
    pub excluded_families: Vec<InstanceFamily>,
    /// No capacity proposal (an option, a schedule) whose backtest runs more than this share of
    /// the lookback's hours above 90 % CPU, percent (default 1).
    pub max_saturated_percent: f64,
}

impl RightSizingPreferences {
    /// The lookback periods accepted, in days.
    pub const LOOKBACK_DAYS: [u32; 2] = [14, 32];
    /// The largest headroom accepted, percent.
    pub const MAX_HEADROOM_PERCENT: f64 = 100.0;
}

impl Default for RightSizingPreferences {
    fn default() -> Self {
        RightSizingPreferences {
            cpu_percentile: CpuPercentile::P99_5,
            cpu_headroom_percent: 20.0,
            memory_headroom_percent: 20.0,
            lookback_days: 14,
            preferred_families: Vec::new(),
            excluded_families: Vec::new(),
            max_saturated_percent: crate::backtest::DEFAULT_MAX_SATURATED_PERCENT,
        }
    }
}

/// An instance type's processor architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// x86_64 (Intel, AMD).
    X86_64,
    /// arm64 (Graviton).
    Arm64,
}

/// How much work an option asks of the operator (AWS Compute Optimizer's scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MigrationEffort {
    /// Same family (another size), or the same type with fewer instances.
    VeryLow,
    /// Another family of the same architecture.
    Low,
    /// From x86_64 to arm64: the AMI and the software must support arm64.
    Medium,
}

/// What an option changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RightSizingAction {
    /// Another instance type, the same desired capacity.
    ChangeInstanceType,
    /// The same instance type, a smaller desired capacity.
    ReduceCapacity,
    /// Scale in an idle group: desired capacity down to its minimum size (0 when that is 0).
    ScaleInIdleGroup,
}

/// One ranked candidate configuration for a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RightSizingOption {
    /// 1 is the largest saving.
    pub rank: u32,
    /// What it changes.
    pub action: RightSizingAction,
    /// The instance type the group would run.
    pub instance_type: String,
    /// Its architecture.
    pub architecture: Architecture,
    /// Its vCPUs.
    pub vcpus: u32,
    /// Its memory, MiB.
    pub memory_mib: u64,
    /// The desired capacity the group would run.
    pub desired_capacity: u32,
    /// The fleet's on-demand cost, USD per hour.
    pub hourly_usd: f64,
    /// CPU at the chosen percentile once the load spreads over the new fleet's vCPUs, percent;
    /// `None` for a fleet of no instances.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub projected_cpu_percent: Option<f64>,
    /// Memory at the chosen percentile over the new fleet's memory, percent; `None` without
    /// memory data or for a fleet of no instances.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub projected_memory_percent: Option<f64>,
    /// 0 (projected peaks at or under their targets) to 4 (at or over 100 %): the higher of
    /// CPU's and memory's.
    pub performance_risk: u8,
    /// Saving against the current fleet, USD per month (730 hours).
    pub monthly_savings_usd: f64,
    /// Saving against the current fleet, percent of its cost.
    pub savings_percent: f64,
    /// The work it asks for.
    pub migration_effort: MigrationEffort,
    /// What the operator must know before choosing it.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
    /// The option replayed against the lookback's hours (`None` for a fleet of no instances,
    /// or without hourly data).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub backtest: Option<crate::backtest::Backtest>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Whether right-sizing could say anything about a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RightSizingStatus {
    /// Fewer hours of CPU datapoints in the lookback than the minimum: no options.
    InsufficientData,
    /// The catalog lacks the current type's on-demand price, vCPUs or memory: nothing can be
    /// projected or priced.
    IncompleteCatalog,
    /// Nothing cheaper fits: the group is right-sized for the preferences.
    Optimized,
    /// Nothing cheaper fits, and neither does the current configuration: its CPU or memory at
    /// the chosen percentile leaves less than the headroom. A bigger fleet or type is the
    /// analyzer's business (SCALE_UP, INSTANCE_TYPE_CHANGE); right-sizing offers nothing.
    UnderProvisioned,
    /// Cheaper configurations fit: see the options.
    OptionsFound,
}

/// The outcome of right-sizing one group: the figures it used and up to three ranked options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RightSizing {
    /// Whether there are options, and if not, why.
    pub status: RightSizingStatus,
    /// The percentile used.
    pub percentile: CpuPercentile,
    /// The lookback the data covers, days.
    pub lookback_days: u32,
    /// Hours with a CPU datapoint.
    pub cpu_hours: u32,
    /// CPU at the percentile on the current fleet, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cpu_percent: Option<f64>,
    /// Memory at the percentile on the current fleet, percent (`None` without the agent).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub memory_percent: Option<f64>,
    /// Whether the group is idle (CPU p99.5 under 5 % over the lookback).
    pub idle: bool,
    /// The environment's utilization threshold, percent: only with `cpuPercent` under it may
    /// an option run fewer vCPUs than the current fleet. `None` in items written before it
    /// was recorded.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub utilization_threshold: Option<f64>,
    /// The options, largest saving first; at most three.
    #[serde(default)]
    pub options: Vec<RightSizingOption>,
    /// Configurations that fit at the percentile but were not offered: replayed hour by hour,
    /// they would have run more of the lookback's hours above 90 % CPU than allowed.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub saturating: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_parse_in_any_case_and_print_back() {
        for p in CpuPercentile::ALL {
            assert_eq!(p.as_str().parse::<CpuPercentile>(), Ok(p));
            assert_eq!(p.as_str().to_uppercase().parse::<CpuPercentile>(), Ok(p));
        }
        assert_eq!(CpuPercentile::default(), CpuPercentile::P99_5);
        assert!("p99".parse::<CpuPercentile>().is_err());
        assert!("99.5".parse::<CpuPercentile>().is_err());
    }

    #[test]
    fn families_have_a_letter_first_and_a_generation() {
        for ok in ["m7g", "c6in", "u-6tb1", "mac2-m2pro", "M5", "x2iedn"] {
            assert!(ok.parse::<InstanceFamily>().is_ok(), "{ok}");
        }
        assert_eq!("M5".parse::<InstanceFamily>().unwrap().as_str(), "m5");
        for bad in [
            "",
            "m",
            "7g",
            "m7g.large",
            "m7g_x",
            "m 7",
            "abcdefghijklmnopqrst1",
        ] {
            assert!(bad.parse::<InstanceFamily>().is_err(), "{bad}");
        }
        assert!(
            "m7g.large"
                .parse::<InstanceFamily>()
                .unwrap_err()
                .contains("an instance type, not a family")
        );
        assert_eq!(
            InstanceFamily::of_type("c7gn.2xlarge").map(String::from),
            Some("c7gn".to_owned())
        );
        assert_eq!(InstanceFamily::of_type("weird"), None);
    }

    #[test]
    fn options_serialize_with_camel_case_keys_and_round_trip() {
        let option = RightSizingOption {
            rank: 1,
            action: RightSizingAction::ChangeInstanceType,
            instance_type: "m7g.large".into(),
            architecture: Architecture::Arm64,
            vcpus: 2,
            memory_mib: 8192,
            desired_capacity: 4,
            hourly_usd: 0.3264,
            projected_cpu_percent: Some(50.0),
            projected_memory_percent: None,
            performance_risk: 0,
            monthly_savings_usd: 322.37,
            savings_percent: 57.5,
            migration_effort: MigrationEffort::Medium,
            notes: vec!["arm64".into()],
            backtest: None,
        };
        let json = serde_json::to_string(&option).unwrap();
        for key in [
            "\"rank\":1",
            "\"action\":\"CHANGE_INSTANCE_TYPE\"",
            "\"instanceType\":\"m7g.large\"",
            "\"architecture\":\"arm64\"",
            "\"desiredCapacity\":4",
            "\"projectedCpuPercent\":50.0",
            "\"performanceRisk\":0",
            "\"monthlySavingsUsd\":322.37",
            "\"savingsPercent\":57.5",
            "\"migrationEffort\":\"MEDIUM\"",
        ] {
            assert!(json.contains(key), "{key} in {json}");
        }
        assert!(!json.contains("projectedMemoryPercent"));
        let back: RightSizingOption = serde_json::from_str(&json).unwrap();
        assert_eq!(back, option);
        let p: CpuPercentile = serde_json::from_str("\"p99.5\"").unwrap();
        assert_eq!(p, CpuPercentile::P99_5);
        assert!(serde_json::from_str::<InstanceFamily>("\"m7g.large\"").is_err());
    }
}
