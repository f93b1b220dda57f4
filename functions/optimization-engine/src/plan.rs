//! The engine's decisions, as pure functions of a recommendation, the group as Auto Scaling
//! reports it now, its last scaling activity and the time (docs/design.md). No I/O: the
//! engine reads the inputs, calls [`decide`], and carries the verdict out.

use std::cmp::Ordering;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use fleetopt_config::ChangeWindow;
use fleetopt_config::PersistenceRule;
use fleetopt_model::{
    Priority, Recommendation, RecommendationType, Status, approval_problem, attestation_problem,
};
use fleetopt_ports::{ActivityStatus, GroupInfo, ScalingActivity};
use fleetopt_scoring::ScheduledWindow;

/// How long new instances get, past the health-check grace period, to launch and come into
/// service before a change that has not reached its size is rolled back.
pub const LAUNCH_ALLOWANCE: Duration = Duration::minutes(10);

/// How long an applied schedule runs: its scheduled actions stop recurring then (their
/// EndTime), the engine removes them and the item EXPIRES; the cost optimizer proposes again
/// from the latest lookback.
pub const SCHEDULE_LIFETIME: Duration = Duration::days(30);

/// The rules the environment sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Whether SCALE_UP may be applied without a person (the environment's
    /// enableAutoScalingOptimization).
    pub automation_enabled: bool,
    /// Wait after a scaling activity; `None`: the group's DefaultCooldown.
    pub cooldown_override_seconds: Option<u32>,
    /// A PENDING recommendation older than this (after its analysis window ended) expires:
    /// twice the analysis interval, by when a newer analysis has spoken.
    pub pending_lifetime: Duration,
    /// How far one action may move a group.
    pub step: StepLimits,
    /// Consecutive analyses an automated SCALE_UP needs, per priority.
    pub persistence: PersistenceRule,
    /// A capacity change awaiting approval or approved expires this long after its analysis
    /// window ended.
    pub capacity_approval_max_age: Duration,
    /// Any other type awaiting approval or approved expires this long after its analysis.
    pub manual_approval_max_age: Duration,
    /// An IN_PROGRESS change older than this is closed with an alert.
    pub in_progress_max_age: Duration,
    /// When approved scale-downs and schedules may be applied; `None`: at once.
    pub change_window: Option<ChangeWindow>,
}

impl Policy {
    /// How long `r` may wait for, or hold, an approval.
    pub fn approval_max_age(&self, r: &Recommendation) -> Duration {
        if r.scale_change().is_some() {
            self.capacity_approval_max_age
        } else {
            self.manual_approval_max_age
        }
    }
}

/// The largest step of one action: the smaller of a share of the desired capacity and a
/// number of instances, but always at least one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepLimits {
    /// Percent of the desired capacity (1..=100).
    pub percent: u32,
    /// Instances (at least 1).
    pub instances: u32,
}

impl StepLimits {
    /// The most one action may move a group whose desired capacity is `desired`:
    /// `max(1, min(floor(desired x percent / 100), instances))`.
    pub fn max_step(self, desired: u32) -> u32 {
        fleetopt_scoring::max_step(self.percent, self.instances, desired)
    }

    /// The desired capacity one action sets on the way from `desired` to `target`: `target`
    /// when it is within a step, otherwise one step towards it.
    pub fn step(self, desired: u32, target: u32) -> u32 {
        let max = self.max_step(desired);
        if target >= desired {
            desired + (target - desired).min(max)
        } else {
            desired - (desired - target).min(max)
        }
    }
}

/// What the group looks like now, as far as the engine's checks go.
#[derive(Debug, Clone, Copy)]
pub struct GroupNow<'a> {
    /// The group, when it is among the targeted ones.
    pub group: Option<&'a GroupInfo>,
    /// Its most recent scaling activity.
    pub activity: Option<&'a ScalingActivity>,
    /// Another recommendation already changing this group (its id), if any.
    pub busy_with: Option<&'a str>,
    /// The group's most recently applied schedule (its id), among the completed ones read.
    pub newest_schedule: Option<&'a str>,
}

/// What to do with one recommendation now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every check passed: claim it (-> IN_PROGRESS) and set the desired capacity.
    Apply {
        /// Desired capacity now: what a rollback restores.
        from: u32,
        /// Desired capacity to set: one step (see [`StepLimits`]) towards `target`.
        to: u32,
        /// The recommended capacity, clamped to the group's bounds.
        target: u32,
    },
    /// Not for automation: -> AWAITING_APPROVAL, with a notification.
    AskApproval(String),
    /// A check fails for now: leave the status, note the reason, try again on the next sweep.
    Wait(String),
    /// A check that can never pass, or a proof that does not hold: -> FAILED with the reason.
    Fail(String),
    /// Too old to act on: -> EXPIRED with the reason.
    Expire(String),
    /// Approved, but re-checked against the group now there is nothing left to do: ->
    /// OBSOLETE with the reason.
    Obsolete(String),
    /// Nothing for the engine to do (the status needs no action, or the group is not
    /// targeted).
    Ignore(String),
    /// An applied change reached its size with healthy instances: -> COMPLETED.
    Complete(String),
    /// An approved schedule: claim it (-> IN_PROGRESS), put its scheduled actions until
    /// `ends_at`, then -> COMPLETED (or, when Auto Scaling refuses one, remove the others and
    /// -> ROLLED_BACK).
    Schedule {
        /// The actions, quiet window first.
        actions: Vec<ScheduledWindow>,
        /// When they stop recurring (EndTime).
        ends_at: DateTime<Utc>,
    },
    /// An applied schedule that is over: remove its scheduled actions when `remove`, then ->
    /// `to` (EXPIRED, or SUPERSEDED when a newer schedule's actions of the same names replaced
    /// them).
    Unschedule {
        /// EXPIRED or SUPERSEDED.
        to: Status,
        /// Whether its actions are still its own to delete.
        remove: bool,
        /// Why.
        reason: String,
    },
    /// An applied change went wrong: restore `restore` and -> ROLLED_BACK.
    RollBack {
        /// The desired capacity before the change.
        restore: u32,
        /// Why.
        reason: String,
    },
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// HIGH before MEDIUM before LOW, then newest first, then by id: the order the engine works
/// in, so that the most urgent change gets a group first.
pub fn rank(a: &Recommendation, b: &Recommendation) -> Ordering {
    fn urgency(p: Priority) -> u8 {
        match p {
            Priority::High => 0,
            Priority::Medium => 1,
            Priority::Low => 2,
        }
    }
    urgency(a.priority)
        .cmp(&urgency(b.priority))
        .then_with(|| fleetopt_ports::newest_first(a, b))
}

