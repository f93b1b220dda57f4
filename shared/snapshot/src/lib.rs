//! Which metrics to read for a set of groups (docs/design.md), over which aligned windows,
//! and how the figures read back become a [`Snapshot`] (and a cost run's reads a
//! [`fleetopt_costing::CostSnapshot`]). Pure: no AWS, no clock. Shared by the
//! analyzer and `fleetopt metrics`, so both read and average the same figures the same way.
//! `capacity` holds the windows and the query a completed change's savings are measured by.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use fleetopt_ports::{
    GroupInfo, MetricQuery, MetricResults, Statistic, TargetGroupRef, TimeWindow,
};
use std::collections::HashMap;

use fleetopt_scoring::{Capacity, DemandHour, Point, Snapshot};

mod capacity;
mod cost;
mod history;
pub use capacity::{CAPACITY_WINDOW_HOURS, ChangeWindows, capacity_queries, in_service};
pub use cost::{CostReads, cost_snapshot, windows_of};
pub use history::{
    EnvironmentHistory, GroupHistory, MAX_HISTORY_HOURS, Sample, environment_history,
    group_history, history_period, history_queries, history_window,
};

/// Period of the assessment window's datapoints, seconds.
pub const ASSESSMENT_PERIOD: u32 = 300;
/// Period of the trend window's datapoints, seconds.
pub const TREND_PERIOD: u32 = 3600;
/// Length of the trend window, hours.
pub const TREND_HOURS: i64 = 24;

/// The two windows one analysis reads, each aligned to its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// The last analysis interval at 5-minute periods.
    pub assessment: TimeWindow,
    /// The last 24 hours at 1-hour periods.
    pub trend: TimeWindow,
}

fn floor(t: DateTime<Utc>, seconds: u32) -> DateTime<Utc> {
    // A period of whole seconds always divides a day's worth of UTC time: never fails.
    t.duration_trunc(TimeDelta::seconds(i64::from(seconds)))
        .unwrap_or(t)
}

impl Windows {
    /// The windows ending at the last period boundary before `now`. The assessment window is
    /// `interval_minutes` long, rounded up to whole 5-minute periods.
    pub fn ending_before(now: DateTime<Utc>, interval_minutes: u32) -> Self {
        let assessment_end = floor(now, ASSESSMENT_PERIOD);
        let periods = i64::from(interval_minutes.div_ceil(ASSESSMENT_PERIOD / 60).max(1));
        let trend_end = floor(now, TREND_PERIOD);
        Windows {
            assessment: TimeWindow {
                start: assessment_end - TimeDelta::seconds(periods * i64::from(ASSESSMENT_PERIOD)),
                end: assessment_end,
            },
            trend: TimeWindow {
                start: trend_end - TimeDelta::hours(TREND_HOURS),
                end: trend_end,
            },
        }
    }
}

/// What a query measures, part of its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Figure {
    CpuAverage,
    CpuPeak,
    Memory,
    MemoryPeak,
    NetworkIn,
    NetworkOut,
    ResponseTime(usize),
    Requests(usize),
    InService,
}

impl Figure {
    fn id(self, group: usize) -> String {
        match self {
            Figure::CpuAverage => format!("g{group}_cpu"),
            Figure::CpuPeak => format!("g{group}_cpumax"),
            Figure::Memory => format!("g{group}_mem"),
            Figure::MemoryPeak => format!("g{group}_memmax"),
            Figure::NetworkIn => format!("g{group}_netin"),
            Figure::NetworkOut => format!("g{group}_netout"),
            Figure::ResponseTime(tg) => format!("g{group}_rt{tg}"),
            Figure::Requests(tg) => format!("g{group}_req{tg}"),
            Figure::InService => format!("g{group}_insvc"),
        }
    }
}

fn group_query(
    group: usize,
    name: &str,
    figure: Figure,
    (namespace, metric, statistic): (&'static str, &'static str, Statistic),
    period: u32,
) -> MetricQuery {
    MetricQuery {
        id: figure.id(group),
        namespace: namespace.into(),
        name: metric,
        dimensions: vec![("AutoScalingGroupName", name.to_owned())],
        statistic,
        period_seconds: period,
    }
}

