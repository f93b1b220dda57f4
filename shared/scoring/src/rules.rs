//! The recommendation rules of docs/scoring.md: from a [`Snapshot`] of one group to the
//! [`Proposal`]s it calls for, with type, priority, target capacity, description and evidence.

use serde::Serialize;

use crate::score::{Assessment, ScoreInput, Scored};
use crate::status::CRITICAL_UTILIZATION;
use crate::targets::Targets;
use crate::trend::{Point, Trend, TrendDirection, trend};

/// A rising trend that reaches the range's upper bound within this many hours earns a
/// trend-based (LOW priority) scale-up.
pub const TREND_HORIZON_HOURS: f64 = 24.0;

/// Response time above this multiple of its target is HIGH priority.
const HIGH_RESPONSE_TIME_RATIO: f64 = 1.5;

/// A scale-down saving under this share of the desired capacity is LOW priority.
const SMALL_SAVING_PERCENT: f64 = 10.0;

/// The kinds of recommendation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecommendationType {
    /// Raise desired capacity. The only type ever applied without a person.
    ScaleUp,
    /// Lower desired capacity: always needs approval.
    ScaleDown,
    /// Larger or cheaper instance type: never automated.
    InstanceTypeChange,
    /// Application or load balancer tuning: never automated.
    PerformanceTuning,
    /// Spot, right-sizing, reserved capacity, run-rate: never automated.
    CostOptimization,
    /// Scheduled actions for a daily or weekly cycle: always needs approval.
    ScheduledScaling,
}

impl RecommendationType {
    /// Every type, in a fixed order.
    pub const ALL: [RecommendationType; 6] = [
        RecommendationType::ScaleUp,
        RecommendationType::ScaleDown,
        RecommendationType::InstanceTypeChange,
        RecommendationType::PerformanceTuning,
        RecommendationType::CostOptimization,
        RecommendationType::ScheduledScaling,
    ];

    /// Whether automation may ever apply it (when the environment enables it): SCALE_UP only.
    pub fn is_automatable(self) -> bool {
        self == RecommendationType::ScaleUp
    }

    /// The name written in DynamoDB and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RecommendationType::ScaleUp => "SCALE_UP",
            RecommendationType::ScaleDown => "SCALE_DOWN",
            RecommendationType::InstanceTypeChange => "INSTANCE_TYPE_CHANGE",
            RecommendationType::PerformanceTuning => "PERFORMANCE_TUNING",
            RecommendationType::CostOptimization => "COST_OPTIMIZATION",
            RecommendationType::ScheduledScaling => "SCHEDULED_SCALING",
        }
    }
}

/// Parses one of a closed set of names (`SCALE_UP`, `HIGH`, ...), or says which are allowed.
pub fn parse_named<T: Copy>(
    text: &str,
    all: &[T],
    name: fn(T) -> &'static str,
    what: &str,
) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|v| name(*v) == text)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
            format!(
                "unknown {what} {text:?}: expected one of {}",
                names.join(", ")
            )
        })
}

impl std::fmt::Display for RecommendationType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Priority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RecommendationType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_named(s, &Self::ALL, Self::as_str, "recommendation type")
    }
}

impl std::str::FromStr for Priority {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_named(s, &Self::ALL, Self::as_str, "priority")
    }
}

/// How urgent a recommendation is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Priority {
    /// CPU peak >= 90 %, response time > 1.5 x target, or capacity exhausted.
    High,
    /// Any other range breach.
    Medium,
    /// Trend-based, or a small saving (< 10 %).
    Low,
}

impl Priority {
    /// Every priority, most urgent first.
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Medium, Priority::Low];

    /// The name written in DynamoDB and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "HIGH",
            Priority::Medium => "MEDIUM",
            Priority::Low => "LOW",
        }
    }
}

/// How much could go wrong when the recommendation is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskLevel {
    /// Adds capacity or changes nothing running.
    Low,
    /// Removes capacity or replaces instances.
    Medium,
    /// Could interrupt the service.
    High,
}

impl RiskLevel {
    /// The name written in DynamoDB and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "LOW",
            RiskLevel::Medium => "MEDIUM",
            RiskLevel::High => "HIGH",
        }
    }
}

/// The size of an Auto Scaling group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capacity {
    /// MinSize.
    pub min_size: u32,
    /// MaxSize.
    pub max_size: u32,
    /// DesiredCapacity.
    pub desired: u32,
    /// Instances InService.
    pub in_service: u32,
}

impl Capacity {
    /// Whether the group can grow no further: in service or desired at maxSize.
    pub fn at_max(&self) -> bool {
        self.in_service >= self.max_size || self.desired >= self.max_size
    }

    fn clamp(&self, desired: u32) -> u32 {
        desired.clamp(self.min_size.min(self.max_size), self.max_size)
    }
}

/// Everything the rules know of one group over one analysis window: plain data, read by the
/// adapters. `None` means the metric had no datapoints in the window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// AutoScalingGroupName.
    pub group: String,
    /// Sizes of the group.
    pub capacity: Option<Capacity>,
    /// CPUUtilization Average over the window, percent.
    pub cpu_average: Option<f64>,
    /// CPUUtilization Maximum over the window, percent.
    pub cpu_peak: Option<f64>,
    /// mem_used_percent average, percent (CloudWatch agent).
    pub memory_average: Option<f64>,
    /// TargetResponseTime average, milliseconds.
    pub response_time_ms: Option<f64>,
    /// RequestCount per minute.
    pub requests_per_minute: Option<f64>,
    /// NetworkIn, bytes over the window.
    pub network_in_bytes: Option<f64>,
    /// NetworkOut, bytes over the window.
    pub network_out_bytes: Option<f64>,
    /// Hourly CPU averages for the trend, oldest first.
    pub cpu_hourly: Vec<Point>,
    /// Hourly memory averages for the trend, oldest first.
    pub memory_hourly: Vec<Point>,
}

impl Snapshot {
    /// The figures the score is computed from.
    pub fn score_input(&self) -> ScoreInput {
        ScoreInput {
            cpu_average: self.cpu_average,
            memory_average: self.memory_average,
            in_service: self.capacity.map(|c| c.in_service),
            max_size: self.capacity.map(|c| c.max_size),
            response_time_ms: self.response_time_ms,
        }
    }
}