/// The verdict for `r` at `now`.
pub fn decide(
    r: &Recommendation,
    now: DateTime<Utc>,
    g: &GroupNow<'_>,
    policy: &Policy,
) -> Verdict {
    match r.status {
        Status::Pending => pending(r, now, g, policy),
        Status::AwaitingApproval => {
            match too_old(r, now, policy.approval_max_age(r), "awaiting approval") {
                Some(verdict) => verdict,
                None => Verdict::Ignore("awaiting a person's approval".to_owned()),
            }
        }
        Status::Approved => approved(r, now, g, policy),
        Status::InProgress => verify(r, now, g, policy),
        Status::Completed if r.kind == RecommendationType::ScheduledScaling => in_force(r, now, g),
        other => Verdict::Ignore(format!("{other} needs nothing from the engine")),
    }
}

/// The actions of a schedule in words: `fleetopt-quiet (0 20 * * *, desired 2), ...`.
pub fn describe_actions(actions: &[ScheduledWindow]) -> String {
    actions
        .iter()
        .map(|a| {
            format!(
                "{} ({}, desired {}, min {}, max {})",
                a.action_name(),
                a.recurrence,
                a.desired_capacity,
                a.min_size,
                a.max_size
            )
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// `Wait` until the change window opens, saying when and what it will apply then; `None` when
/// there is no window or one is open now.
fn outside_window(policy: &Policy, now: DateTime<Utc>, then: &str) -> Option<Verdict> {
    let window = policy.change_window.as_ref()?;
    if window.open_at(now).is_some() {
        return None;
    }
    Some(Verdict::Wait(match window.next_after(now) {
        Some(next) => format!(
            "waits for the change window ({window}): runs at {} ({then})",
            time(next)
        ),
        None => format!(
            "waits for the change window ({window}), which opens on no day of the coming year: \
             check FLEETOPT_CHANGE_WINDOW_CRON ({then})"
        ),
    }))
}

/// An approved SCHEDULED_SCALING: proven, targeted, not excluded, the group's sizes as the
/// schedule was computed for, nothing else in flight, in the change window.
fn schedule(r: &Recommendation, now: DateTime<Utc>, g: &GroupNow<'_>, policy: &Policy) -> Verdict {
    if let Some(problem) = approval_problem(r, now) {
        return Verdict::Fail(format!("not applied: {problem}"));
    }
    let group = match changeable(r, g) {
        Ok(group) => group,
        Err(verdict) => return verdict,
    };
    let Some(schedule) = &r.evidence.schedule else {
        return Verdict::Fail("SCHEDULED_SCALING without a schedule in its evidence".to_owned());
    };
    if let Some(a) = schedule.actions.iter().find(|a| {
        a.min_size != group.min_size
            || a.max_size != group.max_size
            || a.desired_capacity < group.min_size
            || a.desired_capacity > group.max_size
    }) {
        return Verdict::Obsolete(format!(
            "{NOTHING_TO_APPLY}: {} now has min {} and max {}, not the {} and {} the schedule was \
             computed for ({} sets desired {}); the next cost analysis proposes again",
            group.name,
            group.min_size,
            group.max_size,
            a.min_size,
            a.max_size,
            a.name,
            a.desired_capacity
        ));
    }
    if let Some(other) = g.busy_with {
        return Verdict::Wait(format!(
            "another change to {} is in progress ({other})",
            group.name
        ));
    }
    let then = format!("then puts {}", describe_actions(&schedule.actions));
    if let Some(wait) = outside_window(policy, now, &then) {
        return wait;
    }
    Verdict::Schedule {
        actions: schedule.actions.clone(),
        ends_at: now + SCHEDULE_LIFETIME,
    }
}

/// A COMPLETED schedule: in force until its end, or replaced by a newer one.
fn in_force(r: &Recommendation, now: DateTime<Utc>, g: &GroupNow<'_>) -> Verdict {
    let Some(execution) = r
        .execution
        .as_ref()
        .filter(|e| !e.scheduled_actions.is_empty())
    else {
        return Verdict::Ignore("a completed schedule without scheduled actions".to_owned());
    };
    if let Some(newer) = g.newest_schedule.filter(|id| *id != r.id) {
        return Verdict::Unschedule {
            to: Status::Superseded,
            remove: false,
            reason: format!(
                "replaced by the schedule of {newer}, whose scheduled actions of the same names \
                 are in force"
            ),
        };
    }
    match execution.schedule_ends_at() {
        Some(ends) if now >= ends => Verdict::Unschedule {
            to: Status::Expired,
            remove: true,
            reason: format!(
                "the schedule ran its {} days (until {}): its scheduled actions are removed, and \
                 the next cost analysis proposes again from the latest hours",
                SCHEDULE_LIFETIME.num_days(),
                time(ends)
            ),
        },
        Some(ends) => Verdict::Ignore(format!("schedule in force until {}", time(ends))),
        None => Verdict::Ignore("schedule in force, without an end".to_owned()),
    }
}

/// EXPIRED when `r`'s analysis window ended more than `max_age` before `now`.
fn too_old(
    r: &Recommendation,
    now: DateTime<Utc>,
    max_age: Duration,
    what: &str,
) -> Option<Verdict> {
    // `+` panics past chrono's last representable time, and a stored window can end there
    // (found by the fuzz test): such a window was not written by an analysis, so it fails.
    let Some(expires) = r.analysis_window.end.checked_add_signed(max_age) else {
        return Some(Verdict::Fail(format!(
            "the analysis window's end {} is not a time an analysis writes",
            time(r.analysis_window.end)
        )));
    };
    (now >= expires).then(|| {
        Verdict::Expire(format!(
            "expired {what}: computed from data up to {}, and nothing may act on it after {}; a \
             newer analysis decides again",
            time(r.analysis_window.end),
            time(expires)
        ))
    })
}

/// An APPROVED recommendation: expired, unproven, done by a person, obsolete, or applied.
fn approved(r: &Recommendation, now: DateTime<Utc>, g: &GroupNow<'_>, policy: &Policy) -> Verdict {
    if let Some(verdict) = too_old(r, now, policy.approval_max_age(r), "approval") {
        return verdict;
    }
    if r.kind == RecommendationType::ScheduledScaling {
        return schedule(r, now, g, policy);
    }
    if r.scale_change().is_none() {
        return manual(r, g);
    }
    if let Some(problem) = approval_problem(r, now) {
        return Verdict::Fail(format!("not applied: {problem}"));
    }
    match scale_checks(r, now, g, policy) {
        // An approval the group no longer needs is closed, not failed: nothing went wrong.
        Verdict::Fail(reason) if reason.starts_with(NOTHING_TO_APPLY) => Verdict::Obsolete(reason),
        // A scale-down waits for the change window; a scale-up relieves pressure and does not.
        Verdict::Apply { from, to, target } if to < from => {
            let then = format!("then sets desired capacity {from} -> {to}");
            outside_window(policy, now, &then).unwrap_or(Verdict::Apply { from, to, target })
        }
        verdict => verdict,
    }
}

/// An approved change a person carries out: COMPLETED once the group shows it (it runs the
/// recommended instance type), otherwise left to the person (`fleetopt done`) until it expires.
fn manual(r: &Recommendation, g: &GroupNow<'_>) -> Verdict {
    let wanted = r
        .evidence
        .right_sizing
        .as_ref()
        .and_then(|s| s.options.first())
        .map(|o| o.instance_type.clone())
        .or_else(|| r.evidence.suggested_instance_type.clone());
    let running = g.group.and_then(|group| group.instance_type.as_deref());
    match (wanted, running) {
        (Some(wanted), Some(running))
            if wanted == running && r.evidence.instance_type.as_deref() != Some(running) =>
        {
            Verdict::Complete(format!(
                "seen applied: {} now runs {running} (was {})",
                r.auto_scaling_group_name,
                r.evidence
                    .instance_type
                    .as_deref()
                    .unwrap_or("another type")
            ))
        }
        _ => Verdict::Ignore(format!(
            "approved {}: for a person to carry out ({} steps); `fleetopt done` records it done",
            r.kind,
            r.implementation.steps.len()
        )),
    }
}

fn pending(r: &Recommendation, now: DateTime<Utc>, g: &GroupNow<'_>, policy: &Policy) -> Verdict {
    if let Some(verdict) = too_old(r, now, policy.pending_lifetime, "before the engine acted") {
        return verdict;
    }
    if g.group.is_none() && !r.is_account_wide() {
        return not_targeted(r);
    }
    if r.kind != RecommendationType::ScaleUp {
        return Verdict::AskApproval(format!("{} always needs a person's approval", r.kind));
    }
    if !policy.automation_enabled {
        return Verdict::AskApproval(
            "automated scaling is disabled in this environment: SCALE_UP needs approval".to_owned(),
        );
    }
    if !r.implementation.automated {
        return Verdict::AskApproval(
            "written as not automated (automation was off when it was made)".to_owned(),
        );
    }
    if let Some(problem) = attestation_problem(r) {
        return Verdict::Fail(format!("not applied: {problem}"));
    }
    let required = policy.persistence.required(r.priority);
    let found = r.persistence.map_or(1, |p| p.consecutive_analyses);
    if found < required {
        return Verdict::Wait(format!(
            "persistence: found in {found} consecutive analysis(es), {required} required for \
             {} before it is applied automatically; the next analysis counts again",
            r.priority
        ));
    }
    scale_checks(r, now, g, policy)
}

/// How a scale check that finds nothing left to do starts its reason.
const NOTHING_TO_APPLY: &str = "nothing to apply";

fn not_targeted(r: &Recommendation) -> Verdict {
    Verdict::Ignore(format!(
        "{} is not among the targeted Auto Scaling groups (deleted, renamed or no longer \
         tagged): nothing is done",
        r.auto_scaling_group_name
    ))
}

/// The group `r` would change, when it is targeted and not excluded from `r`'s type; else the
/// verdict.
fn changeable<'a>(r: &Recommendation, g: &GroupNow<'a>) -> Result<&'a GroupInfo, Verdict> {
    let Some(group) = g.group else {
        return Err(not_targeted(r));
    };
    if let Some(reason) = group.exclusions.excludes(r.kind) {
        return Err(Verdict::Fail(format!(
            "{} is excluded from {}: {reason}",
            group.name, r.kind
        )));
    }
    Ok(group)
}

/// The checks of docs/design.md before a scale change.
fn scale_checks(
    r: &Recommendation,
    now: DateTime<Utc>,
    g: &GroupNow<'_>,
    policy: &Policy,
) -> Verdict {
    let group = match changeable(r, g) {
        Ok(group) => group,
        Err(verdict) => return verdict,
    };
    let Some((from, to)) = r.scale_change() else {
        return Verdict::Fail(format!(
            "{} has no SetDesiredCapacity action to apply",
            r.kind
        ));
    };
    let target = match to.cmp(&from) {
        Ordering::Greater => {
            // Never past maxSize: Auto Scaling refuses it, but the emulator does not, and the
            // engine must not depend on either.
            let target = to.min(group.max_size);
            if group.desired >= target {
                return Verdict::Fail(format!(
                    "{NOTHING_TO_APPLY}: desired capacity is already {} (recommended {to}, max \
                     size {})",
                    group.desired, group.max_size
                ));
            }
            target
        }
        Ordering::Less => {
            let target = to.max(group.min_size);
            if group.desired <= target {
                return Verdict::Fail(format!(
                    "{NOTHING_TO_APPLY}: desired capacity is already {} (recommended {to}, min \
                     size {})",
                    group.desired, group.min_size
                ));
            }
            target
        }
        Ordering::Equal => {
            return Verdict::Fail(format!(
                "the recommended capacity {to} is the capacity it was computed from"
            ));
        }
    };
    if let Some(other) = g.busy_with {
        return Verdict::Wait(format!(
            "another change to {} is in progress ({other})",
            group.name
        ));
    }
    if let Some(activity) = g.activity {
        if !activity.status.is_finished() {
            return Verdict::Wait(format!(
                "scaling activity {} is in progress: {}",
                activity.id, activity.description
            ));
        }
        let cooldown = policy
            .cooldown_override_seconds
            .unwrap_or(group.default_cooldown_seconds);
        let ended = activity.end.unwrap_or(activity.start);
        let until = ended + Duration::seconds(i64::from(cooldown));
        if now < until {
            return Verdict::Wait(format!(
                "cooldown: the last scaling activity ended at {}, the {cooldown} s cooldown runs \
                 until {}",
                time(ended),
                time(until)
            ));
        }
    }
    if group.healthy * 2 < group.in_service {
        return Verdict::Wait(format!(
            "only {} of {} in-service instances are healthy (at least half must be)",
            group.healthy, group.in_service
        ));
    }
    Verdict::Apply {
        from: group.desired,
        to: policy.step.step(group.desired, target),
        target,
    }
}

/// The sweep's check of an IN_PROGRESS change, in this order: the record is the engine's own
/// and readable; the change is not older than the bound; the group still has the capacity the
/// engine set (someone else's later change is never undone); then the activity, health and
/// deadline. A rollback restores the capacity before the change, but never moves the group by
/// more than one step of the limits from where it is now.
fn verify(r: &Recommendation, now: DateTime<Utc>, g: &GroupNow<'_>, policy: &Policy) -> Verdict {
    let Some(execution) = &r.execution else {
        return Verdict::Fail("IN_PROGRESS without an execution record: nothing to verify".into());
    };
    let claimed_here = r
        .status_history
        .last()
        .is_some_and(|c| c.to == Status::InProgress && c.by == crate::engine::ACTOR);
    if !claimed_here {
        return Verdict::Fail(
            "IN_PROGRESS, but not claimed by the engine: nothing is rolled back or verified".into(),
        );
    }
    let Some(applied_at) = execution.applied_at() else {
        return Verdict::Fail(format!(
            "the execution record's appliedAt {:?} is not a time",
            execution.applied_at
        ));
    };
    if let Some(bound) = applied_at.checked_add_signed(policy.in_progress_max_age)
        && now >= bound
    {
        return Verdict::Fail(format!(
            "still IN_PROGRESS {} after the change at {}: closed so that the group is free again; \
             check the group by hand",
            time(bound),
            time(applied_at)
        ));
    }
    let Some(group) = g.group else {
        return Verdict::Fail(format!(
            "{} is no longer among the targeted groups: the change cannot be verified",
            r.auto_scaling_group_name
        ));
    };
    let new = execution.new_capacity;
    if group.desired != new {
        return Verdict::Fail(format!(
            "desired capacity is now {}, not the {new} the engine set: someone else changed the \
             group, so it is left as it is",
            group.desired
        ));
    }
    let restore = policy
        .step
        .step(group.desired, execution.previous_capacity)
        .clamp(group.min_size, group.max_size.max(group.min_size));
    if let Some(activity) = g.activity
        && activity.start >= applied_at
        && matches!(
            activity.status,
            ActivityStatus::Failed | ActivityStatus::Cancelled
        )
    {
        return Verdict::RollBack {
            restore,
            reason: format!(
                "scaling activity {} {}: {}",
                activity.id,
                if activity.status == ActivityStatus::Failed {
                    "failed"
                } else {
                    "was cancelled"
                },
                activity.description
            ),
        };
    }
    if group.in_service == new && group.healthy == new {
        return Verdict::Complete(format!(
            "{new} instances in service and healthy (was {})",
            execution.previous_capacity
        ));
    }
    let grace = Duration::seconds(i64::from(group.health_check_grace_period_seconds));
    let grace_ends = applied_at + grace;
    if now >= grace_ends && group.in_service >= new && group.healthy < group.in_service {
        return Verdict::RollBack {
            restore,
            reason: format!(
                "{} of {} in-service instances are unhealthy after the {} s health-check grace \
                 period",
                group.in_service - group.healthy,
                group.in_service,
                group.health_check_grace_period_seconds
            ),
        };
    }
    let deadline = grace_ends + LAUNCH_ALLOWANCE;
    if now >= deadline {
        return Verdict::RollBack {
            restore,
            reason: format!(
                "the group did not reach {new} healthy in-service instances by {} ({} in service, \
                 {} healthy)",
                time(deadline),
                group.in_service,
                group.healthy
            ),
        };
    }
    Verdict::Wait(format!(
        "waiting for {new} healthy in-service instances ({} in service, {} healthy); rolled back \
         if not there by {}",
        group.in_service,
        group.healthy,
        time(deadline)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use fleetopt_model::{Action, Execution};
    use fleetopt_ports::fakes::contract::sample;

    fn now() -> DateTime<Utc> {
        // sample(_, 9) covers 09:00-10:00 and was written at 10:02.
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 5, 0).unwrap()
    }

    fn policy() -> Policy {
        Policy {
            automation_enabled: true,
            cooldown_override_seconds: None,
            pending_lifetime: Duration::hours(2),
            step: StepLimits {
                percent: 100,
                instances: 100,
            },
            persistence: PersistenceRule {
                high: 1,
                medium: 1,
                low: 1,
            },
            capacity_approval_max_age: Duration::hours(6),
            manual_approval_max_age: Duration::days(14),
            in_progress_max_age: Duration::hours(2),
            change_window: None,
        }
    }

    /// `r` APPROVED now by ops, with a (well-formed) signed approval: the signature itself is
    /// the engine's to verify, not `decide`'s.
    fn approve(r: &mut Recommendation) {
        r.status = Status::Approved;
        let mut approval = fleetopt_model::unsigned_approval(
            r,
            "arn:aws:iam::1:user/ops",
            now(),
            Duration::hours(6),
        );
        approval.signature = "3045".into();
        r.approval = Some(approval);
    }

    fn group() -> GroupInfo {
        fleetopt_ports::fakes::group("web")
    }

    /// The sample: SCALE_UP of web from 4 to 5 (CPU 85 % against a 70 % target), HIGH.
    fn scale_up() -> Recommendation {
        let mut r = sample("web", 9);
        r.attestation = Some(fleetopt_model::Attestation {
            key_id: "findings".into(),
            algorithm: fleetopt_model::SIGNING_ALGORITHM.into(),
            signature: "3045".into(),
            batch: None,
        });
        assert_eq!(r.kind, RecommendationType::ScaleUp);
        assert_eq!(
            r.implementation.action,
            Some(Action::SetDesiredCapacity { from: 4, to: 5 })
        );
        r
    }

    fn with_action(mut r: Recommendation, kind: RecommendationType, to: u32) -> Recommendation {
        r.kind = kind;
        r.implementation.action = Some(Action::SetDesiredCapacity { from: 4, to });
        r
    }

    fn decide_with(
        r: &Recommendation,
        g: &GroupInfo,
        activity: Option<&ScalingActivity>,
    ) -> Verdict {
        decide(
            r,
            now(),
            &GroupNow {
                group: Some(g),
                activity,
                busy_with: None,
                newest_schedule: None,
            },
            &policy(),
        )
    }

    fn activity(status: ActivityStatus, ended_minutes_ago: i64) -> ScalingActivity {
        let end = now() - Duration::minutes(ended_minutes_ago);
        ScalingActivity {
            id: "act-1".into(),
            status,
            start: end - Duration::minutes(2),
            end: status.is_finished().then_some(end),
            description: "Launching a new EC2 instance".into(),
        }
    }

    #[test]
    fn a_window_ending_at_the_last_representable_time_fails_instead_of_panicking() {
        // Found by the fuzz test: a stored analysisWindow.end of +262142-12-31T23:59:59Z.
        let mut r = scale_up();
        r.analysis_window.end = DateTime::<Utc>::MAX_UTC;
        assert!(matches!(
            decide_with(&r, &group(), None),
            Verdict::Fail(reason) if reason.contains("not a time an analysis writes")
        ));
    }

    #[test]
    fn a_pending_scale_up_that_passes_every_check_is_applied() {
        assert_eq!(
            decide_with(
                &scale_up(),
                &group(),
                Some(&activity(ActivityStatus::Successful, 30))
            ),
            Verdict::Apply {
                from: 4,
                to: 5,
                target: 5
            }
        );
    }

    #[test]
    fn step_limits_take_the_smaller_of_the_share_and_the_count_but_at_least_one() {
        let limits = StepLimits {
            percent: 50,
            instances: 10,
        };
        // 50 % of 4 = 2; of 40 = 20, capped at 10; of 1 = 0.5, floored to 0, raised to 1.
        assert_eq!(limits.max_step(4), 2);
        assert_eq!(limits.max_step(40), 10);
        assert_eq!(limits.max_step(1), 1);
        assert_eq!(limits.max_step(0), 1);
        // 4 -> 9 goes 4 -> 6; 40 -> 20 goes 40 -> 30; a target within a step is reached.
        assert_eq!(limits.step(4, 9), 6);
        assert_eq!(limits.step(40, 20), 30);
        assert_eq!(limits.step(4, 5), 5);
        assert_eq!(limits.step(4, 3), 3);
        assert_eq!(limits.step(7, 7), 7);
        // 25 % of 10 = 2.5 -> 2 instances.
        let quarter = StepLimits {
            percent: 25,
            instances: 10,
        };
        assert_eq!(quarter.step(10, 20), 12);
    }

    #[test]
    fn the_engine_applies_one_step_and_records_the_full_target() {
        let r = with_action(scale_up(), RecommendationType::ScaleUp, 9);
        let stepped = Policy {
            step: StepLimits {
                percent: 50,
                instances: 10,
            },
            ..policy()
        };
        let verdict = decide(
            &r,
            now(),
            &GroupNow {
                group: Some(&group()),
                activity: None,
                busy_with: None,
                newest_schedule: None,
            },
            &stepped,
        );
        assert_eq!(
            verdict,
            Verdict::Apply {
                from: 4,
                to: 6,
                target: 9
            }
        );
    }

    #[test]
    fn a_scale_up_waits_until_enough_consecutive_analyses_found_it() {
        let persistent = Policy {
            persistence: PersistenceRule {
                high: 1,
                medium: 2,
                low: 3,
            },
            ..policy()
        };
        let decide_at = |priority: Priority, found: Option<u32>| {
            let mut r = scale_up();
            r.priority = priority;
            r.persistence = found.map(|n| fleetopt_model::Persistence {
                consecutive_analyses: n,
                required: persistent.persistence.required(priority),
            });
            decide(
                &r,
                now(),
                &GroupNow {
                    group: Some(&group()),
                    activity: None,
                    busy_with: None,
                    newest_schedule: None,
                },
                &persistent,
            )
        };
        let applied = Verdict::Apply {
            from: 4,
            to: 5,
            target: 5,
        };
        // HIGH acts at once, even on an item written before persistence was counted.
        assert_eq!(decide_at(Priority::High, None), applied);
        assert_eq!(decide_at(Priority::High, Some(1)), applied);
        // MEDIUM needs 2: the first analysis waits, the second acts.
        assert!(matches!(
            decide_at(Priority::Medium, Some(1)),
            Verdict::Wait(m) if m == "persistence: found in 1 consecutive analysis(es), 2 \
                required for MEDIUM before it is applied automatically; the next analysis \
                counts again"
        ));
        assert_eq!(decide_at(Priority::Medium, Some(2)), applied);
        assert!(matches!(
            decide_at(Priority::Low, Some(2)),
            Verdict::Wait(_)
        ));
        assert_eq!(decide_at(Priority::Low, Some(3)), applied);
    }

    #[test]
    fn an_excluded_group_gets_no_scale_change_even_approved() {
        let g = GroupInfo {
            exclusions: fleetopt_model::Exclusions::of_tag(Some("SCALE_UP")),
            ..group()
        };
        assert!(matches!(
            decide_with(&scale_up(), &g, None),
            Verdict::Fail(m) if m == "web is excluded from SCALE_UP: tagged \
                fleet-optimizer:exclude=SCALE_UP"
        ));
        let mut approved = with_action(scale_up(), RecommendationType::ScaleDown, 3);
        approve(&mut approved);
        let all = GroupInfo {
            exclusions: fleetopt_model::Exclusions::of_tag(Some("all")),
            ..group()
        };
        assert!(matches!(
            decide_with(&approved, &all, None),
            Verdict::Fail(_)
        ));
    }

    proptest::proptest! {
        #[test]
        fn a_step_never_exceeds_either_limit_nor_crosses_min_or_max(
            percent in 1u32..=100,
            instances in 1u32..=50,
            min in 0u32..=20,
            span in 0u32..=200,
            desired_at in 0u32..=200,
            recommended in 0u32..=400,
            up in proptest::bool::ANY,
        ) {
            let max = min + span;
            let desired = min + desired_at.min(span);
            let g = GroupInfo { min_size: min, max_size: max, desired, in_service: desired,
                healthy: desired, ..group() };
            let kind = if up { RecommendationType::ScaleUp } else { RecommendationType::ScaleDown };
            let mut r = with_action(scale_up(), kind, recommended);
            r.implementation.action = Some(Action::SetDesiredCapacity { from: desired, to: recommended });
            approve(&mut r);
            let limits = StepLimits { percent, instances };
            let p = Policy { step: limits, ..policy() };
            let verdict = decide(&r, now(), &GroupNow { group: Some(&g), activity: None,
                busy_with: None, newest_schedule: None }, &p);
            if let Verdict::Apply { from, to, target } = verdict {
                proptest::prop_assert_eq!(from, desired);
                proptest::prop_assert!((min..=max).contains(&to), "{} outside [{}, {}]", to, min, max);
                proptest::prop_assert!((min..=max).contains(&target));
                let moved = to.abs_diff(from);
                proptest::prop_assert!(moved >= 1);
                proptest::prop_assert!(moved <= instances);
                proptest::prop_assert!(moved == 1 || u64::from(moved) * 100 <= u64::from(desired) * u64::from(percent));
                // Never past the target, and in its direction.
                proptest::prop_assert!(to.abs_diff(target) < from.abs_diff(target) || to == target);
            }
        }
    }

    #[test]
    fn scale_up_never_exceeds_max_size() {
        let r = with_action(scale_up(), RecommendationType::ScaleUp, 14);
        let g = GroupInfo {
            max_size: 6,
            ..group()
        };
        assert_eq!(
            decide_with(&r, &g, None),
            Verdict::Apply {
                from: 4,
                to: 6,
                target: 6
            }
        );
        let at_max = GroupInfo {
            desired: 6,
            in_service: 6,
            healthy: 6,
            ..g
        };
        assert!(
            matches!(decide_with(&r, &at_max, None), Verdict::Fail(m) if m.contains("max size 6"))
        );
    }

    #[test]
    fn nothing_scales_down_without_approval() {
        let r = with_action(scale_up(), RecommendationType::ScaleDown, 2);
        assert!(matches!(
            decide_with(&r, &group(), None),
            Verdict::AskApproval(_)
        ));
        for kind in [
            RecommendationType::InstanceTypeChange,
            RecommendationType::PerformanceTuning,
            RecommendationType::CostOptimization,
        ] {
            let mut other = scale_up();
            other.kind = kind;
            assert!(
                matches!(decide_with(&other, &group(), None), Verdict::AskApproval(_)),
                "{kind}"
            );
        }
    }

    #[test]
    fn without_automation_a_scale_up_waits_for_approval_too() {
        let off = Policy {
            automation_enabled: false,
            ..policy()
        };
        let g = group();
        let here = GroupNow {
            group: Some(&g),
            activity: None,
            busy_with: None,
            newest_schedule: None,
        };
        assert!(
            matches!(decide(&scale_up(), now(), &here, &off), Verdict::AskApproval(m) if m.contains("disabled"))
        );
        let mut manual = scale_up();
        manual.implementation.automated = false;
        assert!(matches!(
            decide(&manual, now(), &here, &policy()),
            Verdict::AskApproval(_)
        ));
    }

    #[test]
    fn an_approved_scale_down_goes_no_further_than_recommended_nor_below_min_size() {
        let mut r = with_action(scale_up(), RecommendationType::ScaleDown, 3);
        approve(&mut r);
        assert_eq!(
            decide_with(&r, &group(), None),
            Verdict::Apply {
                from: 4,
                to: 3,
                target: 3
            }
        );
        let below_min = with_action(r.clone(), RecommendationType::ScaleDown, 1);
        assert_eq!(
            decide_with(&below_min, &group(), None),
            Verdict::Apply {
                from: 4,
                to: 2,
                target: 2
            }
        );
        let already = GroupInfo {
            desired: 3,
            in_service: 3,
            healthy: 3,
            ..group()
        };
        // Re-checked: the group is already there. Closed as obsolete, not applied.
        assert!(
            matches!(decide_with(&r, &already, None), Verdict::Obsolete(m) if m.contains("already 3"))
        );
    }

    #[test]
    fn the_change_window_holds_scale_downs_and_schedules_but_not_scale_ups() {
        // 02:00-04:00 UTC on Sundays; now is Monday 10:05. Approvals must outlive the wait
        // (FLEETOPT_APPROVAL_MAX_AGE_HOURS up to a week).
        let windowed = Policy {
            change_window: Some(ChangeWindow::new("0 2 * * SUN", 120).unwrap()),
            capacity_approval_max_age: Duration::days(7),
            ..policy()
        };
        let decide_in = |r: &Recommendation, at: DateTime<Utc>| {
            decide(
                r,
                at,
                &GroupNow {
                    group: Some(&group()),
                    activity: None,
                    busy_with: None,
                    newest_schedule: None,
                },
                &windowed,
            )
        };
        let mut down = with_action(scale_up(), RecommendationType::ScaleDown, 3);
        approve(&mut down);
        assert_eq!(
            decide_in(&down, now()),
            Verdict::Wait(
                "waits for the change window (0 2 * * SUN UTC for 120 minutes): runs at \
                 2026-11-29T02:00:00Z (then sets desired capacity 4 -> 3)"
                    .into()
            )
        );
        let mut up = scale_up();
        approve(&mut up);
        assert!(
            matches!(decide_in(&up, now()), Verdict::Apply { to: 5, .. }),
            "a scale-up relieves pressure: no window"
        );
        let mut schedule = fleetopt_ports::fakes::contract::scheduled_sample("web", 9);
        approve(&mut schedule);
        assert!(
            matches!(decide_in(&schedule, now()), Verdict::Wait(m) if m.contains("then puts fleetopt-quiet"))
        );
        // Inside the window (an approval valid for the two weeks it waits).
        let sunday = Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).unwrap();
        for r in [&mut down, &mut schedule] {
            if let Some(a) = r.approval.as_mut() {
                a.expires_at = fleetopt_model::rfc3339(sunday + Duration::hours(1));
            }
        }
        assert!(matches!(
            decide_in(&down, sunday),
            Verdict::Apply { to: 3, .. }
        ));
        assert!(matches!(
            decide_in(&schedule, sunday),
            Verdict::Schedule { ends_at, .. } if ends_at == sunday + SCHEDULE_LIFETIME
        ));
    }

    #[test]
    fn a_schedule_for_other_sizes_than_the_groups_is_obsolete_and_an_applied_one_retires() {
        let mut schedule = fleetopt_ports::fakes::contract::scheduled_sample("web", 9);
        approve(&mut schedule);
        let resized = GroupInfo {
            max_size: 8,
            ..group()
        };
        assert!(matches!(
            decide_with(&schedule, &resized, None),
            Verdict::Obsolete(m) if m.contains("now has min 2 and max 8")
        ));
        let mut applied = schedule.clone();
        applied.status = Status::Completed;
        applied.execution = Some(Execution {
            scheduled_actions: vec!["fleetopt-quiet".into(), "fleetopt-busy".into()],
            schedule_ends_at: Some(fleetopt_model::rfc3339(now() + Duration::days(1))),
            ..Execution::default()
        });
        let at = |when, newest| {
            decide(
                &applied,
                when,
                &GroupNow {
                    group: Some(&group()),
                    activity: None,
                    busy_with: None,
                    newest_schedule: newest,
                },
                &policy(),
            )
        };
        assert!(
            matches!(at(now(), Some(applied.id.as_str())), Verdict::Ignore(m) if m.starts_with("schedule in force until"))
        );
        assert!(matches!(
            at(now(), Some("rec-newer")),
            Verdict::Unschedule {
                to: Status::Superseded,
                remove: false,
                ..
            }
        ));
        assert!(matches!(
            at(now() + Duration::days(1), None),
            Verdict::Unschedule {
                to: Status::Expired,
                remove: true,
                ..
            }
        ));
    }

    #[test]
    fn approvals_expire_and_an_approval_without_proof_is_refused() {
        let mut r = with_action(scale_up(), RecommendationType::ScaleDown, 2);
        approve(&mut r);
        // A week after its analysis: expired, never applied.
        let week = now() + Duration::days(7);
        assert!(matches!(
            decide(&r, week, &GroupNow { group: Some(&group()), activity: None, busy_with: None, newest_schedule: None }, &policy()),
            Verdict::Expire(m) if m.contains("expired approval")
        ));
        // Six hours after the analysis window, awaiting approval: expired too.
        let mut waiting = r.clone();
        waiting.status = Status::AwaitingApproval;
        waiting.approval = None;
        let late = r.analysis_window.end + Duration::hours(6);
        let here = GroupNow {
            group: Some(&group()),
            activity: None,
            busy_with: None,
            newest_schedule: None,
        };
        assert!(matches!(
            decide(&waiting, late, &here, &policy()),
            Verdict::Expire(_)
        ));
        assert!(matches!(
            decide(&waiting, now(), &here, &policy()),
            Verdict::Ignore(_)
        ));
        // A cost item keeps 14 days.
        let mut cost = waiting.clone();
        cost.kind = RecommendationType::CostOptimization;
        cost.implementation.action = None;
        assert!(matches!(
            decide(&cost, late, &here, &policy()),
            Verdict::Ignore(_)
        ));
        // APPROVED written straight to the table: no signed approval, not applied.
        let mut forged = r.clone();
        forged.approval = None;
        assert!(matches!(
            decide_with(&forged, &group(), None),
            Verdict::Fail(m) if m.contains("without a signed approval")
        ));
    }

    #[test]
    fn an_automated_scale_up_the_analyzer_did_not_sign_is_refused() {
        let mut forged = scale_up();
        forged.attestation = None;
        assert!(matches!(
            decide_with(&forged, &group(), None),
            Verdict::Fail(m) if m.contains("not signed by the analyzer")
        ));
    }

    #[test]
    fn an_approved_type_change_completes_once_the_group_runs_the_new_type() {
        let mut r = scale_up();
        r.kind = RecommendationType::InstanceTypeChange;
        r.implementation.action = None;
        r.evidence.instance_type = Some("m5.large".into());
        r.evidence.suggested_instance_type = Some("m6g.large".into());
        approve(&mut r);
        assert!(matches!(
            decide_with(&r, &group(), None),
            Verdict::Ignore(_)
        ));
        let moved = GroupInfo {
            instance_type: Some("m6g.large".into()),
            ..group()
        };
        assert!(matches!(
            decide_with(&r, &moved, None),
            Verdict::Complete(m) if m.contains("now runs m6g.large (was m5.large)")
        ));
    }

    #[test]
    fn an_approved_change_of_another_kind_is_left_to_a_person() {
        let mut r = scale_up();
        r.kind = RecommendationType::InstanceTypeChange;
        r.implementation.action = None;
        approve(&mut r);
        assert!(
            matches!(decide_with(&r, &group(), None), Verdict::Ignore(m) if m.contains("person"))
        );
    }

    #[test]
    fn a_group_mid_activity_or_in_cooldown_waits() {
        assert!(matches!(
            decide_with(&scale_up(), &group(), Some(&activity(ActivityStatus::InProgress, 0))),
            Verdict::Wait(m) if m.contains("act-1 is in progress")
        ));
        // Ended 4 minutes ago, 300 s cooldown: until 10:06.
        assert_eq!(
            decide_with(
                &scale_up(),
                &group(),
                Some(&activity(ActivityStatus::Successful, 4))
            ),
            Verdict::Wait(
                "cooldown: the last scaling activity ended at 2026-11-23T10:01:00Z, the 300 s \
                 cooldown runs until 2026-11-23T10:06:00Z"
                    .into()
            )
        );
        let short = Policy {
            cooldown_override_seconds: Some(60),
            ..policy()
        };
        let g = group();
        let done = activity(ActivityStatus::Successful, 4);
        let here = GroupNow {
            group: Some(&g),
            activity: Some(&done),
            busy_with: None,
            newest_schedule: None,
        };
        assert_eq!(
            decide(&scale_up(), now(), &here, &short),
            Verdict::Apply {
                from: 4,
                to: 5,
                target: 5
            }
        );
    }

    #[test]
    fn fewer_than_half_healthy_waits_and_exactly_half_passes() {
        let sick = GroupInfo {
            healthy: 1,
            ..group()
        };
        assert!(
            matches!(decide_with(&scale_up(), &sick, None), Verdict::Wait(m) if m.contains("only 1 of 4"))
        );
        let half = GroupInfo {
            healthy: 2,
            ..group()
        };
        assert_eq!(
            decide_with(&scale_up(), &half, None),
            Verdict::Apply {
                from: 4,
                to: 5,
                target: 5
            }
        );
    }

    #[test]
    fn another_change_in_progress_on_the_group_waits() {
        let g = group();
        let here = GroupNow {
            group: Some(&g),
            activity: None,
            busy_with: Some("rec-other"),
            newest_schedule: None,
        };
        assert!(
            matches!(decide(&scale_up(), now(), &here, &policy()), Verdict::Wait(m) if m.contains("rec-other"))
        );
    }

    #[test]
    fn stale_pending_items_expire_and_untargeted_groups_are_left_alone() {
        let late = now() + Duration::hours(3);
        let g = group();
        let here = GroupNow {
            group: Some(&g),
            activity: None,
            busy_with: None,
            newest_schedule: None,
        };
        assert!(
            matches!(decide(&scale_up(), late, &here, &policy()), Verdict::Expire(m) if m.contains("2026-11-23T12:00:00Z"))
        );
        let gone = GroupNow {
            group: None,
            activity: None,
            busy_with: None,
            newest_schedule: None,
        };
        assert!(
            matches!(decide(&scale_up(), now(), &gone, &policy()), Verdict::Ignore(m) if m.contains("not among the targeted"))
        );
    }

    #[test]
    fn an_account_wide_cost_finding_goes_to_approval_without_a_group() {
        let mut r = scale_up();
        r.kind = RecommendationType::CostOptimization;
        r.implementation.action = None;
        r.auto_scaling_group_name = "account:savings-plans".into();
        let none = GroupNow {
            group: None,
            activity: None,
            busy_with: None,
            newest_schedule: None,
        };
        assert!(matches!(
            decide(&r, now(), &none, &policy()),
            Verdict::AskApproval(_)
        ));
    }

    #[test]
    fn final_statuses_need_nothing() {
        for status in [
            Status::Completed,
            Status::Superseded,
            Status::Rejected,
            Status::AwaitingApproval,
        ] {
            let mut r = scale_up();
            r.status = status;
            assert!(
                matches!(decide_with(&r, &group(), None), Verdict::Ignore(_)),
                "{status}"
            );
        }
    }

    fn in_progress(applied_minutes_ago: i64) -> Recommendation {
        let mut r = scale_up();
        r.status = Status::InProgress;
        r.status_history.push(fleetopt_model::StatusChange {
            from: Some(Status::Pending),
            to: Status::InProgress,
            at: time(now() - Duration::minutes(applied_minutes_ago)),
            by: crate::engine::ACTOR.into(),
            reason: None,
        });
        r.execution = Some(Execution {
            previous_capacity: 4,
            new_capacity: 5,
            applied_at: time(now() - Duration::minutes(applied_minutes_ago)),
            activity_id: None,
            target_capacity: None,
            ..Execution::default()
        });
        r
    }

    fn scaled(in_service: u32, healthy: u32) -> GroupInfo {
        GroupInfo {
            desired: 5,
            in_service,
            healthy,
            ..group()
        }
    }

    #[test]
    fn a_change_that_reached_its_size_healthy_completes() {
        assert!(matches!(
            decide_with(&in_progress(3), &scaled(5, 5), None),
            Verdict::Complete(_)
        ));
    }

    #[test]
    fn unhealthy_new_instances_after_the_grace_period_are_rolled_back() {
        // Within the 300 s grace period: wait.
        assert!(matches!(
            decide_with(&in_progress(3), &scaled(5, 4), None),
            Verdict::Wait(_)
        ));
        assert_eq!(
            decide_with(&in_progress(6), &scaled(5, 4), None),
            Verdict::RollBack {
                restore: 4,
                reason: "1 of 5 in-service instances are unhealthy after the 300 s health-check \
                         grace period"
                    .into()
            }
        );
    }

    #[test]
    fn a_failed_activity_or_a_size_never_reached_is_rolled_back() {
        let failed = ScalingActivity {
            start: now() - Duration::minutes(1),
            ..activity(ActivityStatus::Failed, 0)
        };
        assert!(matches!(
            decide_with(&in_progress(2), &scaled(4, 4), Some(&failed)),
            Verdict::RollBack { restore: 4, reason } if reason.contains("act-1 failed")
        ));
        // An older failed activity is not this change's.
        let older = activity(ActivityStatus::Failed, 30);
        assert!(matches!(
            decide_with(&in_progress(2), &scaled(4, 4), Some(&older)),
            Verdict::Wait(_)
        ));
        assert!(matches!(
            decide_with(&in_progress(16), &scaled(4, 4), None),
            Verdict::RollBack { reason, .. } if reason.contains("did not reach 5")
        ));
    }

    #[test]
    fn a_group_someone_else_resized_is_not_fought_over() {
        let resized = GroupInfo {
            desired: 8,
            ..scaled(5, 5)
        };
        assert!(matches!(
            decide_with(&in_progress(20), &resized, None),
            Verdict::Fail(m) if m.contains("someone else")
        ));
        // Even when the engine's own activity failed: the later change is someone else's.
        let failed = ScalingActivity {
            start: now() - Duration::minutes(1),
            ..activity(ActivityStatus::Failed, 0)
        };
        assert!(matches!(
            decide_with(&in_progress(2), &resized, Some(&failed)),
            Verdict::Fail(m) if m.contains("someone else")
        ));
    }

    #[test]
    fn a_rollback_moves_at_most_one_step_and_only_the_engines_own_change() {
        let mut big = in_progress(16);
        big.execution.as_mut().unwrap().previous_capacity = 2;
        big.execution.as_mut().unwrap().new_capacity = 10;
        let at_ten = GroupInfo {
            desired: 10,
            in_service: 3,
            healthy: 3,
            ..group()
        };
        let halves = Policy {
            step: StepLimits {
                percent: 50,
                instances: 3,
            },
            ..policy()
        };
        let here = GroupNow {
            group: Some(&at_ten),
            activity: None,
            busy_with: None,
            newest_schedule: None,
        };
        assert!(matches!(
            decide(&big, now(), &here, &halves),
            Verdict::RollBack { restore: 7, .. }
        ));
        let mut foreign = in_progress(2);
        foreign.status_history.pop();
        assert!(matches!(
            decide_with(&foreign, &scaled(5, 5), None),
            Verdict::Fail(m) if m.contains("not claimed by the engine")
        ));
    }

    #[test]
    fn a_change_in_progress_past_the_bound_is_closed() {
        assert!(matches!(
            decide_with(&in_progress(121), &scaled(4, 4), None),
            Verdict::Fail(m) if m.contains("still IN_PROGRESS")
        ));
    }

    #[test]
    fn ranking_is_high_first_then_newest() {
        let mut low = sample("a", 9);
        low.priority = Priority::Low;
        let high_old = sample("b", 7);
        let high_new = sample("c", 8);
        let mut all = [low.clone(), high_old.clone(), high_new.clone()];
        all.sort_by(rank);
        let order: Vec<&str> = all
            .iter()
            .map(|r| r.auto_scaling_group_name.as_str())
            .collect();
        assert_eq!(order, ["c", "b", "a"]);
    }
}