const CPU_AVERAGE: (&str, &str, Statistic) = ("AWS/EC2", "CPUUtilization", Statistic::Average);
const CPU_PEAK: (&str, &str, Statistic) = ("AWS/EC2", "CPUUtilization", Statistic::Maximum);
const MEMORY: (&str, &str, Statistic) = ("CWAgent", "mem_used_percent", Statistic::Average);
const MEMORY_PEAK: (&str, &str, Statistic) = ("CWAgent", "mem_used_percent", Statistic::Maximum);
const NETWORK_IN: (&str, &str, Statistic) = ("AWS/EC2", "NetworkIn", Statistic::Sum);
const NETWORK_OUT: (&str, &str, Statistic) = ("AWS/EC2", "NetworkOut", Statistic::Sum);
const IN_SERVICE: (&str, &str, Statistic) = (
    "AWS/AutoScaling",
    "GroupInServiceInstances",
    Statistic::Average,
);

/// The assessment queries for every group: CPU average and peak, memory, network in and out,
/// and for each target group its response time and request count. Ids are `g<index>_<figure>`.
pub fn assessment_queries(groups: &[GroupInfo]) -> Vec<MetricQuery> {
    let mut queries = Vec::with_capacity(groups.len() * 5);
    for (i, group) in groups.iter().enumerate() {
        for (figure, metric) in [
            (Figure::CpuAverage, CPU_AVERAGE),
            (Figure::CpuPeak, CPU_PEAK),
            (Figure::Memory, MEMORY),
            (Figure::NetworkIn, NETWORK_IN),
            (Figure::NetworkOut, NETWORK_OUT),
        ] {
            queries.push(group_query(
                i,
                &group.name,
                figure,
                metric,
                ASSESSMENT_PERIOD,
            ));
        }
        for (t, tg) in group.target_groups.iter().enumerate() {
            queries.push(target_group_query(
                Figure::ResponseTime(t).id(i),
                tg,
                ("TargetResponseTime", Statistic::Average),
                ASSESSMENT_PERIOD,
            ));
            queries.push(target_group_query(
                Figure::Requests(t).id(i),
                tg,
                ("RequestCount", Statistic::Sum),
                ASSESSMENT_PERIOD,
            ));
        }
    }
    queries
}

/// The right-sizing queries for every group: hourly CPU and memory maxima, and the instances
/// in service each hour (GroupInServiceInstances, for backtests and schedules), read over the
/// right-sizing lookback (`RightSizingPreferences::lookback_days`, 14 or 32 days: the caller's
/// window). CloudWatch's percentile statistics are not used (moto refuses them); the cost rules
/// take the chosen percentile of these maxima themselves.
pub fn right_sizing_queries(groups: &[GroupInfo]) -> Vec<MetricQuery> {
    groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| {
            [
                group_query(i, &g.name, Figure::CpuPeak, CPU_PEAK, TREND_PERIOD),
                group_query(i, &g.name, Figure::MemoryPeak, MEMORY_PEAK, TREND_PERIOD),
                group_query(i, &g.name, Figure::InService, IN_SERVICE, TREND_PERIOD),
            ]
            .into_iter()
            .chain(g.target_groups.iter().enumerate().map(move |(t, tg)| {
                target_group_query(
                    Figure::Requests(t).id(i),
                    tg,
                    ("RequestCount", Statistic::Sum),
                    TREND_PERIOD,
                )
            }))
        })
        .collect()
}

