//! The series behind the CloudWatch dashboard (docs/design.md and docs/construct.md): for each group its
//! published score and rating, CPU, memory, cost savings potential and capacity over a period,
//! and the environment's engine actions. `fleetopt dashboard` and `fleetopt report` read them in
//! one batched GetMetricData (500 queries a request). Pure: no AWS, no clock.

use chrono::{DateTime, Utc};
use fleetopt_ports::{GroupInfo, MetricQuery, MetricResults, Statistic, TimeWindow};

use crate::floor;

/// The longest period the history reads, hours (14 days, as right-sizing).
pub const MAX_HISTORY_HOURS: u32 = 336;

/// A point of a series: when, and the value.
pub type Sample = (DateTime<Utc>, f64);

/// The datapoint period for a history of `hours`: 5 minutes up to 6 hours, else whole hours
/// keeping at most 72 points (an hour up to 3 days, 5 hours for 14 days).
pub fn history_period(hours: u32) -> u32 {
    if hours <= 6 {
        300
    } else {
        3600 * hours.div_ceil(72)
    }
}

/// The window of a history of `hours` up to now: it ends at the end of the period `now` is in,
/// so the current, partial period (the analyzer's and the engine's latest figures) is shown.
pub fn history_window(now: DateTime<Utc>, hours: u32) -> TimeWindow {
    let period = history_period(hours);
    let end = floor(now, period) + chrono::TimeDelta::seconds(i64::from(period));
    TimeWindow {
        start: end - chrono::TimeDelta::hours(i64::from(hours)),
        end,
    }
}

/// What one group's history holds, each series oldest first (empty: no datapoints).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupHistory {
    /// FleetOptimizer PerformanceScore, as the analyzer published it.
    pub performance_score: Vec<Sample>,
    /// FleetOptimizer EfficiencyRating.
    pub efficiency_rating: Vec<Sample>,
    /// FleetOptimizer CostSavingsPotential, percent of the monthly cost.
    pub cost_savings_potential: Vec<Sample>,
    /// AWS/EC2 CPUUtilization, Average.
    pub cpu_average: Vec<Sample>,
    /// CWAgent mem_used_percent, Average.
    pub memory_average: Vec<Sample>,
    /// AWS/AutoScaling GroupInServiceInstances (group metrics collection).
    pub in_service: Vec<Sample>,
    /// AWS/AutoScaling GroupDesiredCapacity.
    pub desired_capacity: Vec<Sample>,
    /// AWS/AutoScaling GroupMaxSize.
    pub max_size: Vec<Sample>,
}

/// The environment's own series: the engine's actions (sums over the period) and the
/// environment-wide cost savings potential.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvironmentHistory {
    /// ActionsApplied over the period; `None` when nothing was published.
    pub actions_applied: Option<f64>,
    /// ActionsFailed over the period.
    pub actions_failed: Option<f64>,
    /// ActionsRolledBack over the period.
    pub actions_rolled_back: Option<f64>,
    /// CostSavingsPotential for the environment.
    pub cost_savings_potential: Vec<Sample>,
}

/// Per-group metrics: (id suffix, namespace or `None` for ours, metric, statistic).
const GROUP_SERIES: [(&str, Option<&str>, &str, Statistic); 8] = [
    ("score", None, "PerformanceScore", Statistic::Average),
    ("eff", None, "EfficiencyRating", Statistic::Average),
    ("save", None, "CostSavingsPotential", Statistic::Average),
    ("cpu", Some("AWS/EC2"), "CPUUtilization", Statistic::Average),
    (
        "mem",
        Some("CWAgent"),
        "mem_used_percent",
        Statistic::Average,
    ),
    (
        "insvc",
        Some("AWS/AutoScaling"),
        "GroupInServiceInstances",
        Statistic::Average,
    ),
    (
        "desired",
        Some("AWS/AutoScaling"),
        "GroupDesiredCapacity",
        Statistic::Average,
    ),
    (
        "max",
        Some("AWS/AutoScaling"),
        "GroupMaxSize",
        Statistic::Maximum,
    ),
];

/// Environment metrics in our namespace: (id, metric, statistic).
const ENVIRONMENT_SERIES: [(&str, &str, Statistic); 4] = [
    ("env_applied", "ActionsApplied", Statistic::Sum),
    ("env_failed", "ActionsFailed", Statistic::Sum),
    ("env_rolledback", "ActionsRolledBack", Statistic::Sum),
    ("env_save", "CostSavingsPotential", Statistic::Average),
];

/// The history queries for `groups` in `environment`: eight per group (ids `h<index>_<figure>`)
/// and four for the environment, all at `period` seconds. Our metrics are read from
/// `namespace` with the `Environment` and `AutoScalingGroupName` dimensions they are
/// published with (docs/design.md).
pub fn history_queries(
    groups: &[GroupInfo],
    environment: &str,
    namespace: &str,
    period: u32,
) -> Vec<MetricQuery> {
    let mut queries = Vec::with_capacity(groups.len() * GROUP_SERIES.len() + 4);
    for (i, group) in groups.iter().enumerate() {
        for (figure, source, metric, statistic) in GROUP_SERIES {
            let mut dimensions = vec![("AutoScalingGroupName", group.name.clone())];
            if source.is_none() {
                dimensions.insert(0, ("Environment", environment.to_owned()));
            }
            queries.push(MetricQuery {
                id: format!("h{i}_{figure}"),
                namespace: source.map_or_else(|| namespace.to_owned().into(), Into::into),
                name: metric,
                dimensions,
                statistic,
                period_seconds: period,
            });
        }
    }
    for (id, metric, statistic) in ENVIRONMENT_SERIES {
        queries.push(MetricQuery {
            id: id.to_owned(),
            namespace: namespace.to_owned().into(),
            name: metric,
            dimensions: vec![("Environment", environment.to_owned())],
            statistic,
            period_seconds: period,
        });
    }
    queries
}

