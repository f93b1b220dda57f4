//! The pure domain of fleet-optimizer (docs/scoring.md).
//!
//! Plain data in, plain data out: a [`Snapshot`] of one Auto Scaling group and the environment's
//! [`Targets`] go in; an [`Assessment`] (performance score, efficiency rating, labels, metric
//! statuses, trends) and the [`Proposal`]s that follow from it come out.
//!
//! **Architecture invariant:** this crate does no I/O, has no async code, reads no clock and knows
//! nothing of AWS. Time, when a rule needs it, is a parameter.

mod backtest;
mod cycles;
mod rightsizing;
mod rules;
mod schedule;
mod score;
mod status;
mod targets;
mod trend;

pub use backtest::{
    Backtest, Backtests, DEFAULT_MAX_SATURATED_PERCENT, DemandHour, SATURATED_CPU, backtest,
    observed, projected_cpu,
};
pub use cycles::{
    Cycle, Cycles, MIN_DAYS_DAILY, MIN_WEEKS_WEEKLY, Profile, STRONG_CYCLE, cycles, day_of_week,
    hour_of_day,
};
pub use rightsizing::{
    Architecture, CpuPercentile, InstanceFamily, MigrationEffort, RightSizing, RightSizingAction,
    RightSizingOption, RightSizingPreferences, RightSizingStatus,
};
pub use rules::{
    Analysis, Capacity, CommitmentFigures, Evidence, ExpectedImpact, Priority, Proposal,
    RecommendationType, RiskLevel, Snapshot, TREND_HORIZON_HOURS, analyze, analyze_with,
    parse_named,
};
pub use schedule::{
    BUSY, MIN_WINDOW_HOURS, QUIET, Recurrence, SCHEDULED_ACTION_PREFIX, Schedule, ScheduleLimits,
    ScheduleOutcome, ScheduledWindow, propose_schedule, scheduled_action_names,
};
pub use score::{
    Assessment, Label, Part, ScoreInput, Scored, SubScores, capacity_score, cpu_score,
    efficiency_rating, memory_score, performance_score, response_time_score,
};
pub use status::MetricStatus;

/// The most one action may move a group whose desired capacity is `desired`: the smaller of
/// `percent` of it and `instances`, but at least one instance:
/// `max(1, min(floor(desired x percent / 100), instances))`.
pub fn max_step(percent: u32, instances: u32, desired: u32) -> u32 {
    let share = u64::from(desired) * u64::from(percent) / 100;
    let share = u32::try_from(share).unwrap_or(u32::MAX);
    share.min(instances).max(1)
}

/// Hours in the average month (365 × 24 / 12): how AWS turns hourly prices into monthly ones.
pub const HOURS_PER_MONTH: f64 = 730.0;
pub use targets::{Range, TargetError, Targets};
pub use trend::{Point, STABLE_SLOPE_PER_HOUR, Trend, TrendDirection, trend};
