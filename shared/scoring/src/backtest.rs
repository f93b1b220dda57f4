//! Backtests: a capacity proposal replayed against the hours it would have served
//! (docs/scoring.md, "Backtests").
//!
//! Demand is conserved: an hour that ran `instances` at `cpu` percent needs `cpu x instances`
//! percent-instances of work, so with `n` instances of a type with `ratio` times the vCPUs it
//! runs at `cpu x instances / (n x ratio)` percent, at most 100 (past that the work waits, it
//! does not run faster). Backtesting the current configuration (the hour's own instances,
//! ratio 1) gives back the observed figures.

use serde::{Deserialize, Serialize};

/// CPU above which an hour counts as saturated, percent.
pub const SATURATED_CPU: f64 = 90.0;

/// The default share of a proposal's hours that may be saturated, percent
/// (`FLEETOPT_BACKTEST_MAX_SATURATED_PERCENT`).
pub const DEFAULT_MAX_SATURATED_PERCENT: f64 = 1.0;

/// One observed hour: its CPU (average across the group, percent) and the instances in
/// service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemandHour {
    /// Unix hour (seconds since the epoch / 3600).
    pub hour: i64,
    /// CPU, percent.
    pub cpu: f64,
    /// Instances in service.
    pub instances: f64,
}

/// What a configuration's CPU would have been over the replayed hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backtest {
    /// Hours replayed.
    pub hours: usize,
    /// Projected CPU, median (nearest rank), percent.
    pub cpu_p50: f64,
    /// Projected CPU, 95th percentile (nearest rank), percent.
    pub cpu_p95: f64,
    /// Projected CPU, 99th percentile (nearest rank), percent.
    pub cpu_p99: f64,
    /// Projected CPU, the highest hour, percent.
    pub cpu_max: f64,
    /// Hours whose projected CPU is above the CPU target.
    pub hours_over_target: usize,
    /// Hours whose projected CPU is above [`SATURATED_CPU`].
    pub hours_over_90: usize,
}

/// A proposal's backtest beside the current configuration's, over the same hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backtests {
    /// The configuration as it ran: the observed figures.
    pub current: Backtest,
    /// The proposal.
    pub proposed: Backtest,
    /// The most hours above [`SATURATED_CPU`] a proposal may have, percent of the hours.
    pub max_saturated_percent: f64,
}

impl Backtests {
    /// Both backtests, when there is at least one usable hour.
    pub fn of(
        demand: &[DemandHour],
        proposed: impl Fn(&DemandHour) -> f64,
        ratio: f64,
        target: f64,
        max_saturated_percent: f64,
    ) -> Option<Backtests> {
        Some(Backtests {
            current: observed(demand, target)?,
            proposed: backtest(demand, proposed, ratio, target)?,
            max_saturated_percent,
        })
    }

    /// Whether the proposal is too risky to make: more of its hours above [`SATURATED_CPU`]
    /// than allowed.
    pub fn too_risky(&self) -> bool {
        self.proposed.too_risky(self.max_saturated_percent / 100.0)
    }
}

impl Backtest {
    /// The share of the hours above [`SATURATED_CPU`], 0 to 1 (0 for no hour).
    pub fn saturated_share(&self) -> f64 {
        if self.hours == 0 {
            0.0
        } else {
            self.hours_over_90 as f64 / self.hours as f64
        }
    }

    /// Whether more than `max_share` of the hours would have been saturated: a proposal that
    /// is not made, or is marked with its risk.
    pub fn too_risky(&self, max_share: f64) -> bool {
        self.saturated_share() > max_share
    }
}

/// The CPU an hour would have run at with `instances` of a type with `ratio` times the
/// current type's vCPUs, percent (at most 100; 100 without any capacity).
pub fn projected_cpu(hour: &DemandHour, instances: f64, ratio: f64) -> f64 {
    let capacity = instances * ratio;
    if capacity <= 0.0 {
        return 100.0;
    }
    (hour.cpu * hour.instances / capacity).clamp(0.0, 100.0)
}

/// The nearest-rank percentile `p` (0 < p <= 100) of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The configuration as it ran: each hour on its own instances (the observed figures).
pub fn observed(demand: &[DemandHour], target: f64) -> Option<Backtest> {
    backtest(demand, |h| h.instances, 1.0, target)
}

