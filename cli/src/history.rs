//! What `fleetopt dashboard` and `fleetopt report` show, read once: the targeted groups
//! (DescribeAutoScalingGroups), their series over the period (the shared history queries, one
//! GetMetricData request per 500 queries) and the recommendations (one `TypeIndex` query per
//! type, never a scan). Both commands render this one document; the dashboard's JSON is it.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use fleetopt_aws::Clients;
use fleetopt_config::default_table_name;
use fleetopt_model::{Priority, Recommendation, RecommendationType, Status, savings_achieved};
use fleetopt_ports::{
    FleetDirectory, GroupInfo, GroupSelector, MetricsSource, RecommendationQuery,
    RecommendationStore, newest_first,
};
use fleetopt_scoring::{Label, MetricStatus, Point, Range, Targets, trend};
use fleetopt_snapshot::{
    GroupHistory, Sample, environment_history, group_history, history_period, history_queries,
    history_window,
};
use serde::Serialize;

use crate::cli::{Global, HistoryArgs};
use crate::recommendations::place_of;
use crate::terminal::Progress;

/// The statuses of a recommendation still to be acted on or being acted on.
pub const OPEN: [Status; 4] = [
    Status::Pending,
    Status::AwaitingApproval,
    Status::Approved,
    Status::InProgress,
];

/// The fleet over a period: the dashboard's JSON document (stable keys).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetHistory {
    pub application: String,
    pub environment: &'static str,
    /// The region the configuration chain resolved (or `--region`).
    pub region: Option<String>,
    pub period_hours: u32,
    /// Seconds per datapoint.
    pub period_seconds: u32,
    pub window: Window,
    /// The CloudWatch dashboard the stack deploys for this application and environment.
    pub dashboard: DashboardRef,
    /// The recommendations table read.
    pub table: String,
    pub groups: Vec<GroupView>,
    /// The environment's own figures over the period.
    pub environment_metrics: EnvironmentView,
    pub recommendations: RecommendationSummary,
    /// AWS calls this run made, per API.
    pub aws_calls: BTreeMap<String, u64>,
    /// The open recommendations, newest first (the report lists them; the summary counts them).
    #[serde(skip)]
    pub open: Vec<Recommendation>,
    /// Completed changes with a measured outcome, newest first (the report shows them; JSON
    /// leaves them to `fleetopt recommendations`).
    #[serde(skip)]
    pub outcomes: Vec<Recommendation>,
    /// Completed changes with measured savings, completed in the last 30 days
    /// (`fleetopt_model::savings_achieved`; the report shows them beside the projection).
    #[serde(skip)]
    pub achieved: Vec<Recommendation>,
}

/// The period read.
#[derive(Debug, Serialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The deployed CloudWatch dashboard.
#[derive(Debug, Serialize)]
pub struct DashboardRef {
    /// `<application>-<environment>-fleet-optimizer`.
    pub name: String,
    /// Its AWS console address; `None` without a region.
    pub url: Option<String>,
}

/// One datapoint.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Datapoint {
    pub timestamp: DateTime<Utc>,
    pub value: f64,
}

/// One group's widgets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub auto_scaling_group_name: String,
    /// Now, from DescribeAutoScalingGroups.
    pub capacity: CapacityNow,
    /// The environment's CPU range, percent.
    pub cpu_range: [f64; 2],
    /// The environment's memory range, percent.
    pub memory_range: [f64; 2],
    /// The latest datapoint of each series, with labels and statuses.
    pub latest: Latest,
    /// Share of the CPU datapoints below, in and above the range, percent; `None` without data.
    pub cpu_time_in_range: Option<TimeInRange>,
    /// Least-squares slope of memory, percentage points an hour; `None` under two datapoints.
    pub memory_trend_per_hour: Option<f64>,
    pub series: Series,
    /// The 24-hour CPU profile of the last 14 days.
    pub profile: crate::profile::DayProfile,
}

/// Current capacity.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityNow {
    pub in_service: u32,
    pub desired_capacity: u32,
    pub min_size: u32,
    pub max_size: u32,
}

/// Latest values.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Latest {
    pub performance_score: Option<f64>,
    pub performance_label: Option<&'static str>,
    pub efficiency_rating: Option<f64>,
    pub efficiency_label: Option<&'static str>,
    pub cpu_average: Option<f64>,
    pub cpu_status: Option<&'static str>,
    pub memory_average: Option<f64>,
    pub memory_status: Option<&'static str>,
    pub cost_savings_potential: Option<f64>,
}

/// Shares of datapoints, percent.
#[derive(Debug, Serialize)]
pub struct TimeInRange {
    pub below: f64,
    #[serde(rename = "in")]
    pub inside: f64,
    pub above: f64,
}