/// The figures that led to a proposal, stored with it so an operator can check the reasoning.
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// CPU average, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cpu_average: Option<f64>,
    /// CPU peak, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cpu_peak: Option<f64>,
    /// Memory average, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub memory_average: Option<f64>,
    /// Response time, milliseconds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub response_time_ms: Option<f64>,
    /// Instances in service.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub in_service: Option<u32>,
    /// Desired capacity.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub desired_capacity: Option<u32>,
    /// MinSize.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub min_size: Option<u32>,
    /// MaxSize.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_size: Option<u32>,
    /// The desired capacity the recommendation moves to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_desired_capacity: Option<u32>,
    /// CPU target, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cpu_target: Option<f64>,
    /// Memory target, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub memory_target: Option<f64>,
    /// Response time target, milliseconds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub response_time_target_ms: Option<f64>,
    /// Requests a minute the group's load balancer target groups received (RequestCount).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub requests_per_minute: Option<f64>,
    /// The throughput target: requests a minute one instance should serve at most.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub throughput_target: Option<f64>,
    /// The utilization threshold: CPU under it counts as under-utilized, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub utilization_threshold: Option<f64>,
    /// Performance score at the time.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub performance_score: Option<f64>,
    /// Efficiency rating at the time.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub efficiency_rating: Option<f64>,
    /// CPU trend, percentage points per hour.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cpu_trend_per_hour: Option<f64>,
    /// Hours until the CPU trend crosses the range's upper bound.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hours_to_cpu_limit: Option<f64>,
    /// Memory trend, percentage points per hour.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub memory_trend_per_hour: Option<f64>,
    /// Hours until the memory trend crosses the range's upper bound.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hours_to_memory_limit: Option<f64>,
    /// The group's instance type (cost findings).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub instance_type: Option<String>,
    /// The instance type right-sizing suggests.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub suggested_instance_type: Option<String>,
    /// On-demand price of the instance type, USD per hour.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub on_demand_hourly_usd: Option<f64>,
    /// On-demand price of the suggested type, USD per hour.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub suggested_hourly_usd: Option<f64>,
    /// Mean spot price over the window, USD per hour.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub spot_hourly_usd: Option<f64>,
    /// Spot price standard deviation over its mean.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub spot_volatility: Option<f64>,
    /// Instances that would run on spot.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub spot_instances: Option<u32>,
    /// 99th percentile of hourly CPU maxima, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cpu_p99: Option<f64>,
    /// 99th percentile of hourly memory maxima, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub memory_p99: Option<f64>,
    /// The fleet's on-demand run-rate, USD per hour.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hourly_run_rate_usd: Option<f64>,
    /// The environment's maxHourlyCost, USD per hour.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_hourly_cost_usd: Option<f64>,
    /// Right-sizing's figures and every ranked option (key `rightSizing`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub right_sizing: Option<crate::rightsizing::RightSizing>,
    /// Cost Explorer's figures behind a reserved-instance or savings-plan purchase (key
    /// `commitment`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub commitment: Option<CommitmentFigures>,
    /// The proposed scheduled actions and the cycle behind them (key `schedule`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub schedule: Option<crate::schedule::Schedule>,
    /// The proposal and the current configuration replayed against the lookback's hours (key
    /// `backtest`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub backtest: Option<crate::backtest::Backtests>,
}

/// What Cost Explorer says about a reserved-instance or savings-plan purchase it recommends:
/// what to buy, what it costs, and what it covers. Amounts are USD; a figure Cost Explorer did
/// not give is absent, never 0.
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitmentFigures {
    /// Instances to reserve (reserved instances).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub instances: Option<f64>,
    /// Hourly commitment, USD per hour (savings plans).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hourly_commitment_usd: Option<f64>,
    /// How much of the commitment the lookback's usage would have used, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expected_utilization_percent: Option<f64>,
    /// Months until the savings repay the up-front cost (0 without one).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub break_even_months: Option<f64>,
    /// Paid at purchase.
    pub upfront_usd: f64,
    /// Paid every month of the term.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recurring_monthly_usd: Option<f64>,
    /// The on-demand cost the purchase covers, per month.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub on_demand_covered_monthly_usd: Option<f64>,
    /// Term, years.
    pub term_years: u32,
    /// `NO_UPFRONT`, `PARTIAL_UPFRONT` or `ALL_UPFRONT`, as Cost Explorer names them.
    pub payment_option: String,
}

/// What carrying out a proposal should bring.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedImpact {
    /// Change of the performance score in points, projected with target-tracking arithmetic
    /// (utilization spreads over the new instance count). `None` when it cannot be projected.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub performance_gain: Option<f64>,
    /// Change of the fleet's cost, percent: positive saves, negative costs more.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cost_savings: Option<f64>,
    /// Monthly saving in USD, when prices are known (cost optimizer).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub monthly_savings_usd: Option<f64>,
    /// Risk of carrying it out.
    pub risk_level: RiskLevel,
}

/// A recommendation as the rules propose it, before it gets an id, a time and a status.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// The kind of change.
    #[serde(rename = "type")]
    pub kind: RecommendationType,
    /// How urgent.
    pub priority: Priority,
    /// What, why (with the numbers) and the expected impact, in plain words.
    pub description: String,
    /// The desired capacity to move to, for scale changes.
    pub target_desired_capacity: Option<u32>,
    /// What it should bring.
    pub expected_impact: ExpectedImpact,
    /// What a person (or the engine) does to carry it out.
    pub steps: Vec<String>,
    /// The figures behind it.
    pub evidence: Evidence,
}

/// The outcome of analysing one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The score, or why there is none.
    pub assessment: Assessment,
    /// Trend of the hourly CPU averages against the CPU range's upper bound.
    pub cpu_trend: Option<Trend>,
    /// Trend of the hourly memory averages against the memory range's upper bound.
    pub memory_trend: Option<Trend>,
    /// What the rules propose; empty without a score.
    pub proposals: Vec<Proposal>,
    /// What the rules found but the backtest held back, each with why.
    pub withheld: Vec<(RecommendationType, String)>,
}

/// Scores a snapshot and applies the rules of section 6.
///
/// Choices where the design is silent, each to keep automation safe and proposals consistent:
/// - a scale-up target is the largest of the CPU and (when memory is above its range) memory
///   target-tracking figures, the instances the requests need at the throughput target, and at
///   least one instance more than in service;
/// - no scale-down while response time is above its target, and never below what keeps the
///   observed CPU peak under the range's upper bound or the requests per instance at or under
///   the throughput target;
/// - without load balancer data (no RequestCount) the throughput rule has nothing to read: no
///   throughput finding, and nothing else changes;
/// - spiky load counts when the peak exceeds twice the average *and* reaches the CPU target;
/// - a proposal that would not change desired capacity (the group is already moving there) is
///   not made.
pub fn analyze(snapshot: &Snapshot, targets: &Targets) -> Analysis {
    analyze_with(
        snapshot,
        targets,
        crate::backtest::DEFAULT_MAX_SATURATED_PERCENT,
    )
}

/// [`analyze`], with every capacity proposal backtested on the trend window's hours (each
/// hourly CPU average on the instances in service now: the snapshot has no older sizes). A
/// SCALE_DOWN whose backtest runs more than `max_saturated_percent` of the hours above 90 %
/// CPU is not made; a SCALE_UP only lowers CPU, so it is always kept.
pub fn analyze_with(
    snapshot: &Snapshot,
    targets: &Targets,
    max_saturated_percent: f64,
) -> Analysis {
    let mut analysis = analyze_rules(snapshot, targets);
    let Some(capacity) = snapshot.capacity else {
        return analysis;
    };
    let demand: Vec<crate::backtest::DemandHour> = snapshot
        .cpu_hourly
        .iter()
        .map(|p| crate::backtest::DemandHour {
            // Whole hours of the window; the value is only a key.
            hour: p.hours.round() as i64,
            cpu: p.value,
            instances: f64::from(capacity.in_service),
        })
        .collect();
    let mut withheld = Vec::new();
    analysis.proposals.retain_mut(|p| {
        let Some(to) = p.target_desired_capacity else {
            return true;
        };
        p.evidence.backtest = crate::backtest::Backtests::of(
            &demand,
            |_| f64::from(to),
            1.0,
            targets.cpu_utilization(),
            max_saturated_percent,
        );
        match &p.evidence.backtest {
            Some(b) if p.kind == RecommendationType::ScaleDown && b.too_risky() => {
                withheld.push((
                    p.kind,
                    format!(
                        "{to} instances would have run {} of the last {} hours above 90 % CPU, \
                         more than the {} % allowed",
                        b.proposed.hours_over_90, b.proposed.hours, b.max_saturated_percent
                    ),
                ));
                false
            }
            _ => true,
        }
    });
    analysis.withheld = withheld;
    analysis
}