/// A load balancer metric of one of a group's target groups.
fn target_group_query(
    id: String,
    tg: &TargetGroupRef,
    (name, statistic): (&'static str, Statistic),
    period: u32,
) -> MetricQuery {
    MetricQuery {
        id,
        namespace: "AWS/ApplicationELB".into(),
        name,
        dimensions: vec![
            ("TargetGroup", tg.target_group.clone()),
            ("LoadBalancer", tg.load_balancer.clone()),
        ],
        statistic,
        period_seconds: period,
    }
}

/// The hourly request counts of group number `index` (its `target_groups` target groups
/// summed hour by hour), as read with [`right_sizing_queries`]; oldest first, empty without
/// a load balancer or datapoints.
pub fn hourly_requests(
    results: &MetricResults,
    index: usize,
    target_groups: usize,
) -> Vec<(i64, f64)> {
    let mut by_hour: std::collections::BTreeMap<i64, f64> = std::collections::BTreeMap::new();
    for t in 0..target_groups {
        for (at, v) in results
            .get(&Figure::Requests(t).id(index))
            .into_iter()
            .flatten()
            .filter(|(_, v)| v.is_finite())
        {
            *by_hour.entry(at.timestamp().div_euclid(3600)).or_default() += v;
        }
    }
    by_hour.into_iter().collect()
}

/// The hourly CPU peaks of every group (ids as [`right_sizing_queries`] gives them): all a
/// 24-hour profile needs, one query a group.
pub fn cpu_peak_queries(groups: &[GroupInfo]) -> Vec<MetricQuery> {
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| group_query(i, &g.name, Figure::CpuPeak, CPU_PEAK, TREND_PERIOD))
        .collect()
}

/// The demand of group number `index` hour by hour, as read with [`right_sizing_queries`]:
/// each hour's CPU maximum with the instances in service that hour, or `desired` when Auto
/// Scaling published no GroupInServiceInstances for it (group metrics collection is off
/// unless enabled on the group). Oldest first.
pub fn hourly_demand(results: &MetricResults, index: usize, desired: u32) -> Vec<DemandHour> {
    let in_service: HashMap<i64, f64> = results
        .get(&Figure::InService.id(index))
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.is_finite())
        .map(|(t, v)| (t.timestamp().div_euclid(3600), *v))
        .collect();
    let mut demand: Vec<DemandHour> = results
        .get(&Figure::CpuPeak.id(index))
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.is_finite())
        .map(|(t, cpu)| {
            let hour = t.timestamp().div_euclid(3600);
            DemandHour {
                hour,
                cpu: *cpu,
                instances: in_service.get(&hour).copied().unwrap_or(f64::from(desired)),
            }
        })
        .collect();
    demand.sort_by_key(|h| h.hour);
    demand
}

/// The hourly CPU and memory maxima of group number `index`, as read with
/// [`right_sizing_queries`] (empty when there are none).
pub fn hourly_maxima(results: &MetricResults, index: usize) -> (Vec<f64>, Vec<f64>) {
    (
        values(results, &Figure::CpuPeak.id(index)).collect(),
        values(results, &Figure::MemoryPeak.id(index)).collect(),
    )
}

/// The trend queries for every group: hourly CPU and memory averages.
pub fn trend_queries(groups: &[GroupInfo]) -> Vec<MetricQuery> {
    groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| {
            [
                group_query(i, &g.name, Figure::CpuAverage, CPU_AVERAGE, TREND_PERIOD),
                group_query(i, &g.name, Figure::Memory, MEMORY, TREND_PERIOD),
            ]
        })
        .collect()
}

fn values<'a>(results: &'a MetricResults, id: &str) -> impl Iterator<Item = f64> + 'a {
    results
        .get(id)
        .into_iter()
        .flatten()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

fn total(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut any = false;
    let sum = values.inspect(|_| any = true).sum();
    any.then_some(sum)
}

fn hourly(results: &MetricResults, id: &str, origin: DateTime<Utc>) -> Vec<Point> {
    results
        .get(id)
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.is_finite())
        .map(|(t, v)| Point {
            hours: (*t - origin).num_seconds() as f64 / 3600.0,
            value: *v,
        })
        .collect()
}