/// Every series, oldest first; empty when CloudWatch had no datapoints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    pub performance_score: Vec<Datapoint>,
    pub efficiency_rating: Vec<Datapoint>,
    pub cpu_average: Vec<Datapoint>,
    pub memory_average: Vec<Datapoint>,
    pub cost_savings_potential: Vec<Datapoint>,
    pub in_service: Vec<Datapoint>,
    pub desired_capacity: Vec<Datapoint>,
    pub max_size: Vec<Datapoint>,
}

/// The environment's figures.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentView {
    /// ActionsApplied over the period (`None`: the engine published nothing).
    pub actions_applied: Option<f64>,
    pub actions_failed: Option<f64>,
    pub actions_rolled_back: Option<f64>,
    /// The latest environment-wide CostSavingsPotential, percent of the monthly cost.
    pub cost_savings_potential: Option<f64>,
}

/// The recommendations summary widget: every item in the table, counted.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecommendationSummary {
    pub total: usize,
    /// PENDING, AWAITING_APPROVAL, APPROVED or IN_PROGRESS.
    pub open: usize,
    pub by_type: BTreeMap<&'static str, usize>,
    pub by_priority: BTreeMap<&'static str, usize>,
    pub by_status: BTreeMap<&'static str, usize>,
    /// By where the group is: "own" (the functions' own account and region) or
    /// `account/region`; only the places that hold an item.
    pub by_account: BTreeMap<String, AccountCounts>,
}

/// One account and region's recommendations.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AccountCounts {
    pub total: usize,
    pub open: usize,
}

/// The dashboard's name for an application and environment (the stack's naming rule).
pub fn dashboard_name(application: &str, environment: &str) -> String {
    format!("{application}-{environment}-fleet-optimizer")
}

/// The console address of the dashboard `name` in `region`.
pub fn dashboard_url(region: &str, name: &str) -> String {
    format!(
        "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"
    )
}

/// Reads everything the dashboard and the report show. `steps_after` more steps follow on the
/// same progress bar (the report draws).
pub async fn read(global: &Global, args: &HistoryArgs, steps_after: u64) -> Result<FleetHistory> {
    let progress = Progress::steps(global, 3 + steps_after, "reading the Auto Scaling groups");
    let table = args
        .table
        .clone()
        .unwrap_or_else(|| default_table_name(&global.application, global.environment));
    let config = global.sdk_config().await;
    let region = config.region().map(|r| r.as_ref().to_owned());
    let clients = Clients::new(&config);
    let selector = if args.groups.is_empty() {
        GroupSelector::Tag {
            key: args.tag.0.clone(),
            value: args.tag.1.clone(),
        }
    } else {
        GroupSelector::Names(args.groups.clone())
    };
    let groups = clients
        .fleet()
        .groups(&selector)
        .await
        .context("reading the Auto Scaling groups")?;
    check_targeted(&selector, &groups)?;
    progress.next("reading metrics and recommendations");

    let now = Utc::now();
    let period = history_period(args.period);
    let window = history_window(now, args.period);
    let queries = history_queries(
        &groups,
        global.environment.as_str(),
        &args.namespace,
        period,
    );
    let metrics = clients.metrics();
    let store = clients.store(&table);
    let everything = RecommendationQuery::default();
    let (results, recommendations) =
        tokio::join!(metrics.read(&window, &queries), store.query(&everything));
    let results = results.context("reading the metrics (GetMetricData)")?;
    // After the series, not beside them: 14 days of hours are the heaviest read, and alone it
    // has the whole timeout to itself.
    let profiles = crate::profile::read(&metrics, &groups, now).await;
    let mut profiles = profiles?.into_iter();
    let recommendations =
        recommendations.with_context(|| format!("reading recommendations from table {table}"))?;
    crate::terminal::warn_skipped(&recommendations);
    progress.next("summarizing");

    let targets = global.environment.preset().targets;
    let views = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mut view = group_view(g, &group_history(&results, i), &targets);
            if let Some(p) = profiles.next() {
                view.profile = p;
            }
            view
        })
        .collect();
    let env = environment_history(&results);
    let name = dashboard_name(&global.application, global.environment.as_str());
    let mut open: Vec<Recommendation> = recommendations
        .iter()
        .filter(|r| OPEN.contains(&r.status))
        .cloned()
        .collect();
    open.sort_by(newest_first);
    // Measured outcomes of completed changes, newest first (the report shows them per group).
    let mut outcomes: Vec<Recommendation> = recommendations
        .iter()
        .filter(|r| r.outcome.is_some())
        .cloned()
        .collect();
    outcomes.sort_by(newest_first);
    let mut achieved: Vec<Recommendation> = savings_achieved(&recommendations, now)
        .items
        .into_iter()
        .cloned()
        .collect();
    achieved.sort_by(newest_first);
    progress.next("done");
    Ok(FleetHistory {
        application: global.application.clone(),
        environment: global.environment.as_str(),
        dashboard: DashboardRef {
            url: region.as_deref().map(|r| dashboard_url(r, &name)),
            name,
        },
        region,
        period_hours: args.period,
        period_seconds: period,
        window: Window {
            start: window.start,
            end: window.end,
        },
        table,
        groups: views,
        environment_metrics: EnvironmentView {
            actions_applied: env.actions_applied,
            actions_failed: env.actions_failed,
            actions_rolled_back: env.actions_rolled_back,
            cost_savings_potential: env.cost_savings_potential.last().map(|(_, v)| *v),
        },
        recommendations: summary(&recommendations),
        aws_calls: clients.calls.snapshot(),
        open,
        outcomes,
        achieved,
    })
}

