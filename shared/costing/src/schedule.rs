//! Scheduled scaling as a priced proposal (docs/scoring.md, "Schedules"): the schedule
//! `fleetopt_scoring::propose_schedule` finds in the lookback's demand, its instance-hours
//! priced at the group's on-demand price, its backtest beside the current configuration's.

use fleetopt_scoring::{
    Evidence, ExpectedImpact, Proposal, RecommendationType, RiskLevel, ScheduleLimits,
    ScheduleOutcome, ScheduledWindow, max_step, propose_schedule,
};

use crate::{CostRules, GroupCost, HOURS_PER_MONTH, MIN_MONTHLY_SAVING_USD, priority, round2};

/// Whether two lists of actions set the same sizes at the same recurrences (their wording
/// aside).
fn same_actions(a: &[ScheduledWindow], b: &[ScheduledWindow]) -> bool {
    let key = |w: &ScheduledWindow| {
        (
            w.name.clone(),
            w.recurrence.clone(),
            w.min_size,
            w.desired_capacity,
            w.max_size,
        )
    };
    let mut a: Vec<_> = a.iter().map(key).collect();
    let mut b: Vec<_> = b.iter().map(key).collect();
    a.sort();
    b.sort();
    a == b
}

/// The SCHEDULED_SCALING proposal for a group, or why there is none. `in_force` is the
/// schedule the group runs now (fleet-optimizer's actions on it, `None` when they could not be
/// read): the same schedule again is no proposal, and without knowing it none is made.
pub fn schedule_proposal(
    g: &GroupCost<'_>,
    in_force: Option<&[ScheduledWindow]>,
    rules: &CostRules,
) -> Result<Proposal, String> {
    let in_force = in_force.ok_or_else(|| {
        "the group's scheduled actions could not be read (DescribeScheduledActions)".to_owned()
    })?;
    let price = g
        .instance_type
        .on_demand_hourly
        .ok_or_else(|| format!("no on-demand price for {}", g.instance_type.name))?;
    let limits = ScheduleLimits {
        min_size: g.min_size,
        max_size: g.max_size,
        desired: g.desired,
        max_step: max_step(rules.max_step_percent, rules.max_step_instances, g.desired),
        cpu_target: rules.targets.cpu_utilization(),
        max_saturated_percent: rules.preferences.max_saturated_percent,
    };
    let (schedule, backtest) = match propose_schedule(g.demand, g.requests, &limits) {
        ScheduleOutcome::Proposed(found) => *found,
        ScheduleOutcome::None(why) => return Err(why),
    };
    if same_actions(&schedule.actions, in_force) {
        return Err("the group already runs this schedule".to_owned());
    }
    let monthly = round2(schedule.instance_hours_saved_per_month * price);
    if monthly < MIN_MONTHLY_SAVING_USD {
        return Err("the schedule saves nothing measurable".to_owned());
    }
    let current_monthly = price * f64::from(g.desired) * HOURS_PER_MONTH;
    let percent = if current_monthly > 0.0 {
        round2(monthly / current_monthly * 100.0)
    } else {
        0.0
    };
    let quiet = &schedule.actions[0];
    let busy = &schedule.actions[1];
    let (now, then) = (&backtest.current, &backtest.proposed);
    let every = match schedule.recurrence {
        fleetopt_scoring::Recurrence::Daily => "every day",
        fleetopt_scoring::Recurrence::Weekly => "every week",
    };
    let description = format!(
        "Scheduled scaling: run {group} at {quiet_n} instances from {from} to {to} {every} \
         ({hours} hours, a {kind} cycle explaining {strength:.0} % of its demand) and at {busy_n} \
         the rest of the time. Over the last {days} days this schedule would have run CPU p50 \
         {p50:.1} %, p99 {p99:.1} %, max {max:.1} % (now {now50:.1} %, {now99:.1} %, {nowmax:.1} \
         %), {over} of {n} hours over the {target:.0} % target and {sat} over 90 %.{requests} \
         Expected: ${monthly:.0} a month less ({percent:.0} %).",
        group = g.group,
        quiet_n = quiet.desired_capacity,
        from = quiet.starts,
        to = busy.starts,
        hours = schedule.quiet_hours,
        kind = match schedule.recurrence {
            fleetopt_scoring::Recurrence::Daily => "daily",
            fleetopt_scoring::Recurrence::Weekly => "weekly",
        },
        strength = schedule.strength * 100.0,
        busy_n = busy.desired_capacity,
        days = then.hours.div_ceil(24),
        p50 = then.cpu_p50,
        p99 = then.cpu_p99,
        max = then.cpu_max,
        now50 = now.cpu_p50,
        now99 = now.cpu_p99,
        nowmax = now.cpu_max,
        over = then.hours_over_target,
        n = then.hours,
        target = rules.targets.cpu_utilization(),
        sat = then.hours_over_90,
        requests = match schedule.requests_daily_strength {
            Some(s) => format!(
                " The load balancer's requests follow a daily cycle of {:.0} % strength.",
                s * 100.0
            ),
            None => String::new(),
        },
    );
    let steps = vec![
        format!(
            "Approve: the engine puts the scheduled actions {} ({}, desired {}) and {} ({}, \
             desired {}) on {} in its next change window; MinSize {} and MaxSize {} stay as they \
             are",
            quiet.action_name(),
            quiet.recurrence,
            quiet.desired_capacity,
            busy.action_name(),
            busy.recurrence,
            busy.desired_capacity,
            g.group,
            g.min_size,
            g.max_size
        ),
        "Check that the group's scaling policies do not fight the schedule (a target tracking \
         policy may scale out inside the quiet window when it must, which is safe)"
            .to_owned(),
        "Watch CPU and response time through the first quiet window".to_owned(),
    ];
    // The backtest kept its hours over 90 % within the allowed share; over the target is a
    // medium risk, under it low.
    let risk = if then.hours_over_target > now.hours_over_target {
        RiskLevel::Medium
    } else {
        RiskLevel::Low
    };
    Ok(Proposal {
        kind: RecommendationType::ScheduledScaling,
        priority: priority(percent, risk),
        description,
        target_desired_capacity: None,
        expected_impact: ExpectedImpact {
            performance_gain: None,
            cost_savings: Some(percent),
            monthly_savings_usd: Some(monthly),
            risk_level: risk,
        },
        steps,
        evidence: Evidence {
            instance_type: Some(g.instance_type.name.clone()),
            on_demand_hourly_usd: Some(price),
            desired_capacity: Some(g.desired),
            min_size: Some(g.min_size),
            max_size: Some(g.max_size),
            cpu_target: Some(rules.targets.cpu_utilization()),
            schedule: Some(schedule),
            backtest: Some(backtest),
            ..Evidence::default()
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{Architecture, InstanceType};
    use fleetopt_scoring::{DemandHour, RightSizingPreferences, Targets, hour_of_day};

    fn rules() -> CostRules {
        CostRules {
            production: true,
            preferences: RightSizingPreferences::default(),
            targets: Targets::new(70.0, 80.0, 500.0, 1000.0, 60.0).unwrap(),
            max_hourly_cost: 10.0,
            tag_key: "fleet-optimizer:application".into(),
            max_step_percent: 50,
            max_step_instances: 10,
        }
    }

    #[test]
    fn a_nightly_lull_is_priced_at_the_instance_hours_it_saves() {
        let m5 = InstanceType {
            name: "m5.large".into(),
            vcpus: 2,
            memory_mib: 8192,
            architecture: Architecture::X86_64,
            on_demand_hourly: Some(0.096),
        };
        // 14 days of 6 instances: 60 % by day (07-20 UTC), 12 % at night.
        let demand: Vec<DemandHour> = (0..336)
            .map(|i| DemandHour {
                hour: 96 + i,
                cpu: if (7..20).contains(&hour_of_day(96 + i)) {
                    60.0
                } else {
                    12.0
                },
                instances: 6.0,
            })
            .collect();
        let g = GroupCost {
            group: "web",
            instance_type: &m5,
            desired: 6,
            min_size: 1,
            spot: None,
            cpu_hourly_maxima: &[],
            memory_hourly_maxima: &[],
            max_size: 10,
            demand: &demand,
            requests: &[],
        };
        let p = schedule_proposal(&g, Some(&[]), &rules()).unwrap();
        // A step is 3 (50 % of 6): 3 instances for 11 hours a day, 730 / 24 days a month, at
        // 0.096 $/h: 96.36 $.
        let s = p.evidence.schedule.as_ref().unwrap();
        assert_eq!((s.quiet_capacity, s.quiet_hours), (3, 11));
        assert_eq!(p.expected_impact.monthly_savings_usd, Some(96.36));
        // 96.36 of 6 x 0.096 x 730 = 420.48: 22.92 %.
        assert_eq!(p.expected_impact.cost_savings, Some(22.92));
        assert_eq!(p.kind, RecommendationType::ScheduledScaling);
        assert!(
            p.description
                .contains("from 20:00 UTC to 07:00 UTC every day"),
            "{}",
            p.description
        );
        let b = p.evidence.backtest.as_ref().unwrap();
        assert_eq!((b.current.cpu_max, b.proposed.hours_over_90), (60.0, 0));
        // The same schedule in force is no proposal.
        let read_back: Vec<ScheduledWindow> = s
            .actions
            .iter()
            .map(|a| ScheduledWindow {
                starts: String::new(),
                ..a.clone()
            })
            .collect();
        assert_eq!(
            schedule_proposal(&g, Some(&read_back), &rules()).unwrap_err(),
            "the group already runs this schedule"
        );
        assert!(
            schedule_proposal(&g, None, &rules())
                .unwrap_err()
                .contains("could not be read")
        );
    }
}