/// The snapshot of group number `index` from what was read. A figure with no datapoints is
/// `None` (insufficient or missing data), never 0. Capacity comes from DescribeAutoScalingGroups:
/// current, and present even without group metrics collection.
pub fn snapshot(
    index: usize,
    group: &GroupInfo,
    windows: &Windows,
    assessment: &MetricResults,
    trend: &MetricResults,
) -> Snapshot {
    let id = |figure: Figure| figure.id(index);
    let targets = 0..group.target_groups.len();
    let response_seconds = mean(
        targets
            .clone()
            .flat_map(|t| values(assessment, &id(Figure::ResponseTime(t))).collect::<Vec<_>>()),
    );
    let requests = total(
        targets.flat_map(|t| values(assessment, &id(Figure::Requests(t))).collect::<Vec<_>>()),
    );
    let minutes = (windows.assessment.end - windows.assessment.start).num_minutes() as f64;
    Snapshot {
        group: group.name.clone(),
        capacity: Some(Capacity {
            min_size: group.min_size,
            max_size: group.max_size,
            desired: group.desired,
            in_service: group.in_service,
        }),
        cpu_average: mean(values(assessment, &id(Figure::CpuAverage))),
        cpu_peak: values(assessment, &id(Figure::CpuPeak)).reduce(f64::max),
        memory_average: mean(values(assessment, &id(Figure::Memory))),
        response_time_ms: response_seconds.map(|s| s * 1000.0),
        requests_per_minute: requests.filter(|_| minutes > 0.0).map(|r| r / minutes),
        network_in_bytes: total(values(assessment, &id(Figure::NetworkIn))),
        network_out_bytes: total(values(assessment, &id(Figure::NetworkOut))),
        cpu_hourly: hourly(trend, &id(Figure::CpuAverage), windows.trend.start),
        memory_hourly: hourly(trend, &id(Figure::Memory), windows.trend.start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use fleetopt_ports::TargetGroupRef;

    fn group(name: &str, target_groups: usize) -> GroupInfo {
        GroupInfo {
            name: name.into(),
            min_size: 1,
            max_size: 10,
            desired: 4,
            in_service: 4,
            healthy: 4,
            default_cooldown_seconds: 300,
            health_check_grace_period_seconds: 300,
            instance_type: Some("m5.large".into()),
            availability_zones: vec!["us-east-1a".into()],
            target_groups: (0..target_groups)
                .map(|i| TargetGroupRef {
                    target_group: format!("targetgroup/{name}-{i}/abc"),
                    load_balancer: format!("app/{name}/def"),
                })
                .collect(),
            exclusions: Default::default(),
        }
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap()
    }

    #[test]
    fn windows_are_aligned_to_their_periods() {
        let w = Windows::ending_before(at(9, 17) + TimeDelta::seconds(42), 60);
        assert_eq!(
            (w.assessment.start, w.assessment.end),
            (at(8, 15), at(9, 15))
        );
        assert_eq!(
            (w.trend.start, w.trend.end),
            (at(9, 0) - TimeDelta::hours(24), at(9, 0))
        );
        // 7 minutes round up to two 5-minute periods.
        let w = Windows::ending_before(at(9, 17), 7);
        assert_eq!(w.assessment.start, at(9, 5));
    }

    #[test]
    fn every_group_gets_five_queries_plus_two_per_target_group() {
        let groups = [group("web", 2), group("batch", 0)];
        let queries = assessment_queries(&groups);
        assert_eq!(queries.len(), 5 + 4 + 5);
        let mut ids: Vec<&str> = queries.iter().map(|q| q.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), queries.len(), "ids are unique");
        assert!(ids.iter().all(|id| id.starts_with('g')));
        let rt = queries.iter().find(|q| q.id == "g0_rt1").unwrap();
        assert_eq!(
            rt.dimensions,
            vec![
                ("TargetGroup", "targetgroup/web-1/abc".to_owned()),
                ("LoadBalancer", "app/web/def".to_owned())
            ]
        );
        assert_eq!(trend_queries(&groups).len(), 4);
        assert!(
            trend_queries(&groups)
                .iter()
                .all(|q| q.period_seconds == 3600)
        );
    }

    #[test]
    fn demand_pairs_each_hours_cpu_peak_with_its_instances_or_the_desired_capacity() {
        let groups = [group("web", 0)];
        let queries = right_sizing_queries(&groups);
        let insvc = queries.iter().find(|q| q.id == "g0_insvc").unwrap();
        assert_eq!(
            (&*insvc.namespace, insvc.name, insvc.period_seconds),
            ("AWS/AutoScaling", "GroupInServiceInstances", 3600)
        );
        let mut read = MetricResults::new();
        let (h1, h2) = (at(1, 0), at(2, 0));
        read.insert("g0_cpumax".into(), vec![(h2, 40.0), (h1, 80.0)]);
        read.insert("g0_insvc".into(), vec![(h1, 3.0)]);
        let d = hourly_demand(&read, 0, 5);
        let hour = |t: DateTime<Utc>| t.timestamp() / 3600;
        assert_eq!(
            d.iter()
                .map(|h| (h.hour, h.cpu, h.instances))
                .collect::<Vec<_>>(),
            vec![(hour(h1), 80.0, 3.0), (hour(h2), 40.0, 5.0)],
            "oldest first; an hour without GroupInServiceInstances counts the desired capacity"
        );
        assert!(hourly_demand(&read, 1, 5).is_empty());
    }

    #[test]
    fn hourly_requests_sum_every_target_group_of_the_group() {
        let groups = [group("web", 2)];
        let queries = right_sizing_queries(&groups);
        assert_eq!(
            queries.len(),
            3 + 2,
            "three per group, one per target group"
        );
        let req = queries.iter().find(|q| q.id == "g0_req1").unwrap();
        assert_eq!((req.name, req.period_seconds), ("RequestCount", 3600));
        let mut read = MetricResults::new();
        let (h1, h2) = (at(1, 0), at(2, 0));
        read.insert("g0_req0".into(), vec![(h1, 100.0), (h2, 50.0)]);
        read.insert("g0_req1".into(), vec![(h1, 20.0)]);
        let hour = |t: DateTime<Utc>| t.timestamp() / 3600;
        assert_eq!(
            hourly_requests(&read, 0, 2),
            vec![(hour(h1), 120.0), (hour(h2), 50.0)]
        );
        assert!(hourly_requests(&read, 0, 0).is_empty(), "no load balancer");
    }

    #[test]
    fn snapshots_average_peak_and_convert_units() {
        let windows = Windows::ending_before(at(9, 0), 60);
        let g = group("web", 2);
        let mut assessment = MetricResults::new();
        let t = windows.assessment.start;
        assessment.insert("g0_cpu".into(), vec![(t, 80.0), (t, 90.0)]);
        assessment.insert("g0_cpumax".into(), vec![(t, 97.0), (t, 99.5)]);
        assessment.insert("g0_rt0".into(), vec![(t, 0.2)]);
        assessment.insert("g0_rt1".into(), vec![(t, 0.4)]);
        assessment.insert("g0_req0".into(), vec![(t, 600.0)]);
        assessment.insert("g0_req1".into(), vec![(t, 600.0)]);
        assessment.insert("g0_mem".into(), vec![]);
        let mut trend = MetricResults::new();
        trend.insert(
            "g0_cpu".into(),
            vec![
                (windows.trend.start, 50.0),
                (windows.trend.start + TimeDelta::hours(2), 60.0),
            ],
        );
        let s = snapshot(0, &g, &windows, &assessment, &trend);
        assert_eq!(s.cpu_average, Some(85.0));
        assert_eq!(s.cpu_peak, Some(99.5));
        assert_eq!(s.memory_average, None, "no datapoints is missing, not 0");
        assert!((s.response_time_ms.unwrap() - 300.0).abs() < 1e-9);
        assert_eq!(s.requests_per_minute, Some(20.0));
        assert_eq!(s.network_in_bytes, None);
        assert_eq!(
            s.cpu_hourly,
            vec![
                Point {
                    hours: 0.0,
                    value: 50.0
                },
                Point {
                    hours: 2.0,
                    value: 60.0
                }
            ]
        );
        assert_eq!(s.capacity.unwrap().in_service, 4);
    }
}