fn series(results: &MetricResults, id: &str) -> Vec<Sample> {
    results
        .get(id)
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.is_finite())
        .copied()
        .collect()
}

fn sum(results: &MetricResults, id: &str) -> Option<f64> {
    let points = series(results, id);
    (!points.is_empty()).then(|| points.iter().map(|(_, v)| v).sum())
}

/// The history of group number `index`, as read with [`history_queries`].
pub fn group_history(results: &MetricResults, index: usize) -> GroupHistory {
    let s = |figure: &str| series(results, &format!("h{index}_{figure}"));
    GroupHistory {
        performance_score: s("score"),
        efficiency_rating: s("eff"),
        cost_savings_potential: s("save"),
        cpu_average: s("cpu"),
        memory_average: s("mem"),
        in_service: s("insvc"),
        desired_capacity: s("desired"),
        max_size: s("max"),
    }
}

/// The environment's history, as read with [`history_queries`].
pub fn environment_history(results: &MetricResults) -> EnvironmentHistory {
    EnvironmentHistory {
        actions_applied: sum(results, "env_applied"),
        actions_failed: sum(results, "env_failed"),
        actions_rolled_back: sum(results, "env_rolledback"),
        cost_savings_potential: series(results, "env_save"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn group(name: &str) -> GroupInfo {
        GroupInfo {
            name: name.into(),
            min_size: 1,
            max_size: 10,
            desired: 4,
            in_service: 4,
            healthy: 4,
            default_cooldown_seconds: 300,
            health_check_grace_period_seconds: 300,
            instance_type: None,
            availability_zones: vec![],
            target_groups: vec![],
            exclusions: Default::default(),
        }
    }

    #[test]
    fn the_period_keeps_a_history_to_at_most_72_points() {
        assert_eq!(history_period(1), 300);
        assert_eq!(history_period(6), 300);
        assert_eq!(history_period(7), 3600);
        assert_eq!(history_period(24), 3600);
        assert_eq!(history_period(72), 3600);
        assert_eq!(history_period(73), 7200);
        assert_eq!(history_period(MAX_HISTORY_HOURS), 5 * 3600);
        for hours in 1..=MAX_HISTORY_HOURS {
            let points = hours * 3600 / history_period(hours);
            assert!(points <= 72, "{hours} h: {points} points");
        }
    }

    #[test]
    fn the_window_ends_with_the_period_now_is_in() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 47, 12).unwrap();
        let w = history_window(now, 24);
        assert_eq!(w.end, Utc.with_ymd_and_hms(2026, 11, 23, 11, 0, 0).unwrap());
        assert_eq!(
            w.start,
            Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap()
        );
        let w = history_window(now, 2);
        assert_eq!(
            w.end,
            Utc.with_ymd_and_hms(2026, 11, 23, 10, 50, 0).unwrap()
        );
    }

    #[test]
    fn our_metrics_carry_the_environment_and_the_fleets_do_not() {
        let queries = history_queries(&[group("web"), group("api")], "staging", "Ours", 3600);
        assert_eq!(queries.len(), 2 * 8 + 4);
        let ids: std::collections::HashSet<&str> = queries.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids.len(), queries.len(), "ids are unique");
        let score = queries.iter().find(|q| q.id == "h1_score").unwrap();
        assert_eq!(score.namespace, "Ours");
        assert_eq!(
            score.dimensions,
            vec![
                ("Environment", "staging".to_owned()),
                ("AutoScalingGroupName", "api".to_owned())
            ]
        );
        let cpu = queries.iter().find(|q| q.id == "h0_cpu").unwrap();
        assert_eq!(
            (cpu.namespace.as_ref(), cpu.name),
            ("AWS/EC2", "CPUUtilization")
        );
        assert_eq!(
            cpu.dimensions,
            vec![("AutoScalingGroupName", "web".to_owned())]
        );
        let applied = queries.iter().find(|q| q.id == "env_applied").unwrap();
        assert_eq!(applied.statistic, Statistic::Sum);
        assert_eq!(
            applied.dimensions,
            vec![("Environment", "staging".to_owned())]
        );
        assert!(queries.iter().all(|q| q.period_seconds == 3600));
    }

    #[test]
    fn series_come_back_by_group_and_no_data_is_empty_not_zero() {
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        let results = MetricResults::from([
            ("h1_cpu".to_owned(), vec![(t, 85.0), (t, f64::NAN)]),
            ("env_applied".to_owned(), vec![(t, 1.0), (t, 2.0)]),
        ]);
        let api = group_history(&results, 1);
        assert_eq!(api.cpu_average, vec![(t, 85.0)]);
        assert!(api.memory_average.is_empty());
        assert!(group_history(&results, 0).cpu_average.is_empty());
        let env = environment_history(&results);
        assert_eq!(env.actions_applied, Some(3.0));
        assert_eq!(env.actions_failed, None);
    }
}
