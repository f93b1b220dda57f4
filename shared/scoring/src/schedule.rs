//! Scheduled scaling from a daily or weekly cycle (docs/scoring.md, "Schedules").
//!
//! The rules, exactly:
//! - **Demand.** Each observed hour needs `cpu x instances` percent-instances of work (the
//!   hour's CPU maximum, so the busiest minute of the hour counts, and its instances in
//!   service). The cycles of that series ([`cycles`]) decide whether a schedule is proposed: a
//!   daily one when the daily cycle is strong, a weekly one when the weekly cycle is, the one
//!   that saves more when both are.
//! - **Need.** For each slot of the cycle (an hour of the day, or an hour of the week), the
//!   instances that keep the slot's busiest observed hour at the CPU target:
//!   `ceil(max work / target)`.
//! - **Window.** One quiet window a cycle: the contiguous run of slots (wrapping around
//!   midnight, or the week's end), at least [`MIN_WINDOW_HOURS`] long and at most the cycle
//!   less one hour, whose capacity saves the most instance-hours. Its capacity is the largest
//!   need in it, but never below the group's minimum size, never more than one step (the
//!   step limits) below the desired capacity, and never above the desired capacity. It must
//!   be below the busiest slot's need: a group whose every hour needs fewer instances than it
//!   runs is over-provisioned all day, which is right-sizing's and SCALE_DOWN's business, not
//!   a schedule's.
//! - **Actions.** Two recurring actions: at the window's start, desired capacity = the quiet
//!   capacity; at its end, desired capacity = the capacity the group runs now. MinSize and
//!   MaxSize stay the group's own in both, so a schedule never leaves them and the group's
//!   scaling policies keep working inside the window.
//! - **Backtest.** The proposal is replayed against the observed hours ([`Backtests`]): inside
//!   the window at the quiet capacity, outside it as observed. A proposal with more hours above
//!   90 % CPU than allowed is not made.

use serde::{Deserialize, Serialize};

use crate::backtest::{Backtests, DemandHour};
use crate::cycles::{Cycle, Profile, cycles, day_of_week, hour_of_day};

/// The scheduled actions fleet-optimizer puts on a group are named this and the window's name
/// (`fleetopt-quiet`, `fleetopt-busy`): a newer schedule replaces them by name.
pub const SCHEDULED_ACTION_PREFIX: &str = "fleetopt-";
/// The window a schedule's first action starts.
pub const QUIET: &str = "quiet";
/// The window a schedule's second action starts.
pub const BUSY: &str = "busy";

/// The names of the scheduled actions fleet-optimizer puts on a group.
pub fn scheduled_action_names() -> Vec<String> {
    [QUIET, BUSY]
        .iter()
        .map(|w| format!("{SCHEDULED_ACTION_PREFIX}{w}"))
        .collect()
}

/// The shortest quiet window, hours.
pub const MIN_WINDOW_HOURS: usize = 3;

/// The cycle a schedule follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Recurrence {
    /// Every day: slots are the 24 hours of the day (UTC).
    Daily,
    /// Every week: slots are the 168 hours of the week, Monday 00:00 UTC first.
    Weekly,
}

impl Recurrence {
    /// Slots in one cycle.
    pub fn slots(self) -> usize {
        match self {
            Recurrence::Daily => 24,
            Recurrence::Weekly => 168,
        }
    }

    /// The slot of a Unix hour.
    pub fn slot(self, unix_hour: i64) -> usize {
        match self {
            Recurrence::Daily => hour_of_day(unix_hour),
            Recurrence::Weekly => day_of_week(unix_hour) * 24 + hour_of_day(unix_hour),
        }
    }

    /// The cron recurrence (UTC; minute hour day-of-month month day-of-week, Sunday 0) of the
    /// start of `slot`, as Auto Scaling's scheduled actions take it.
    pub fn cron(self, slot: usize) -> String {
        match self {
            Recurrence::Daily => format!("0 {} * * *", slot % 24),
            // Our day 0 is Monday; cron's Monday is 1.
            Recurrence::Weekly => format!("0 {} * * {}", slot % 24, (slot / 24 + 1) % 7),
        }
    }

    /// The start of `slot` in words: `20:00 UTC` or `Sat 00:00 UTC`.
    pub fn describe(self, slot: usize) -> String {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        match self {
            Recurrence::Daily => format!("{:02}:00 UTC", slot % 24),
            Recurrence::Weekly => format!("{} {:02}:00 UTC", DAYS[(slot / 24) % 7], slot % 24),
        }
    }
}