fn analyze_rules(snapshot: &Snapshot, targets: &Targets) -> Analysis {
    let assessment = Assessment::of(&snapshot.score_input(), targets);
    let cpu_trend = trend(&snapshot.cpu_hourly, targets.cpu_range().high);
    let memory_trend = trend(&snapshot.memory_hourly, targets.memory_range().high);
    let proposals = match (assessment.scored(), snapshot.capacity, snapshot.cpu_average) {
        (Some(scored), Some(capacity), Some(cpu_average)) => Rules {
            snapshot,
            targets,
            scored,
            capacity,
            cpu_average,
            cpu_trend,
            memory_trend,
        }
        .proposals(),
        _ => Vec::new(),
    };
    Analysis {
        assessment,
        cpu_trend,
        memory_trend,
        proposals,
        withheld: Vec::new(),
    }
}

/// The facts the rules read, gathered once.
struct Rules<'a> {
    snapshot: &'a Snapshot,
    targets: &'a Targets,
    scored: &'a Scored,
    capacity: Capacity,
    cpu_average: f64,
    cpu_trend: Option<Trend>,
    memory_trend: Option<Trend>,
}

impl Rules<'_> {
    fn proposals(&self) -> Vec<Proposal> {
        let mut proposals = Vec::new();
        let needs_more = self.cpu_above()
            || self.memory_above()
            || self.response_time_above()
            || self.throughput_above();
        if needs_more {
            if self.capacity.at_max() {
                proposals.push(self.instance_type_change());
            } else {
                proposals.extend(self.scale_up());
            }
        } else if !self.capacity.at_max() {
            proposals.extend(self.trend_scale_up());
        }
        if !needs_more {
            proposals.extend(self.scale_down());
        }
        proposals.extend(self.performance_tuning());
        proposals
    }

    fn cpu_peak(&self) -> f64 {
        self.snapshot
            .cpu_peak
            .filter(|p| p.is_finite())
            .map_or(self.cpu_average, |p| p.max(self.cpu_average))
    }

    fn memory(&self) -> Option<f64> {
        self.snapshot.memory_average.filter(|m| m.is_finite())
    }

    fn response_time(&self) -> Option<f64> {
        self.snapshot.response_time_ms.filter(|r| r.is_finite())
    }

    /// RequestCount a minute; `None` without a load balancer (or its datapoints).
    fn requests_per_minute(&self) -> Option<f64> {
        self.snapshot
            .requests_per_minute
            .filter(|r| r.is_finite() && *r >= 0.0)
    }

    /// Requests a minute per instance in service; `None` without requests or instances.
    fn requests_per_instance(&self) -> Option<f64> {
        let in_service = self.capacity.in_service;
        self.requests_per_minute()
            .filter(|_| in_service > 0)
            .map(|r| r / f64::from(in_service))
    }

    /// The instances the requests need so that none serves more than the throughput target:
    /// `ceil(requests a minute / throughputTarget)`. `None` without load balancer data.
    fn throughput_need(&self) -> Option<u32> {
        self.requests_per_minute().map(|r| {
            let count = (r / self.targets.throughput_target()).ceil();
            // The target is positive and finite (checked by `Targets`): the cast saturates.
            count.clamp(0.0, f64::from(u32::MAX)) as u32
        })
    }

    /// More requests a minute than the instances in service serve at the throughput target.
    fn throughput_above(&self) -> bool {
        self.requests_per_minute().is_some_and(|r| {
            r > self.targets.throughput_target() * f64::from(self.capacity.in_service)
        })
    }

    fn cpu_above(&self) -> bool {
        self.cpu_average > self.targets.cpu_range().high
    }

    fn memory_above(&self) -> bool {
        self.memory()
            .is_some_and(|m| m > self.targets.memory_range().high)
    }

    fn response_time_above(&self) -> bool {
        self.response_time()
            .is_some_and(|r| r > self.targets.response_time_ms())
    }

    fn response_time_severe(&self) -> bool {
        self.response_time()
            .is_some_and(|r| r > HIGH_RESPONSE_TIME_RATIO * self.targets.response_time_ms())
    }

    /// HIGH when the CPU peak reaches 90 % or response time exceeds 1.5 x its target.
    fn severe(&self) -> bool {
        self.cpu_peak() >= CRITICAL_UTILIZATION || self.response_time_severe()
    }

    /// `ceil(inService * value / target)`: the target-tracking instance count.
    fn tracking(&self, value: f64, target: f64) -> u32 {
        let count = (f64::from(self.capacity.in_service) * value / target).ceil();
        // Utilizations are percentages and counts are small: the cast saturates, never wraps.
        count.clamp(0.0, f64::from(u32::MAX)) as u32
    }

    fn evidence(&self, target_desired_capacity: Option<u32>) -> Evidence {
        Evidence {
            cpu_average: Some(self.cpu_average),
            cpu_peak: self.snapshot.cpu_peak,
            memory_average: self.memory(),
            response_time_ms: self.response_time(),
            in_service: Some(self.capacity.in_service),
            desired_capacity: Some(self.capacity.desired),
            min_size: Some(self.capacity.min_size),
            max_size: Some(self.capacity.max_size),
            target_desired_capacity,
            cpu_target: Some(self.targets.cpu_utilization()),
            memory_target: Some(self.targets.memory_utilization()),
            response_time_target_ms: Some(self.targets.response_time_ms()),
            requests_per_minute: self.requests_per_minute(),
            throughput_target: Some(self.targets.throughput_target()),
            utilization_threshold: Some(self.targets.utilization_threshold()),
            performance_score: Some(self.scored.performance_score),
            efficiency_rating: Some(self.scored.efficiency_rating),
            cpu_trend_per_hour: self.cpu_trend.map(|t| t.slope_per_hour),
            hours_to_cpu_limit: self.cpu_trend.and_then(|t| t.hours_to_upper_bound),
            memory_trend_per_hour: self.memory_trend.map(|t| t.slope_per_hour),
            hours_to_memory_limit: self.memory_trend.and_then(|t| t.hours_to_upper_bound),
            ..Evidence::default()
        }
    }

    /// The performance score once load spreads over `new_count` instances (response time kept).
    fn projected_score(&self, new_count: u32) -> Option<f64> {
        if self.capacity.in_service == 0 || new_count == 0 {
            return None;
        }
        let factor = f64::from(self.capacity.in_service) / f64::from(new_count);
        let input = ScoreInput {
            cpu_average: Some(self.cpu_average * factor),
            memory_average: self.memory().map(|m| m * factor),
            in_service: Some(new_count),
            max_size: Some(self.capacity.max_size),
            response_time_ms: self.response_time(),
        };
        Assessment::of(&input, self.targets)
            .scored()
            .map(|s| s.performance_score)
    }

    fn cost_change_percent(&self, new_desired: u32) -> Option<f64> {
        (self.capacity.desired > 0).then(|| {
            let current = f64::from(self.capacity.desired);
            (current - f64::from(new_desired)) / current * 100.0
        })
    }

    fn reasons_for_more(&self) -> Vec<String> {
        let cpu = self.targets.cpu_range();
        let memory = self.targets.memory_range();
        let mut reasons = Vec::new();
        if self.cpu_above() {
            reasons.push(format!(
                "CPU average {:.1} % is above the {:.0}-{:.0} % range (peak {:.1} %)",
                self.cpu_average,
                cpu.low,
                cpu.high,
                self.cpu_peak()
            ));
        }
        if let Some(m) = self.memory().filter(|_| self.memory_above()) {
            reasons.push(format!(
                "memory average {:.1} % is above the {:.0}-{:.0} % range",
                m, memory.low, memory.high
            ));
        }
        if let Some(r) = self.response_time().filter(|_| self.response_time_above()) {
            reasons.push(format!(
                "response time {:.0} ms is above the {:.0} ms target",
                r,
                self.targets.response_time_ms()
            ));
        }
        if let Some(r) = self
            .requests_per_minute()
            .filter(|_| self.throughput_above())
        {
            let target = self.targets.throughput_target();
            reasons.push(match self.requests_per_instance() {
                Some(each) => format!(
                    "{each:.0} requests a minute per instance ({r:.0} over {} in service) is \
                     above the {target:.0} throughput target",
                    self.capacity.in_service
                ),
                None => format!(
                    "{r:.0} requests a minute reach the group with no instance in service \
                     (throughput target {target:.0} per instance)"
                ),
            });
        }
        reasons
    }

    fn scale_change(
        &self,
        kind: RecommendationType,
        priority: Priority,
        target: u32,
        why: &str,
        projectable: bool,
    ) -> Proposal {
        let name = &self.snapshot.group;
        let verb = if kind == RecommendationType::ScaleUp {
            "Scale up"
        } else {
            "Scale down"
        };
        // Target-tracking projects utilization, not latency: a scale-up driven by response
        // time alone gets no projected score (it would pretend latency stays as it is).
        let projected = if projectable {
            self.projected_score(target)
        } else {
            None
        };
        let gain = projected.map(|p| p - self.scored.performance_score);
        let cost = self.cost_change_percent(target);
        let expected = match projected {
            Some(p) => format!(
                "CPU average near {:.0} % and performance score {:.0} -> {:.0}",
                self.cpu_average * f64::from(self.capacity.in_service) / f64::from(target),
                self.scored.performance_score,
                p
            ),
            None => {
                let mut toward = Vec::new();
                if self.response_time_above() {
                    toward.push(format!(
                        "response time back toward the {:.0} ms target",
                        self.targets.response_time_ms()
                    ));
                }
                if let Some(r) = self
                    .requests_per_minute()
                    .filter(|_| self.throughput_above())
                {
                    toward.push(format!(
                        "about {:.0} requests a minute per instance (target {:.0})",
                        r / f64::from(target.max(1)),
                        self.targets.throughput_target()
                    ));
                }
                format!(
                    "{} as load spreads over {target} instances",
                    toward.join(" and ")
                )
            }
        };
        let cost_text = match cost {
            Some(c) if c < 0.0 => format!(", for {:.0} % more instance cost", -c),
            Some(c) => format!(", saving {c:.0} % of instance cost"),
            None => String::new(),
        };
        let description = format!(
            "{verb} {name} from {} to {target} instances: {why}. Expected: {expected}{cost_text}.",
            self.capacity.desired
        );
        Proposal {
            kind,
            priority,
            description,
            target_desired_capacity: Some(target),
            expected_impact: ExpectedImpact {
                performance_gain: gain,
                cost_savings: cost,
                monthly_savings_usd: None,
                risk_level: if kind == RecommendationType::ScaleUp {
                    RiskLevel::Low
                } else {
                    RiskLevel::Medium
                },
            },
            steps: vec![
                format!(
                    "SetDesiredCapacity on {name} from {} to {target} (HonorCooldown)",
                    self.capacity.desired
                ),
                "Wait for the instances to pass health checks".to_owned(),
                "Check CPU, memory and response time at the next analysis".to_owned(),
            ],
            evidence: self.evidence(Some(target)),
        }
    }

    fn scale_up(&self) -> Option<Proposal> {
        let mut target = self
            .tracking(self.cpu_average, self.targets.cpu_utilization())
            .max(self.capacity.in_service.saturating_add(1));
        if let Some(m) = self.memory().filter(|_| self.memory_above()) {
            target = target.max(self.tracking(m, self.targets.memory_utilization()));
        }
        if let Some(need) = self.throughput_need() {
            target = target.max(need);
        }
        let target = self.capacity.clamp(target);
        if target <= self.capacity.desired {
            return None;
        }
        let priority = if self.severe() {
            Priority::High
        } else {
            Priority::Medium
        };
        let why = self.reasons_for_more().join("; ");
        let projectable = self.cpu_above() || self.memory_above();
        Some(self.scale_change(
            RecommendationType::ScaleUp,
            priority,
            target,
            &why,
            projectable,
        ))
    }

    fn trend_scale_up(&self) -> Option<Proposal> {
        let rising = |t: &Option<Trend>| {
            t.filter(|t| t.direction == TrendDirection::Rising)
                .and_then(|t| t.hours_to_upper_bound)
                .filter(|h| *h <= TREND_HORIZON_HOURS)
        };
        let cpu_hours = rising(&self.cpu_trend);
        let memory_hours = rising(&self.memory_trend);
        if cpu_hours.is_none() && memory_hours.is_none() {
            return None;
        }
        let mut target = self.capacity.in_service.saturating_add(1);
        let mut reasons = Vec::new();
        if let (Some(hours), Some(t)) = (cpu_hours, self.cpu_trend) {
            let high = self.targets.cpu_range().high;
            target = target.max(self.tracking(high, self.targets.cpu_utilization()));
            reasons.push(format!(
                "CPU is rising {:.1} points an hour and reaches {high:.0} % in about {hours:.0} h",
                t.slope_per_hour
            ));
        }
        if let (Some(hours), Some(t)) = (memory_hours, self.memory_trend) {
            let high = self.targets.memory_range().high;
            target = target.max(self.tracking(high, self.targets.memory_utilization()));
            reasons.push(format!(
                "memory is rising {:.1} points an hour and reaches {high:.0} % in about {hours:.0} h",
                t.slope_per_hour
            ));
        }
        let target = self.capacity.clamp(target);
        (target > self.capacity.desired).then(|| {
            self.scale_change(
                RecommendationType::ScaleUp,
                Priority::Low,
                target,
                &reasons.join("; "),
                true,
            )
        })
    }

    fn instance_type_change(&self) -> Proposal {
        let name = &self.snapshot.group;
        let why = self.reasons_for_more().join("; ");
        Proposal {
            kind: RecommendationType::InstanceTypeChange,
            priority: Priority::High,
            description: format!(
                "Move {name} to a larger instance type (or raise its max size): {why}, and the \
                 group is already at its max size of {} instances, so scaling out cannot help. \
                 Expected: utilization back inside its range without more instances.",
                self.capacity.max_size
            ),
            target_desired_capacity: None,
            expected_impact: ExpectedImpact {
                performance_gain: None,
                cost_savings: None,
                monthly_savings_usd: None,
                risk_level: RiskLevel::Medium,
            },
            steps: vec![
                format!("Pick a larger instance type for {name} (or raise its MaxSize)"),
                "Update the launch template and start an instance refresh".to_owned(),
                "Check utilization at the next analysis".to_owned(),
            ],
            evidence: self.evidence(None),
        }
    }

    fn scale_down(&self) -> Option<Proposal> {
        let cpu = self.targets.cpu_range();
        let memory = self.targets.memory_range();
        let peak = self.cpu_peak();
        let memory_low = self.memory().is_none_or(|m| m < memory.low);
        let threshold = self.targets.utilization_threshold();
        if !(self.cpu_average < threshold
            && memory_low
            && peak < self.targets.cpu_utilization()
            && self.capacity.desired > self.capacity.min_size
            && !self.response_time_above())
        {
            return None;
        }
        let mut target = self
            .tracking(self.cpu_average, self.targets.cpu_utilization())
            .max(self.tracking(peak, cpu.high));
        if let Some(m) = self.memory() {
            target = target.max(self.tracking(m, self.targets.memory_utilization()));
        }
        if let Some(need) = self.throughput_need() {
            target = target.max(need);
        }
        let target = self.capacity.clamp(target);
        if target >= self.capacity.desired {
            return None;
        }
        let saving = self.cost_change_percent(target).unwrap_or(0.0);
        let priority = if saving < SMALL_SAVING_PERCENT {
            Priority::Low
        } else {
            Priority::Medium
        };
        let memory_part = match self.memory() {
            Some(m) => format!(", memory {m:.1} % is below {:.0} %", memory.low),
            None => String::new(),
        };
        let why = format!(
            "CPU average {:.1} % is under the {threshold:.0} % utilization threshold with a peak \
             of {:.1} % (under the {:.0} % target){memory_part}",
            self.cpu_average,
            peak,
            self.targets.cpu_utilization()
        );
        Some(self.scale_change(RecommendationType::ScaleDown, priority, target, &why, true))
    }

    fn performance_tuning(&self) -> Option<Proposal> {
        let name = &self.snapshot.group;
        let peak = self.cpu_peak();
        let latency_bound = self.response_time_above() && !self.cpu_above() && !self.memory_above();
        let spiky = peak > 2.0 * self.cpu_average && peak >= self.targets.cpu_utilization();
        if !latency_bound && !spiky {
            return None;
        }
        let mut reasons = Vec::new();
        if let Some(r) = self.response_time().filter(|_| latency_bound) {
            reasons.push(format!(
                "response time {:.0} ms is above the {:.0} ms target while CPU ({:.1} %) and \
                 memory are not above their ranges: the bottleneck is likely the application, \
                 a dependency or the load balancer",
                r,
                self.targets.response_time_ms(),
                self.cpu_average
            ));
        }
        if spiky {
            reasons.push(format!(
                "load is spiky: CPU peak {:.1} % is more than twice the {:.1} % average",
                peak, self.cpu_average
            ));
        }
        let priority = if self.severe() {
            Priority::High
        } else if latency_bound {
            Priority::Medium
        } else {
            Priority::Low
        };
        Some(Proposal {
            kind: RecommendationType::PerformanceTuning,
            priority,
            description: format!(
                "Tune {name}: {}. Expected: steadier response times without more instances.",
                reasons.join("; ")
            ),
            target_desired_capacity: None,
            expected_impact: ExpectedImpact {
                performance_gain: None,
                cost_savings: None,
                monthly_savings_usd: None,
                risk_level: RiskLevel::Low,
            },
            steps: vec![
                "Profile the slowest requests and the application's dependencies".to_owned(),
                "Review load balancer and target group settings (keep-alive, slow start)"
                    .to_owned(),
                "Consider predictive or scheduled scaling for the spikes".to_owned(),
            ],
            evidence: self.evidence(None),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn production() -> Targets {
        Targets::new(70.0, 80.0, 500.0, 1000.0, 60.0).unwrap()
    }

    fn group(min: u32, desired: u32, in_service: u32, max: u32) -> Snapshot {
        Snapshot {
            group: "web".into(),
            capacity: Some(Capacity {
                min_size: min,
                max_size: max,
                desired,
                in_service,
            }),
            ..Snapshot::default()
        }
    }

    fn with(
        mut s: Snapshot,
        cpu: f64,
        peak: f64,
        memory: Option<f64>,
        rt: Option<f64>,
    ) -> Snapshot {
        s.cpu_average = Some(cpu);
        s.cpu_peak = Some(peak);
        s.memory_average = memory;
        s.response_time_ms = rt;
        s
    }

    fn kinds(a: &Analysis) -> Vec<(RecommendationType, Priority)> {
        a.proposals.iter().map(|p| (p.kind, p.priority)).collect()
    }

    fn hourly(values: &[f64]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, &value)| Point {
                hours: i as f64,
                value,
            })
            .collect()
    }

    #[test]
    fn type_and_priority_names_parse_or_say_what_is_allowed() {
        for kind in RecommendationType::ALL {
            assert_eq!(kind.as_str().parse::<RecommendationType>(), Ok(kind));
        }
        assert_eq!("HIGH".parse::<Priority>(), Ok(Priority::High));
        assert_eq!(
            "URGENT".parse::<Priority>(),
            Err("unknown priority \"URGENT\": expected one of HIGH, MEDIUM, LOW".to_owned())
        );
    }

    #[test]
    fn cpu_above_range_scales_up_by_target_tracking() {
        // ceil(4 * 85 / 70) = ceil(4.857) = 5; peak 88 < 90 -> MEDIUM.
        let a = analyze(
            &with(group(2, 4, 4, 10), 85.0, 88.0, Some(75.0), None),
            &production(),
        );
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::ScaleUp, Priority::Medium)]
        );
        let p = &a.proposals[0];
        assert_eq!(p.target_desired_capacity, Some(5));
        assert_eq!(p.evidence.target_desired_capacity, Some(5));
        assert_eq!(p.expected_impact.risk_level, RiskLevel::Low);
        // One more instance of four: 25 % more instance cost.
        assert_eq!(p.expected_impact.cost_savings, Some(-25.0));
        assert!(p.expected_impact.performance_gain.unwrap() > 0.0);
        assert!(
            p.description
                .starts_with("Scale up web from 4 to 5 instances: CPU average 85.0 % is above the 60-80 % range (peak 88.0 %)"),
            "{}",
            p.description
        );
    }

    #[test]
    fn cpu_peak_at_90_makes_the_scale_up_high_priority() {
        let a = analyze(
            &with(group(1, 2, 2, 10), 82.0, 90.0, None, None),
            &production(),
        );
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::ScaleUp, Priority::High)]
        );
        // ceil(2 * 82 / 70) = 3
        assert_eq!(a.proposals[0].target_desired_capacity, Some(3));
    }

    #[test]
    fn memory_above_range_scales_up_by_memory_tracking() {
        // CPU in range (65); memory 92 > 85: max(ceil(6*65/70)=6, 6+1=7, ceil(6*92/80)=7) = 7.
        let a = analyze(
            &with(group(2, 6, 6, 20), 65.0, 70.0, Some(92.0), None),
            &production(),
        );
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::ScaleUp, Priority::Medium)]
        );
        assert_eq!(a.proposals[0].target_desired_capacity, Some(7));
    }

    #[test]
    fn response_time_over_1_5_targets_scales_up_high_and_asks_for_tuning() {
        // CPU 65 in range, memory none, response 800 ms > 750 -> SCALE_UP + PERFORMANCE_TUNING, both HIGH.
        let a = analyze(
            &with(group(1, 3, 3, 6), 65.0, 75.0, None, Some(800.0)),
            &production(),
        );
        assert_eq!(
            kinds(&a),
            vec![
                (RecommendationType::ScaleUp, Priority::High),
                (RecommendationType::PerformanceTuning, Priority::High),
            ]
        );
        // Response-time driven: at least one more instance, and no pretend score projection.
        let p = &a.proposals[0];
        assert_eq!(p.target_desired_capacity, Some(4));
        assert_eq!(p.expected_impact.performance_gain, None);
        assert!(
            p.description.ends_with(
                "Expected: response time back toward the 500 ms target as load spreads over 4 \
                 instances, for 33 % more instance cost."
            ),
            "{}",
            p.description
        );
    }

    #[test]
    fn response_time_just_above_target_is_medium_tuning() {
        let a = analyze(
            &with(group(1, 3, 3, 6), 65.0, 75.0, Some(75.0), Some(600.0)),
            &production(),
        );
        assert_eq!(
            kinds(&a),
            vec![
                (RecommendationType::ScaleUp, Priority::Medium),
                (RecommendationType::PerformanceTuning, Priority::Medium),
            ]
        );
    }

    #[test]
    fn group_at_max_size_gets_an_instance_type_change_not_a_scale_up() {
        let a = analyze(
            &with(group(2, 4, 4, 4), 85.0, 88.0, None, None),
            &production(),
        );
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::InstanceTypeChange, Priority::High)]
        );
        assert_eq!(a.proposals[0].target_desired_capacity, None);
        assert!(a.proposals[0].description.contains("max size of 4"));
    }

    #[test]
    fn scale_up_is_clamped_to_max_size() {
        // ceil(4 * 100 / 70) = 6, max 5 -> 5.
        let a = analyze(
            &with(group(1, 4, 4, 5), 100.0, 100.0, None, None),
            &production(),
        );
        assert_eq!(a.proposals[0].target_desired_capacity, Some(5));
    }

    #[test]
    fn no_scale_up_when_the_group_is_already_launching_enough() {
        // Desired 6 already covers ceil(4 * 85 / 70) = 5.
        let a = analyze(
            &with(group(1, 6, 4, 10), 85.0, 88.0, None, None),
            &production(),
        );
        assert!(kinds(&a).is_empty());
    }

    #[test]
    fn low_cpu_and_memory_scale_down_with_savings() {
        // ceil(10 * 30 / 70) = 5, ceil(10 * 40 / 80) = 5 (peak), ceil(10 * 50 / 80) = 7 (memory) -> 7.
        let a = analyze(
            &with(group(2, 10, 10, 20), 30.0, 40.0, Some(50.0), None),
            &production(),
        );
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::ScaleDown, Priority::Medium)]
        );
        let p = &a.proposals[0];
        assert_eq!(p.target_desired_capacity, Some(7));
        assert_eq!(p.expected_impact.cost_savings, Some(30.0));
        assert_eq!(p.expected_impact.risk_level, RiskLevel::Medium);
        assert!(
            p.description
                .starts_with("Scale down web from 10 to 7 instances")
        );
    }

    #[test]
    fn small_scale_down_savings_are_low_priority() {
        // 11 instances at 59 %, peak 62: ceil(11 * 59 / 70) = 10 -> one of 11 is a 9.1 % saving.
        let a = analyze(
            &with(group(1, 11, 11, 20), 59.0, 62.0, None, None),
            &production(),
        );
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::ScaleDown, Priority::Low)]
        );
        assert_eq!(a.proposals[0].target_desired_capacity, Some(10));
    }

    #[test]
    fn scale_down_needs_peak_below_target_and_room_above_min_size() {
        let production = production();
        // Peak 75 >= target 70: no scale-down (but spiky: 75 > 2 * 30 -> LOW tuning).
        let a = analyze(
            &with(group(2, 10, 10, 20), 30.0, 75.0, None, None),
            &production,
        );
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::PerformanceTuning, Priority::Low)]
        );
        // Already at min size.
        let a = analyze(
            &with(group(4, 4, 4, 20), 30.0, 40.0, None, None),
            &production,
        );
        assert!(kinds(&a).is_empty());
        // Memory in range: no scale-down.
        let a = analyze(
            &with(group(2, 10, 10, 20), 30.0, 40.0, Some(75.0), None),
            &production,
        );
        assert!(kinds(&a).is_empty());
    }

    #[test]
    fn scale_down_never_goes_below_min_size() {
        // ceil(10 * 5 / 70) = 1, min 3 -> 3.
        let a = analyze(
            &with(group(3, 10, 10, 20), 5.0, 8.0, None, None),
            &production(),
        );
        assert_eq!(a.proposals[0].target_desired_capacity, Some(3));
    }

    #[test]
    fn capacity_proposals_carry_their_backtest_and_a_saturating_scale_down_is_not_made() {
        // 10 instances at 5 % now, but 2 of 24 hours at 40 %: 3 instances would have run
        // those at 40 x 10 / 3 = 133 % -> 100 %, over 90 % in 2 of 24 hours (8 %).
        let mut s = with(group(3, 10, 10, 20), 5.0, 8.0, None, None);
        let mut hours = vec![5.0; 22];
        hours.extend([40.0, 40.0]);
        s.cpu_hourly = hourly(&hours);
        let a = analyze(&s, &production());
        assert!(
            a.proposals
                .iter()
                .all(|p| p.kind != RecommendationType::ScaleDown),
            "{a:#?}"
        );
        assert_eq!(
            a.withheld,
            vec![(
                RecommendationType::ScaleDown,
                "3 instances would have run 2 of the last 24 hours above 90 % CPU, more than the \
                 1 % allowed"
                    .to_owned()
            )]
        );
        // Allowed with 10 % of the hours saturated: made, with its backtest.
        let a = analyze_with(&s, &production(), 10.0);
        let down = &a.proposals[0];
        assert_eq!(
            (down.kind, down.target_desired_capacity),
            (RecommendationType::ScaleDown, Some(3))
        );
        let b = down.evidence.backtest.as_ref().unwrap();
        assert_eq!(
            (b.current.hours, b.current.cpu_max, b.current.hours_over_90),
            (24, 40.0, 0)
        );
        assert_eq!((b.proposed.cpu_max, b.proposed.hours_over_90), (100.0, 2));
        // Without hourly data there is nothing to replay: the rules alone decide.
        s.cpu_hourly.clear();
        let a = analyze(&s, &production());
        assert!(a.proposals[0].evidence.backtest.is_none());
        assert_eq!(a.proposals[0].kind, RecommendationType::ScaleDown);
    }

    #[test]
    fn no_scale_down_while_response_time_is_over_target() {
        let a = analyze(
            &with(group(2, 10, 10, 20), 30.0, 40.0, None, Some(600.0)),
            &production(),
        );
        assert_eq!(
            kinds(&a),
            vec![
                (RecommendationType::ScaleUp, Priority::Medium),
                (RecommendationType::PerformanceTuning, Priority::Medium),
            ]
        );
    }

    #[test]
    fn spiky_load_reaching_the_target_asks_for_tuning() {
        // Average 35, peak 95: spiky and peak >= 90 -> HIGH; CPU in no range breach for scale-up.
        let a = analyze(
            &with(group(2, 4, 4, 10), 35.0, 95.0, Some(75.0), None),
            &production(),
        );
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::PerformanceTuning, Priority::High)]
        );
        assert!(a.proposals[0].description.contains("spiky"));
        // A spike that stays under the target is noise.
        let a = analyze(
            &with(group(2, 4, 4, 10), 20.0, 50.0, Some(75.0), None),
            &production(),
        );
        assert!(kinds(&a).is_empty());
    }

    #[test]
    fn rising_cpu_trend_earns_a_low_priority_scale_up() {
        // In range now (70), rising 2 pp/h from 60 to 70: reaches 80 in 5 h.
        let mut s = with(group(1, 4, 4, 10), 70.0, 75.0, Some(75.0), None);
        s.cpu_hourly = hourly(&[60.0, 62.0, 64.0, 66.0, 68.0, 70.0]);
        let a = analyze(&s, &production());
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::ScaleUp, Priority::Low)]
        );
        // ceil(4 * 80 / 70) = 5
        assert_eq!(a.proposals[0].target_desired_capacity, Some(5));
        assert!((a.proposals[0].evidence.hours_to_cpu_limit.unwrap() - 5.0).abs() < 1e-9);
        assert!(a.proposals[0].description.contains("about 5 h"));
    }

    #[test]
    fn slow_trend_beyond_the_horizon_earns_nothing() {
        // 0.2 pp/h from 70: 50 h to 80.
        let mut s = with(group(1, 4, 4, 10), 70.0, 75.0, Some(75.0), None);
        s.cpu_hourly = hourly(&[69.0, 69.2, 69.4, 69.6, 69.8, 70.0]);
        assert!(kinds(&analyze(&s, &production())).is_empty());
    }

    #[test]
    fn healthy_group_gets_no_recommendation() {
        let a = analyze(
            &with(group(2, 4, 4, 10), 70.0, 80.0, Some(78.0), Some(300.0)),
            &production(),
        );
        assert!(kinds(&a).is_empty());
        assert_eq!(a.assessment.scored().unwrap().performance_score, 100.0);
    }

    #[test]
    fn insufficient_data_gets_no_recommendation() {
        let mut s = with(group(2, 4, 4, 10), 95.0, 99.0, None, None);
        s.cpu_average = None;
        let a = analyze(&s, &production());
        assert!(matches!(a.assessment, Assessment::InsufficientData { .. }));
        assert!(a.proposals.is_empty());
    }

    fn targets(throughput: f64, threshold: f64) -> Targets {
        Targets::new(70.0, 80.0, 500.0, throughput, threshold).unwrap()
    }

    fn requests(mut s: Snapshot, per_minute: Option<f64>) -> Snapshot {
        s.requests_per_minute = per_minute;
        s
    }

    #[test]
    fn scale_down_waits_until_cpu_is_under_the_utilization_threshold() {
        // Staging: CPU range 65-85, threshold 50. CPU 55 is below the range but not under 50.
        let staging = Targets::new(75.0, 85.0, 1000.0, 1000.0, 50.0).unwrap();
        let idle_ish = |cpu| with(group(2, 10, 10, 20), cpu, cpu + 5.0, None, None);
        assert!(kinds(&analyze(&idle_ish(55.0), &staging)).is_empty());
        let a = analyze(&idle_ish(45.0), &staging);
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::ScaleDown, Priority::Medium)]
        );
        // max(ceil(10 * 45 / 75), ceil(10 * 50 / 85)) = max(6, 6) = 6.
        assert_eq!(a.proposals[0].target_desired_capacity, Some(6));
        assert_eq!(a.proposals[0].evidence.utilization_threshold, Some(50.0));
        assert!(
            a.proposals[0].description.contains(
                "CPU average 45.0 % is under the 50 % utilization threshold with a peak of 50.0 %"
            ),
            "{}",
            a.proposals[0].description
        );
    }

    #[test]
    fn the_utilization_threshold_alone_says_when_a_group_is_under_utilized() {
        // 10 instances at 62 % (inside 60-80), peak 65 (under the 70 % target).
        let s = with(group(2, 10, 10, 20), 62.0, 65.0, None, None);
        assert!(kinds(&analyze(&s, &production())).is_empty());
        // An operator who calls anything under 65 % under-utilized gets the scale-in:
        // max(ceil(10 * 62 / 70), ceil(10 * 65 / 80)) = max(9, 9) = 9, a 10 % saving.
        let a = analyze(&s, &targets(1000.0, 65.0));
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::ScaleDown, Priority::Medium)]
        );
        assert_eq!(a.proposals[0].target_desired_capacity, Some(9));
        // And one whose threshold is 0 never scales in.
        let idle = with(group(2, 10, 10, 20), 5.0, 8.0, None, None);
        assert!(kinds(&analyze(&idle, &targets(1000.0, 0.0))).is_empty());
    }

    #[test]
    fn requests_above_throughput_target_ask_for_capacity_within_max_size() {
        // CPU and memory in range; 5,500 requests a minute over 4 instances is 1,375 each,
        // above 1,000: ceil(5500 / 1000) = 6 instances.
        let s = requests(
            with(group(2, 4, 4, 10), 65.0, 70.0, Some(75.0), None),
            Some(5500.0),
        );
        let a = analyze(&s, &production());
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::ScaleUp, Priority::Medium)]
        );
        let p = &a.proposals[0];
        assert_eq!(p.target_desired_capacity, Some(6));
        assert_eq!(p.expected_impact.risk_level, RiskLevel::Low);
        // Target tracking projects utilization, not requests: no pretend score.
        assert_eq!(p.expected_impact.performance_gain, None);
        assert_eq!(p.evidence.requests_per_minute, Some(5500.0));
        assert_eq!(p.evidence.throughput_target, Some(1000.0));
        assert_eq!(
            p.description,
            "Scale up web from 4 to 6 instances: 1375 requests a minute per instance (5500 over \
             4 in service) is above the 1000 throughput target. Expected: about 917 requests a \
             minute per instance (target 1000) as load spreads over 6 instances, for 50 % more \
             instance cost."
        );
        // Max size 5 bounds it.
        let s = requests(
            with(group(2, 4, 4, 5), 65.0, 70.0, Some(75.0), None),
            Some(5500.0),
        );
        assert_eq!(
            analyze(&s, &production()).proposals[0].target_desired_capacity,
            Some(5)
        );
        // At max size it asks for a larger type or a larger max size instead.
        let s = requests(
            with(group(2, 4, 4, 4), 65.0, 70.0, Some(75.0), None),
            Some(5500.0),
        );
        let a = analyze(&s, &production());
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::InstanceTypeChange, Priority::High)]
        );
        assert!(
            a.proposals[0]
                .description
                .contains("above the 1000 throughput target")
        );
    }

    #[test]
    fn requests_at_the_throughput_target_ask_for_nothing() {
        let s = requests(
            with(group(2, 4, 4, 10), 65.0, 70.0, Some(75.0), None),
            Some(4000.0),
        );
        assert!(kinds(&analyze(&s, &production())).is_empty());
    }

    #[test]
    fn without_load_balancer_data_there_is_no_throughput_finding() {
        let s = with(group(2, 4, 4, 10), 65.0, 70.0, Some(75.0), None);
        assert_eq!(s.requests_per_minute, None);
        // Even a throughput target of one request a minute finds nothing to read.
        assert!(kinds(&analyze(&s, &targets(1.0, 60.0))).is_empty());
        // A CPU finding still carries the target, and no request figure.
        let hot = with(group(2, 4, 4, 10), 85.0, 88.0, None, None);
        let a = analyze(&hot, &production());
        assert_eq!(a.proposals[0].evidence.requests_per_minute, None);
        assert_eq!(a.proposals[0].evidence.throughput_target, Some(1000.0));
    }

    #[test]
    fn throughput_and_cpu_together_take_the_larger_need() {
        // CPU 85: ceil(4 * 85 / 70) = 5; requests 7,200: ceil(7200 / 1000) = 8.
        let s = requests(
            with(group(2, 4, 4, 10), 85.0, 88.0, None, None),
            Some(7200.0),
        );
        let a = analyze(&s, &production());
        let p = &a.proposals[0];
        assert_eq!(p.target_desired_capacity, Some(8));
        assert!(p.description.contains("CPU average 85.0 %"));
        assert!(
            p.description
                .contains("1800 requests a minute per instance")
        );
    }

    #[test]
    fn scale_down_keeps_requests_per_instance_under_the_throughput_target() {
        // CPU alone would go from 10 to 5 (see low_cpu_and_memory_scale_down_with_savings);
        // 7,000 requests a minute need 7 instances at 1,000 each.
        let s = requests(
            with(group(2, 10, 10, 20), 30.0, 40.0, None, None),
            Some(7000.0),
        );
        let a = analyze(&s, &production());
        assert_eq!(
            kinds(&a),
            vec![(RecommendationType::ScaleDown, Priority::Medium)]
        );
        assert_eq!(a.proposals[0].target_desired_capacity, Some(7));
        // Requests that need all 10 leave nothing to scale in.
        let busy = requests(
            with(group(2, 10, 10, 20), 30.0, 40.0, None, None),
            Some(9500.0),
        );
        assert!(kinds(&analyze(&busy, &production())).is_empty());
    }

    fn any_snapshot() -> impl Strategy<Value = Snapshot> {
        (
            (0u32..20, 0u32..40, 0u32..40, 0u32..40),
            0.0..100.0f64,
            0.0..100.0f64,
            proptest::option::of(0.0..100.0f64),
            proptest::option::of(0.0..5000.0f64),
            proptest::collection::vec(0.0..100.0f64, 0..30),
            proptest::option::of(0.0..60_000.0f64),
        )
            .prop_map(
                |((min, desired, in_service, max), cpu, extra_peak, memory, rt, hours, rpm)| {
                    let max = max.max(min);
                    let mut s = group(min, desired.clamp(min, max), in_service, max);
                    s.cpu_average = Some(cpu);
                    s.cpu_peak = Some((cpu + extra_peak).min(100.0));
                    s.memory_average = memory;
                    s.response_time_ms = rt;
                    s.cpu_hourly = hourly(&hours);
                    s.requests_per_minute = rpm;
                    s
                },
            )
    }

    fn any_targets() -> impl Strategy<Value = Targets> {
        (
            20.0..=90.0f64,
            20.0..=90.0f64,
            1.0..3000.0f64,
            1.0..5000.0f64,
            0.0..=100.0f64,
        )
            .prop_map(|(c, m, r, tp, u)| Targets::new(c, m, r, tp, u).unwrap())
    }

    proptest! {
        #[test]
        fn target_capacity_stays_within_min_and_max(s in any_snapshot(), t in any_targets()) {
            let capacity = s.capacity.unwrap();
            for p in analyze(&s, &t).proposals {
                if let Some(target) = p.target_desired_capacity {
                    prop_assert!(target >= capacity.min_size && target <= capacity.max_size,
                        "{target} outside [{}, {}]", capacity.min_size, capacity.max_size);
                    prop_assert_ne!(target, capacity.desired);
                }
            }
        }

        #[test]
        fn a_group_at_max_size_never_gets_scale_up(s in any_snapshot(), t in any_targets()) {
            let mut s = s;
            let mut capacity = s.capacity.unwrap();
            capacity.in_service = capacity.max_size;
            s.capacity = Some(capacity);
            let analysis = analyze(&s, &t);
            let kinds: Vec<_> = analysis.proposals.iter().map(|p| p.kind).collect();
            prop_assert!(!kinds.contains(&RecommendationType::ScaleUp));
            let needs_more = s.cpu_average.unwrap() > t.cpu_range().high
                || s.memory_average.is_some_and(|m| m > t.memory_range().high)
                || s.response_time_ms.is_some_and(|r| r > t.response_time_ms())
                || s.requests_per_minute
                    .is_some_and(|r| r > t.throughput_target() * f64::from(capacity.in_service));
            if needs_more && capacity.max_size > 0 {
                prop_assert!(kinds.contains(&RecommendationType::InstanceTypeChange));
            }
        }

        #[test]
        fn insufficient_data_never_yields_a_recommendation(
            s in any_snapshot(),
            t in any_targets(),
            drop in 0usize..3,
        ) {
            let mut s = s;
            match drop {
                0 => s.cpu_average = None,
                1 => s.capacity = None,
                _ => s.capacity = s.capacity.map(|c| Capacity { max_size: 0, min_size: 0, desired: 0, ..c }),
            }
            let analysis = analyze(&s, &t);
            prop_assert!(
                matches!(analysis.assessment, Assessment::InsufficientData { .. }),
                "expected insufficient data"
            );
            prop_assert!(analysis.proposals.is_empty());
        }

        #[test]
        fn any_requests_above_throughput_target_ask_for_capacity_within_max_size(
            s in any_snapshot(),
            t in any_targets(),
        ) {
            let capacity = s.capacity.unwrap();
            let Some(rpm) = s.requests_per_minute else {
                return Ok(());
            };
            // A group that may hold no instance is insufficient data, with no proposal at all
            // (insufficient_data_never_yields_a_recommendation).
            if capacity.max_size == 0 {
                return Ok(());
            }
            if rpm <= t.throughput_target() * f64::from(capacity.in_service) {
                return Ok(());
            }
            let need = (rpm / t.throughput_target()).ceil();
            let wanted = need.min(f64::from(capacity.max_size));
            let proposals = analyze(&s, &t).proposals;
            let up = proposals.iter().find(|p| p.kind == RecommendationType::ScaleUp);
            if capacity.at_max() {
                prop_assert!(up.is_none());
                prop_assert!(proposals.iter().any(|p| p.kind == RecommendationType::InstanceTypeChange));
            } else if let Some(up) = up {
                let target = up.target_desired_capacity.unwrap();
                prop_assert!(target <= capacity.max_size);
                prop_assert!(f64::from(target) >= wanted, "{target} < {wanted}");
            } else {
                // No scale-up only when the group is already launching what the requests need.
                prop_assert!(f64::from(capacity.desired) >= wanted, "{} < {wanted}", capacity.desired);
            }
        }

        #[test]
        fn a_scale_down_never_leaves_more_requests_per_instance_than_the_throughput_target(
            (min, desired, max) in (2u32..40).prop_flat_map(|d| (0..d, Just(d), d..60)),
            cpu in 1.0..55.0f64,
            throughput in 100.0..2000.0f64,
            load in 0.0..=1.0f64,
        ) {
            // A quiet group (CPU under production's 60 % threshold, peak under the 70 %
            // target, no memory metric) whose requests its instances serve within the target.
            let t = targets(throughput, 60.0);
            let rpm = load * throughput * f64::from(desired);
            let s = requests(with(group(min, desired, desired, max), cpu, cpu * 1.2, None, None), Some(rpm));
            for p in analyze(&s, &t).proposals {
                prop_assert_eq!(p.kind, RecommendationType::ScaleDown);
                let target = p.target_desired_capacity.unwrap();
                prop_assert!(rpm <= throughput * f64::from(target),
                    "{rpm} a minute over {target} instances at target {throughput}");
            }
        }

        #[test]
        fn a_scale_down_needs_cpu_under_the_utilization_threshold(
            s in any_snapshot(),
            t in any_targets(),
        ) {
            let cpu = s.cpu_average.unwrap();
            for p in analyze(&s, &t).proposals {
                if p.kind == RecommendationType::ScaleDown {
                    prop_assert!(cpu < t.utilization_threshold(),
                        "CPU {cpu} not under the threshold {}", t.utilization_threshold());
                    prop_assert_eq!(p.evidence.utilization_threshold, Some(t.utilization_threshold()));
                }
            }
        }

        #[test]
        fn every_proposal_states_its_numbers(s in any_snapshot(), t in any_targets()) {
            for p in analyze(&s, &t).proposals {
                prop_assert!(p.description.contains(&s.group));
                prop_assert!(p.evidence.cpu_average.is_some());
                prop_assert!(!p.steps.is_empty());
            }
        }
    }
}