/// Refuses a run with nothing to show: no group carries the tag, or a named group is missing.
fn check_targeted(selector: &GroupSelector, found: &[GroupInfo]) -> Result<()> {
    match selector {
        GroupSelector::Tag { key, value } if found.is_empty() => bail!(
            "no Auto Scaling groups targeted: none is tagged {key}={value}; tag the groups \
             fleet-optimizer watches, or name them with --group"
        ),
        GroupSelector::Names(names) => {
            let missing: Vec<&str> = names
                .iter()
                .filter(|n| !found.iter().any(|g| &g.name == *n))
                .map(String::as_str)
                .collect();
            match missing.as_slice() {
                [] => Ok(()),
                [one] => bail!("Auto Scaling group {one} not found"),
                many => bail!("Auto Scaling groups {} not found", many.join(", ")),
            }
        }
        GroupSelector::Tag { .. } => Ok(()),
    }
}

fn points(series: &[Sample]) -> Vec<Datapoint> {
    series
        .iter()
        .map(|(timestamp, value)| Datapoint {
            timestamp: *timestamp,
            value: *value,
        })
        .collect()
}

fn last(series: &[Sample]) -> Option<f64> {
    series.last().map(|(_, v)| *v)
}

/// Shares of `series` below, in and above `range`.
fn time_in_range(series: &[Sample], range: Range) -> Option<TimeInRange> {
    if series.is_empty() {
        return None;
    }
    let n = series.len() as f64;
    let share =
        |f: &dyn Fn(f64) -> bool| series.iter().filter(|(_, v)| f(*v)).count() as f64 * 100.0 / n;
    Some(TimeInRange {
        below: share(&|v| v < range.low),
        inside: share(&|v| range.contains(v)),
        above: share(&|v| v > range.high),
    })
}

fn slope_per_hour(series: &[Sample]) -> Option<f64> {
    let origin = series.first()?.0;
    let points: Vec<Point> = series
        .iter()
        .map(|(t, v)| Point {
            hours: (*t - origin).num_seconds() as f64 / 3600.0,
            value: *v,
        })
        .collect();
    trend(&points, 100.0).map(|t| t.slope_per_hour)
}

fn group_view(group: &GroupInfo, history: &GroupHistory, targets: &Targets) -> GroupView {
    let (cpu_range, memory_range) = (targets.cpu_range(), targets.memory_range());
    let score = last(&history.performance_score);
    let rating = last(&history.efficiency_rating);
    let cpu = last(&history.cpu_average);
    let memory = last(&history.memory_average);
    GroupView {
        auto_scaling_group_name: group.name.clone(),
        capacity: CapacityNow {
            in_service: group.in_service,
            desired_capacity: group.desired,
            min_size: group.min_size,
            max_size: group.max_size,
        },
        cpu_range: [cpu_range.low, cpu_range.high],
        memory_range: [memory_range.low, memory_range.high],
        latest: Latest {
            performance_score: score,
            performance_label: score.map(|s| Label::of(s).as_str()),
            efficiency_rating: rating,
            efficiency_label: rating.map(|r| Label::of(r).as_str()),
            cpu_average: cpu,
            cpu_status: cpu.map(|c| MetricStatus::of_utilization(c, cpu_range).as_str()),
            memory_average: memory,
            memory_status: memory.map(|m| MetricStatus::of_utilization(m, memory_range).as_str()),
            cost_savings_potential: last(&history.cost_savings_potential),
        },
        cpu_time_in_range: time_in_range(&history.cpu_average, cpu_range),
        memory_trend_per_hour: slope_per_hour(&history.memory_average),
        series: Series {
            performance_score: points(&history.performance_score),
            efficiency_rating: points(&history.efficiency_rating),
            cpu_average: points(&history.cpu_average),
            memory_average: points(&history.memory_average),
            cost_savings_potential: points(&history.cost_savings_potential),
            in_service: points(&history.in_service),
            desired_capacity: points(&history.desired_capacity),
            max_size: points(&history.max_size),
        },
        profile: crate::profile::DayProfile::default(),
    }
}