/// One scheduled action: from its recurrence on, the group runs these sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledWindow {
    /// `quiet` (the window's start) or `busy` (its end).
    pub name: String,
    /// Cron recurrence, UTC.
    pub recurrence: String,
    /// The recurrence in words.
    pub starts: String,
    /// MinSize from then on.
    pub min_size: u32,
    /// DesiredCapacity from then on.
    pub desired_capacity: u32,
    /// MaxSize from then on.
    pub max_size: u32,
}

impl ScheduledWindow {
    /// Its scheduled action's name on the group: `fleetopt-quiet`, `fleetopt-busy`.
    pub fn action_name(&self) -> String {
        format!("{SCHEDULED_ACTION_PREFIX}{}", self.name)
    }
}

/// A proposed schedule: the cycle it follows and its two actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// Daily or weekly.
    pub recurrence: Recurrence,
    /// The strength of the cycle followed, 0 to 1.
    pub strength: f64,
    /// The quiet window's first slot.
    pub quiet_from_slot: usize,
    /// The quiet window's length, hours.
    pub quiet_hours: usize,
    /// The capacity the group runs now (after the window).
    pub busy_capacity: u32,
    /// The capacity inside the window.
    pub quiet_capacity: u32,
    /// The two actions, quiet first.
    pub actions: Vec<ScheduledWindow>,
    /// Instance-hours saved in an average month (730 hours).
    pub instance_hours_saved_per_month: f64,
    /// The 24-hour profile of the hourly CPU, percent (hour 0 = 00:00 UTC).
    pub cpu_profile: Vec<f64>,
    /// The daily cycle's strength in the load balancer's hourly request counts, where the group
    /// has them: whether the traffic follows the same cycle as the CPU.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub requests_daily_strength: Option<f64>,
    /// The weekly cycle's strength in the request counts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub requests_weekly_strength: Option<f64>,
}

impl Schedule {
    /// Whether the schedule runs the quiet capacity at Unix hour `h`.
    pub fn is_quiet(&self, unix_hour: i64) -> bool {
        let n = self.recurrence.slots();
        let slot = self.recurrence.slot(unix_hour);
        (slot + n - self.quiet_from_slot % n) % n < self.quiet_hours
    }

    /// The capacity the schedule runs at Unix hour `h`, given what the group ran then.
    pub fn capacity_at(&self, unix_hour: i64, observed: f64) -> f64 {
        if self.is_quiet(unix_hour) {
            f64::from(self.quiet_capacity)
        } else {
            observed
        }
    }
}

/// The group's sizes and the limits a schedule keeps to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleLimits {
    /// MinSize.
    pub min_size: u32,
    /// MaxSize.
    pub max_size: u32,
    /// DesiredCapacity now.
    pub desired: u32,
    /// The most one action may move the group (the step limits at `desired`).
    pub max_step: u32,
    /// The CPU target, percent.
    pub cpu_target: f64,
    /// The most hours above 90 % CPU the backtest may show, percent of the hours.
    pub max_saturated_percent: f64,
}

impl ScheduleLimits {
    /// The capacity outside the quiet window: the desired capacity, within MaxSize.
    fn busy(&self) -> u32 {
        self.desired.min(self.max_size)
    }
}

/// What schedule analysis found for a group.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleOutcome {
    /// A schedule, with its backtest.
    Proposed(Box<(Schedule, Backtests)>),
    /// No schedule, and why.
    None(String),
}

/// The demand series: `(hour, cpu x instances)`.
fn work(demand: &[DemandHour]) -> Vec<(i64, f64)> {
    demand
        .iter()
        .filter(|h| h.cpu.is_finite() && h.instances.is_finite())
        .map(|h| (h.hour, h.cpu * h.instances))
        .collect()
}

/// The best quiet window of one recurrence: `(first slot, length, capacity, instance-hours
/// saved per cycle)`, or `None` when no window saves anything.
fn best_window(
    recurrence: Recurrence,
    work: &[(i64, f64)],
    limits: &ScheduleLimits,
) -> Option<(usize, usize, u32, u32)> {
    let n = recurrence.slots();
    let mut peak = vec![f64::NAN; n];
    for &(h, w) in work {
        let slot = &mut peak[recurrence.slot(h)];
        *slot = if slot.is_nan() { w } else { slot.max(w) };
    }
    let desired = limits.busy();
    let floor = limits
        .min_size
        .max(desired.saturating_sub(limits.max_step))
        .min(desired);
    let target = limits.cpu_target.max(1.0);
    // A slot never observed needs the whole current capacity: nothing is known of it.
    let need: Vec<u32> = peak
        .iter()
        .map(|p| {
            if p.is_nan() {
                desired
            } else {
                // Bounded by `desired` before the cast: the cast cannot truncate.
                (p / target).ceil().clamp(0.0, f64::from(desired)) as u32
            }
        })
        .collect();
    let peak = need.iter().copied().max().unwrap_or(desired);
    let mut best: Option<(usize, usize, u32, u32)> = None;
    for start in 0..n {
        let mut capacity = floor;
        for len in 1..n {
            capacity = capacity.max(need[(start + len - 1) % n]);
            if capacity >= peak {
                break;
            }
            if len < MIN_WINDOW_HOURS {
                continue;
            }
            let saved = (desired - capacity) * u32::try_from(len).unwrap_or(u32::MAX);
            if saved > 0 && best.is_none_or(|b| saved > b.3) {
                best = Some((start, len, capacity, saved));
            }
        }
    }
    best
}