/// Replays `demand` (hours with a finite CPU and instance count; others are left out) against
/// the capacity `instances_at(hour)` of a type with `ratio` times the vCPUs, against the CPU
/// `target`. `None` without a single usable hour.
pub fn backtest(
    demand: &[DemandHour],
    instances_at: impl Fn(&DemandHour) -> f64,
    ratio: f64,
    target: f64,
) -> Option<Backtest> {
    let mut cpu: Vec<f64> = demand
        .iter()
        .filter(|h| h.cpu.is_finite() && h.instances.is_finite())
        .map(|h| projected_cpu(h, instances_at(h), ratio))
        .collect();
    if cpu.is_empty() {
        return None;
    }
    cpu.sort_by(f64::total_cmp);
    Some(Backtest {
        hours: cpu.len(),
        cpu_p50: percentile(&cpu, 50.0),
        cpu_p95: percentile(&cpu, 95.0),
        cpu_p99: percentile(&cpu, 99.0),
        cpu_max: cpu[cpu.len() - 1],
        hours_over_target: cpu.iter().filter(|c| **c > target).count(),
        hours_over_90: cpu.iter().filter(|c| **c > SATURATED_CPU).count(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn hour(h: i64, cpu: f64, instances: f64) -> DemandHour {
        DemandHour {
            hour: h,
            cpu,
            instances,
        }
    }

    #[test]
    fn hand_computed_replays() {
        // 10 hours at 10, 20, ..., 100 % on 4 instances.
        let demand: Vec<DemandHour> = (1..=10).map(|i| hour(i, 10.0 * i as f64, 4.0)).collect();
        let now = backtest(&demand, |_| 4.0, 1.0, 75.0).unwrap();
        assert_eq!(
            (now.cpu_p50, now.cpu_p95, now.cpu_p99, now.cpu_max),
            (50.0, 100.0, 100.0, 100.0)
        );
        assert_eq!((now.hours_over_target, now.hours_over_90), (3, 1));
        // 8 instances halve every hour; 2 double it, capped at 100.
        let more = backtest(&demand, |_| 8.0, 1.0, 75.0).unwrap();
        assert_eq!(
            (more.cpu_p50, more.cpu_max, more.hours_over_target),
            (25.0, 50.0, 0)
        );
        let fewer = backtest(&demand, |_| 2.0, 1.0, 75.0).unwrap();
        assert_eq!((fewer.cpu_p50, fewer.hours_over_90), (100.0, 6));
        assert!(fewer.too_risky(0.05) && !more.too_risky(0.0));
        // The same 4 instances with twice the vCPUs each: the same as 8.
        assert_eq!(backtest(&demand, |_| 4.0, 2.0, 75.0), Some(more));
        // A schedule: 2 instances in the first 5 hours, 4 after.
        let schedule =
            backtest(&demand, |h| if h.hour <= 5 { 2.0 } else { 4.0 }, 1.0, 75.0).unwrap();
        assert_eq!(schedule.hours_over_90, 1 + 1, "hour 5 at 100 % and hour 10");
        assert!(backtest(&[], |_| 1.0, 1.0, 75.0).is_none());
        assert!(backtest(&[hour(1, f64::NAN, 4.0)], |_| 1.0, 1.0, 75.0).is_none());
    }

    fn demand() -> impl Strategy<Value = Vec<DemandHour>> {
        prop::collection::vec((0.0..=100.0f64, 1u32..=20), 1..200).prop_map(|hours| {
            hours
                .into_iter()
                .enumerate()
                .map(|(i, (cpu, n))| hour(i as i64, cpu, f64::from(n)))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn the_current_configuration_reproduces_the_observed_figures(demand in demand()) {
            let replay = observed(&demand, 75.0).unwrap();
            let mut observed: Vec<f64> = demand.iter().map(|h| h.cpu).collect();
            observed.sort_by(f64::total_cmp);
            prop_assert!((replay.cpu_max - observed[observed.len() - 1]).abs() < 1e-9);
            prop_assert!((replay.cpu_p50 - percentile(&observed, 50.0)).abs() < 1e-9);
            prop_assert!((replay.cpu_p95 - percentile(&observed, 95.0)).abs() < 1e-9);
            prop_assert_eq!(replay.hours_over_target, observed.iter().filter(|c| **c > 75.0).count());
        }

        #[test]
        fn projected_cpu_never_rises_when_capacity_rises(
            demand in demand(), n in 1u32..=20, more in 0u32..=20, ratio in 0.25..4.0f64,
        ) {
            let small = backtest(&demand, |_| f64::from(n), ratio, 75.0).unwrap();
            let large = backtest(&demand, |_| f64::from(n + more), ratio, 75.0).unwrap();
            prop_assert!(large.cpu_p50 <= small.cpu_p50 && large.cpu_p99 <= small.cpu_p99);
            prop_assert!(large.cpu_max <= small.cpu_max);
            prop_assert!(large.hours_over_90 <= small.hours_over_90);
            for h in &demand {
                prop_assert!(projected_cpu(h, f64::from(n + more), ratio) <= projected_cpu(h, f64::from(n), ratio));
            }
        }
    }
}
