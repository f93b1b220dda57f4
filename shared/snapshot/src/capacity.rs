//! The group capacity a completed change is measured by (savings achieved): hourly averages of
//! AWS/AutoScaling GroupInServiceInstances (group metrics collection), over a window before the
//! change and one after it, each of whole hours. Pure: no AWS, no clock.

use chrono::{DateTime, TimeDelta, Utc};
use fleetopt_ports::{MetricQuery, MetricResults, Statistic, TimeWindow};

use crate::{TREND_PERIOD, floor};

/// Length of each window, hours: a day, so that a daily cycle weighs the same on both sides.
pub const CAPACITY_WINDOW_HOURS: u32 = 24;

/// The two windows a change is measured over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeWindows {
    /// The whole hours before the hour the change could first have begun in.
    pub before: TimeWindow,
    /// The whole hours from the first hour that starts after the change completed.
    pub after: TimeWindow,
}

impl ChangeWindows {
    /// The windows of `hours` around a change that began at `began` and was complete at
    /// `done`: the hours the change spans belong to neither, so neither mixes the two sizes.
    pub fn around(began: DateTime<Utc>, done: DateTime<Utc>, hours: u32) -> Self {
        let length = TimeDelta::hours(i64::from(hours));
        let before_end = floor(began, TREND_PERIOD);
        let done_hour = floor(done, TREND_PERIOD);
        let after_start = if done_hour == done {
            done
        } else {
            done_hour + TimeDelta::hours(1)
        };
        ChangeWindows {
            before: TimeWindow {
                start: before_end - length,
                end: before_end,
            },
            after: TimeWindow {
                start: after_start,
                end: after_start + length,
            },
        }
    }

    /// Whether the window after is over at `now`: only then does its mean stand for it.
    pub fn complete_at(&self, now: DateTime<Utc>) -> bool {
        self.after.end <= now
    }
}

/// One query per group: GroupInServiceInstances, hourly average, id `c<index>_insvc`.
pub fn capacity_queries<S: AsRef<str>>(groups: &[S]) -> Vec<MetricQuery> {
    groups
        .iter()
        .enumerate()
        .map(|(i, name)| MetricQuery {
            id: format!("c{i}_insvc"),
            namespace: "AWS/AutoScaling".into(),
            name: "GroupInServiceInstances",
            dimensions: vec![("AutoScalingGroupName", name.as_ref().to_owned())],
            statistic: Statistic::Average,
            period_seconds: TREND_PERIOD,
        })
        .collect()
}

/// The hourly values of group number `index` (as read with [`capacity_queries`]) inside
/// `window`; empty when there are none.
pub fn in_service(results: &MetricResults, index: usize, window: &TimeWindow) -> Vec<f64> {
    results
        .get(&format!("c{index}_insvc"))
        .into_iter()
        .flatten()
        .filter(|(t, _)| *t >= window.start && *t < window.end)
        .map(|(_, v)| *v)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
    }

    #[test]
    fn the_hours_a_change_spans_belong_to_neither_window() {
        let w = ChangeWindows::around(at(23, 9, 5), at(23, 9, 20), 24);
        assert_eq!((w.before.start, w.before.end), (at(22, 9, 0), at(23, 9, 0)));
        assert_eq!((w.after.start, w.after.end), (at(23, 10, 0), at(24, 10, 0)));
        // Completed on the hour: that hour is already after.
        let w = ChangeWindows::around(at(23, 9, 0), at(23, 11, 0), 24);
        assert_eq!(w.after.start, at(23, 11, 0));
        assert!(!w.complete_at(at(24, 10, 59)));
        assert!(w.complete_at(at(24, 11, 0)));
    }

    #[test]
    fn one_hourly_query_per_group_and_its_values_inside_a_window() {
        let queries = capacity_queries(&["web", "api"]);
        assert_eq!(queries.len(), 2);
        assert_eq!(queries[1].id, "c1_insvc");
        assert_eq!(queries[1].namespace, "AWS/AutoScaling");
        assert_eq!(queries[1].name, "GroupInServiceInstances");
        assert_eq!(queries[1].period_seconds, 3600);
        assert_eq!(
            queries[1].dimensions,
            vec![("AutoScalingGroupName", "api".to_owned())]
        );
        let results = MetricResults::from([(
            "c1_insvc".to_owned(),
            vec![
                (at(23, 8, 0), 4.0),
                (at(23, 9, 0), 5.0),
                (at(23, 10, 0), 6.0),
            ],
        )]);
        let window = TimeWindow {
            start: at(23, 9, 0),
            end: at(23, 10, 0),
        };
        assert_eq!(in_service(&results, 1, &window), [5.0]);
        assert!(in_service(&results, 0, &window).is_empty());
    }
}