/// The schedule for a group with the `demand` of its lookback, within `limits`, with the
/// 24-hour CPU profile for display and the cycles of its hourly request counts (`(hour,
/// requests)`, empty without a load balancer) as corroboration: the schedule follows the CPU's
/// demand either way.
pub fn propose_schedule(
    demand: &[DemandHour],
    requests: &[(i64, f64)],
    limits: &ScheduleLimits,
) -> ScheduleOutcome {
    let work = work(demand);
    let found = cycles(&work);
    let cpu: Vec<(i64, f64)> = demand
        .iter()
        .filter(|h| h.cpu.is_finite())
        .map(|h| (h.hour, h.cpu))
        .collect();
    let cpu_profile = match cycles(&cpu).daily {
        Cycle::Found(Profile { means, .. }) => means,
        Cycle::InsufficientData { .. } => Vec::new(),
    };
    let mut why = Vec::new();
    let mut candidates = Vec::new();
    for (recurrence, cycle, name) in [
        (Recurrence::Daily, &found.daily, "daily"),
        (Recurrence::Weekly, &found.weekly, "weekly"),
    ] {
        match cycle {
            Cycle::InsufficientData { reason } => why.push(reason.clone()),
            Cycle::Found(p) if !p.is_strong() => why.push(format!(
                "the {name} cycle explains {:.0} % of the demand's variance, under the {:.0} % a \
                 schedule needs",
                p.strength * 100.0,
                crate::cycles::STRONG_CYCLE * 100.0
            )),
            Cycle::Found(p) => match best_window(recurrence, &work, limits) {
                None => why.push(format!(
                    "the {name} cycle is strong ({:.0} %), but no window of at least \
                     {MIN_WINDOW_HOURS} hours needs fewer instances than its busiest hour and \
                     than the {} the group runs (or its minimum size or the step limits allow no \
                     fewer)",
                    p.strength * 100.0,
                    limits.desired
                )),
                Some(w) => candidates.push((recurrence, p.strength, w)),
            },
        }
    }
    // The larger saving a month.
    let per_month =
        |r: Recurrence, saved: u32| f64::from(saved) * crate::HOURS_PER_MONTH / r.slots() as f64;
    let Some((recurrence, strength, (start, len, quiet, saved))) = candidates
        .into_iter()
        .max_by(|a, b| per_month(a.0, a.2.3).total_cmp(&per_month(b.0, b.2.3)))
    else {
        return ScheduleOutcome::None(why.join("; "));
    };
    let desired = limits.busy();
    let requests = (!requests.is_empty()).then(|| cycles(requests));
    let action = |name: &str, slot: usize, capacity: u32| ScheduledWindow {
        name: name.to_owned(),
        recurrence: recurrence.cron(slot),
        starts: recurrence.describe(slot),
        min_size: limits.min_size,
        desired_capacity: capacity,
        max_size: limits.max_size,
    };
    let schedule = Schedule {
        recurrence,
        strength,
        quiet_from_slot: start,
        quiet_hours: len,
        busy_capacity: desired,
        quiet_capacity: quiet,
        actions: vec![
            action(QUIET, start, quiet),
            action(BUSY, (start + len) % recurrence.slots(), desired),
        ],
        instance_hours_saved_per_month: per_month(recurrence, saved),
        cpu_profile,
        requests_daily_strength: requests
            .as_ref()
            .and_then(|c| c.daily.profile().map(|p| p.strength)),
        requests_weekly_strength: requests
            .as_ref()
            .and_then(|c| c.weekly.profile().map(|p| p.strength)),
    };
    let Some(backtests) = Backtests::of(
        demand,
        |h| schedule.capacity_at(h.hour, h.instances),
        1.0,
        limits.cpu_target,
        limits.max_saturated_percent,
    ) else {
        return ScheduleOutcome::None("no hour with both CPU and instances to replay".to_owned());
    };
    if backtests.too_risky() {
        return ScheduleOutcome::None(format!(
            "the schedule would have run {} of {} hours above 90 % CPU, more than the {} % \
             allowed",
            backtests.proposed.hours_over_90,
            backtests.proposed.hours,
            backtests.max_saturated_percent
        ));
    }
    ScheduleOutcome::Proposed(Box::new((schedule, backtests)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use proptest::prelude::*;

    fn limits(min: u32, max: u32, desired: u32) -> ScheduleLimits {
        ScheduleLimits {
            min_size: min,
            max_size: max,
            desired,
            max_step: 10,
            cpu_target: 70.0,
            max_saturated_percent: 1.0,
        }
    }

    /// 14 days from a Monday 00:00 UTC (1970-01-05 is a Monday), `instances` each hour.
    fn days(n: i64, instances: f64, cpu: impl Fn(i64) -> f64) -> Vec<DemandHour> {
        (0..n * 24)
            .map(|i| {
                let hour = 4 * 24 + i;
                DemandHour {
                    hour,
                    cpu: cpu(hour),
                    instances,
                }
            })
            .collect()
    }

    fn proposed(o: ScheduleOutcome) -> (Schedule, Backtests) {
        match o {
            ScheduleOutcome::Proposed(b) => *b,
            ScheduleOutcome::None(why) => panic!("no schedule: {why}"),
        }
    }

    #[test]
    fn a_quiet_night_gets_a_daily_window_at_the_capacity_its_busiest_night_needs() {
        // 6 instances: 60 % from 07:00 to 20:00 UTC, 12 % at night (work 72: 2 instances at
        // 70 % would be 36 % each... ceil(72 / 70) = 2).
        let demand = days(14, 6.0, |h| {
            if (7..20).contains(&hour_of_day(h)) {
                60.0
            } else {
                12.0
            }
        });
        // The load balancer's requests follow the same cycle.
        let requests: Vec<(i64, f64)> = demand.iter().map(|h| (h.hour, h.cpu * 100.0)).collect();
        let (s, b) = proposed(propose_schedule(&demand, &requests, &limits(1, 10, 6)));
        assert_eq!(s.requests_daily_strength, Some(1.0));
        assert_eq!(s.requests_weekly_strength, Some(0.0));
        assert_eq!(s.recurrence, Recurrence::Daily);
        assert_eq!((s.quiet_from_slot, s.quiet_hours), (20, 11));
        assert_eq!((s.quiet_capacity, s.busy_capacity), (2, 6));
        assert_eq!(s.actions[0].recurrence, "0 20 * * *");
        assert_eq!(s.actions[1].recurrence, "0 7 * * *");
        assert_eq!(s.actions[0].starts, "20:00 UTC");
        // 4 instances for 11 hours a day: 44 instance-hours a day, 730 / 24 days a month.
        assert!((s.instance_hours_saved_per_month - 44.0 * 730.0 / 24.0).abs() < 1e-9);
        // At night 72 percent-instances over 2 instances: 36 %.
        assert_eq!(b.current.cpu_max, 60.0);
        assert_eq!(b.proposed.cpu_max, 60.0);
        assert_eq!(b.proposed.hours_over_90, 0);
        assert_eq!(
            (b.current.cpu_p50, b.proposed.cpu_p50),
            (60.0, 60.0),
            "13 day hours"
        );
        let night = demand.iter().find(|h| hour_of_day(h.hour) == 23).unwrap();
        assert_eq!(s.capacity_at(night.hour, 6.0), 2.0);
        assert_eq!(crate::projected_cpu(night, 2.0, 1.0), 36.0);
        assert_eq!((b.current.hours, b.proposed.hours), (336, 336));
        assert_eq!(s.cpu_profile.len(), 24);
    }

    #[test]
    fn the_step_limits_and_the_minimum_size_hold_the_quiet_capacity_up() {
        let demand = days(14, 6.0, |h| {
            if (7..20).contains(&hour_of_day(h)) {
                60.0
            } else {
                1.0
            }
        });
        let mut l = limits(3, 10, 6);
        let (s, _) = proposed(propose_schedule(&demand, &[], &l));
        assert_eq!(s.quiet_capacity, 3, "the minimum size");
        l.min_size = 1;
        l.max_step = 2;
        let (s, _) = proposed(propose_schedule(&demand, &[], &l));
        assert_eq!(s.quiet_capacity, 4, "one step of 2 below 6");
        // Over-provisioned all day: 12 instances for what 6 serve at the peak, and one step
        // (6) down is no lower than the peak's need.
        let idle = days(14, 12.0, |h| {
            if (7..20).contains(&hour_of_day(h)) {
                30.0
            } else {
                1.0
            }
        });
        match propose_schedule(
            &idle,
            &[],
            &ScheduleLimits {
                max_step: 6,
                ..limits(1, 20, 12)
            },
        ) {
            ScheduleOutcome::None(why) => assert!(why.contains("busiest hour"), "{why}"),
            ScheduleOutcome::Proposed(_) => panic!("over-provisioned all day is no schedule"),
        }
        l.min_size = 6;
        match propose_schedule(&demand, &[], &l) {
            ScheduleOutcome::None(why) => assert!(why.contains("no window"), "{why}"),
            ScheduleOutcome::Proposed(_) => panic!("a group at its minimum cannot be scheduled"),
        }
    }

    #[test]
    fn a_quiet_weekend_gets_a_weekly_window_and_a_flat_fleet_none() {
        // Busy Monday to Friday, quiet Saturday and Sunday.
        let demand = days(14, 6.0, |h| if day_of_week(h) >= 5 { 10.0 } else { 50.0 });
        let (s, _) = proposed(propose_schedule(&demand, &[], &limits(1, 10, 6)));
        assert_eq!(s.recurrence, Recurrence::Weekly);
        assert_eq!((s.quiet_from_slot, s.quiet_hours), (5 * 24, 48));
        assert_eq!(s.actions[0].recurrence, "0 0 * * 6", "Saturday 00:00");
        assert_eq!(s.actions[1].recurrence, "0 0 * * 1", "Monday 00:00");
        assert_eq!(s.actions[0].starts, "Sat 00:00 UTC");
        let flat = days(14, 6.0, |_| 30.0);
        match propose_schedule(&flat, &[], &limits(1, 10, 6)) {
            ScheduleOutcome::None(why) => assert!(why.contains("under the 50 %"), "{why}"),
            ScheduleOutcome::Proposed(_) => panic!("a flat fleet has no cycle"),
        }
        match propose_schedule(&days(3, 6.0, |_| 30.0), &[], &limits(1, 10, 6)) {
            ScheduleOutcome::None(why) => assert!(why.contains("at least 7 days"), "{why}"),
            ScheduleOutcome::Proposed(_) => panic!("3 days are not enough"),
        }
    }

    #[test]
    fn a_window_wraps_around_midnight_and_the_cron_names_the_hour() {
        let s = Schedule {
            recurrence: Recurrence::Daily,
            strength: 1.0,
            quiet_from_slot: 22,
            quiet_hours: 4,
            busy_capacity: 4,
            quiet_capacity: 2,
            actions: Vec::new(),
            instance_hours_saved_per_month: 0.0,
            cpu_profile: Vec::new(),
            requests_daily_strength: None,
            requests_weekly_strength: None,
        };
        let quiet: Vec<usize> = (0..24).filter(|h| s.is_quiet(*h as i64)).collect();
        assert_eq!(quiet, vec![0, 1, 22, 23]);
        assert_eq!(Recurrence::Weekly.cron(6 * 24 + 23), "0 23 * * 0", "Sunday");
    }

    proptest! {
        #[test]
        fn a_schedule_never_leaves_the_groups_min_and_max_nor_moves_more_than_a_step(
            min in 0u32..5, extra in 0u32..10, over in 0u32..10, step in 1u32..6,
            base in 0.0..60.0f64, swing in 0.0..40.0f64, noise in prop::collection::vec(0.0..5.0f64, 336),
        ) {
            let desired = min + extra;
            let max = desired + over;
            let demand: Vec<DemandHour> = (0..336i64)
                .map(|i| {
                    let hour = 96 + i;
                    let day = (7..20).contains(&hour_of_day(hour));
                    DemandHour {
                        hour,
                        cpu: base + if day { swing } else { 0.0 } + noise[i as usize],
                        instances: f64::from(desired.max(1)),
                    }
                })
                .collect();
            let l = ScheduleLimits { max_step: step, ..limits(min, max, desired) };
            if let ScheduleOutcome::Proposed(b) = propose_schedule(&demand, &[], &l) {
                let (s, backtests) = *b;
                prop_assert!(s.quiet_capacity >= min && s.quiet_capacity < desired);
                prop_assert!(desired - s.quiet_capacity <= step);
                for a in &s.actions {
                    prop_assert!(a.min_size == min && a.max_size == max);
                    prop_assert!(a.desired_capacity >= min && a.desired_capacity <= max);
                }
                prop_assert!(!backtests.too_risky());
                prop_assert!(s.quiet_hours >= MIN_WINDOW_HOURS && s.quiet_hours < 24 * 7);
            }
        }
    }
}