/// Every recommendation counted by type, priority and status (every value listed, 0 included,
/// so a script's keys never depend on the data).
pub fn summary(all: &[Recommendation]) -> RecommendationSummary {
    let mut by_type: BTreeMap<&'static str, usize> = RecommendationType::ALL
        .iter()
        .map(|t| (t.as_str(), 0))
        .collect();
    let mut by_priority: BTreeMap<&'static str, usize> =
        Priority::ALL.iter().map(|p| (p.as_str(), 0)).collect();
    let mut by_status: BTreeMap<&'static str, usize> =
        Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut by_account: BTreeMap<String, AccountCounts> = BTreeMap::new();
    for r in all {
        let counts = by_account.entry(place_of(r)).or_default();
        counts.total += 1;
        counts.open += usize::from(OPEN.contains(&r.status));
        *by_type.entry(r.kind.as_str()).or_default() += 1;
        *by_priority.entry(r.priority.as_str()).or_default() += 1;
        *by_status.entry(r.status.as_str()).or_default() += 1;
    }
    RecommendationSummary {
        total: all.len(),
        open: all.iter().filter(|r| OPEN.contains(&r.status)).count(),
        by_type,
        by_priority,
        by_status,
        by_account,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::TimeZone;
    use fleetopt_ports::fakes::contract::sample;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, hour, 0, 0).unwrap()
    }

    #[test]
    fn the_console_url_names_the_region_and_the_dashboard() {
        let name = dashboard_name("shop", "staging");
        assert_eq!(name, "shop-staging-fleet-optimizer");
        assert_eq!(
            dashboard_url("eu-west-1", &name),
            "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1\
             #dashboards/dashboard/shop-staging-fleet-optimizer"
        );
    }

    #[test]
    fn cpu_time_in_range_counts_datapoints_against_the_range() {
        let range = Range {
            low: 60.0,
            high: 80.0,
        };
        let series = [(at(1), 50.0), (at(2), 70.0), (at(3), 75.0), (at(4), 90.0)];
        let shares = time_in_range(&series, range).unwrap();
        assert_eq!(
            (shares.below, shares.inside, shares.above),
            (25.0, 50.0, 25.0)
        );
        assert!(time_in_range(&[], range).is_none());
    }

    #[test]
    fn the_memory_trend_is_the_slope_per_hour() {
        let series = [(at(1), 70.0), (at(2), 71.0), (at(3), 72.0)];
        assert!((slope_per_hour(&series).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(slope_per_hour(&series[..1]), None);
    }

    #[test]
    fn the_summary_lists_every_type_priority_and_status_zeros_included() {
        let mut done = sample("web", 7);
        done.status = Status::Completed;
        let s = summary(&[sample("web", 8), sample("api", 8), done]);
        assert_eq!((s.total, s.open), (3, 2));
        assert_eq!(s.by_type.len(), RecommendationType::ALL.len());
        assert_eq!(s.by_type["SCALE_UP"], 3);
        assert_eq!(s.by_type["SCALE_DOWN"], 0);
        assert_eq!(s.by_status.len(), Status::ALL.len());
        assert_eq!((s.by_status["PENDING"], s.by_status["COMPLETED"]), (2, 1));
        assert_eq!(s.by_priority.values().sum::<usize>(), 3);
        assert_eq!(
            s.by_account,
            BTreeMap::from([("own".to_owned(), AccountCounts { total: 3, open: 2 })])
        );
        let mut theirs = sample("web", 9);
        theirs.account_id = Some("210987654321".into());
        theirs.region = Some("eu-west-1".into());
        let s = summary(&[sample("web", 8), theirs]);
        assert_eq!(
            s.by_account["210987654321/eu-west-1"],
            AccountCounts { total: 1, open: 1 }
        );
        assert_eq!(s.by_account["own"], AccountCounts { total: 1, open: 1 });
    }

    #[test]
    fn no_targeted_group_and_missing_named_groups_are_errors() {
        let tag = GroupSelector::Tag {
            key: "fleet-optimizer:enabled".into(),
            value: "true".into(),
        };
        let err = check_targeted(&tag, &[]).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "no Auto Scaling groups targeted: none is tagged fleet-optimizer:enabled=true"
            ),
            "{err}"
        );
        let names = GroupSelector::Names(vec!["web".into(), "nope".into()]);
        assert_eq!(
            check_targeted(&names, &[]).unwrap_err().to_string(),
            "Auto Scaling groups web, nope not found"
        );
    }
}
