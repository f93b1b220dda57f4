//! `fleetopt approve`, `reject`, `snooze` and `done`: a person's decision on a recommendation,
//! written as one conditional status change that records who (the caller's AWS identity), when
//! and why (docs/design.md and docs/cli.md). An approval is also signed with the environment's
//! approvals key (KMS): the engine acts only on approvals whose signature verifies.

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Duration, Utc};
use fleetopt_aws::{DynamoRecommendationStore, KmsKeys};
use fleetopt_config::{default_key_alias, default_table_name};
use fleetopt_model::{
    Approval, Recommendation, RecommendationType, Status, can_transition, rfc3339,
};
use fleetopt_ports::{
    FleetControl, FleetDirectory, GroupSelector, RecommendationStore, Signer, StoreError,
    Transition, sign_approval,
};

use crate::cli::{
    ApproveArgs, DecisionOptions, DoneArgs, Global, Output, RejectArgs, RollbackArgs, SnoozeArgs,
};
use crate::terminal::printable;

/// What a person decides about a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Approve,
    Reject,
    /// Set it aside until then.
    Snooze(DateTime<Utc>),
    /// Carried out by hand.
    Done,
    /// An applied schedule undone: its scheduled actions removed.
    RollBack,
}

/// How long an approval may be acted on when `--valid-for` is not given: a capacity change
/// soon (the group moves on), anything else in the time a person needs to carry it out. The
/// engine's own limits (FLEETOPT_APPROVAL_MAX_AGE_HOURS and _MANUAL_APPROVAL_MAX_AGE_DAYS,
/// counted from the analysis) apply as well.
pub fn default_validity(r: &Recommendation) -> Duration {
    if r.scale_change().is_some() {
        Duration::hours(6)
    } else {
        Duration::days(14)
    }
}

impl Decision {
    /// The status the decision moves the recommendation to.
    fn status(self) -> Status {
        match self {
            Decision::Approve => Status::Approved,
            Decision::Reject => Status::Rejected,
            Decision::Snooze(_) => Status::Snoozed,
            Decision::Done => Status::Completed,
            Decision::RollBack => Status::RolledBack,
        }
    }

    /// The verb, as the command is named.
    fn verb(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Snooze(_) => "snooze",
            Decision::Done => "mark done",
            Decision::RollBack => "roll back",
        }
    }

    /// The verb's past participle.
    fn done(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
            Decision::Snooze(_) => "snoozed",
            Decision::Done => "marked done",
            Decision::RollBack => "rolled back",
        }
    }

    /// The statuses it can be taken from, as a phrase.
    fn allowed_from(self) -> String {
        match self {
            Decision::Approve | Decision::Reject => {
                format!("that awaits approval ({})", Status::AwaitingApproval)
            }
            Decision::Snooze(_) => format!(
                "that is {}, {} or {}",
                Status::Pending,
                Status::AwaitingApproval,
                Status::Approved
            ),
            Decision::Done => format!(
                "{} for a person to carry out (not a SCALE_UP or SCALE_DOWN, which the engine \
                 applies and completes)",
                Status::Approved
            ),
            Decision::RollBack => format!(
                "that is {}, a SCHEDULED_SCALING whose scheduled actions the engine put,",
                Status::Completed
            ),
        }
    }
}

#[cfg(test)]
impl Decision {
    /// `r` after this decision, for rendering in tests.
    fn status_of(self, r: &Recommendation) -> Recommendation {
        Transition::new(
            self.status(),
            fleetopt_ports::fakes::contract::now(),
            "test",
        )
        .apply_to(r)
        .unwrap_or_else(|_| r.clone())
    }
}

/// How an approval is signed: with which key, for how long.
struct Signing<'a> {
    key: &'a str,
    valid_for: Option<Duration>,
}

/// Runs `fleetopt approve`.
pub async fn approve(global: &Global, args: &ApproveArgs) -> Result<()> {
    let key = args
        .approval_key
        .clone()
        .unwrap_or_else(|| default_key_alias(&global.application, global.environment, "approvals"));
    decide(
        global,
        &args.id,
        Decision::Approve,
        args.note.as_deref(),
        &args.options,
        Utc::now(),
        Some(Signing {
            key: &key,
            valid_for: args.valid_for,
        }),
    )
    .await
}

/// Runs `fleetopt done`.
pub async fn done(global: &Global, args: &DoneArgs) -> Result<()> {
    decide(
        global,
        &args.id,
        Decision::Done,
        Some(&args.note),
        &args.options,
        Utc::now(),
        None,
    )
    .await
}

/// Runs `fleetopt reject`.
pub async fn reject(global: &Global, args: &RejectArgs) -> Result<()> {
    decide(
        global,
        &args.id,
        Decision::Reject,
        Some(&args.reason),
        &args.options,
        Utc::now(),
        None,
    )
    .await
}

/// Runs `fleetopt rollback`: removes an applied schedule's scheduled actions (after checking
/// they are still this recommendation's), brings the group back to the schedule's busy
/// capacity when the quiet window has it lower, then ROLLED_BACK.
pub async fn rollback(global: &Global, args: &RollbackArgs) -> Result<()> {
    decide(
        global,
        &args.id,
        Decision::RollBack,
        Some(&args.reason),
        &args.options,
        Utc::now(),
        None,
    )
    .await
}

/// Undoes the schedule `r` put on its group: refused when the group's scheduled actions of
/// those names are not `r`'s (a newer schedule replaced them, or someone changed them). What
/// was done, in words.
async fn undo_schedule<F>(fleet: &F, r: &Recommendation) -> Result<String>
where
    F: FleetDirectory + FleetControl + Sync,
{
    let group = &r.auto_scaling_group_name;
    if let Some(account) = &r.account_id {
        bail!(
            "{group} is in account {account} ({}): roll it back with that account's credentials \
             on its group, or let the engine's sweep expire it",
            r.region.as_deref().unwrap_or("?")
        );
    }
    let (Some(schedule), Some(execution)) = (&r.evidence.schedule, &r.execution) else {
        bail!("recommendation {} has no schedule to roll back", r.id);
    };
    let found = fleet
        .scheduled_actions(&execution.scheduled_actions)
        .await
        .context("reading the group's scheduled actions (DescribeScheduledActions)")?;
    let on_group = fleetopt_snapshot::windows_of(group, &found);
    let ours = |w: &fleetopt_scoring::ScheduledWindow| {
        schedule.actions.iter().any(|a| {
            a.name == w.name
                && a.recurrence == w.recurrence
                && a.desired_capacity == w.desired_capacity
        })
    };
    if let Some(other) = on_group.iter().find(|w| !ours(w)) {
        bail!(
            "{group}'s scheduled action {} ({}, desired {}) is not this recommendation's: a \
             newer schedule replaced it, or someone changed it; nothing was removed",
            other.action_name(),
            other.recurrence,
            other.desired_capacity
        );
    }
    let failed = fleet
        .delete_scheduled_actions(group, &execution.scheduled_actions)
        .await
        .context("removing the scheduled actions (BatchDeleteScheduledAction)")?;
    if let Some(f) = failed.first() {
        bail!(
            "Auto Scaling did not remove {} ({}: {}); nothing was recorded: run the rollback again",
            f.name,
            f.code,
            f.message
        );
    }
    let mut done = format!(
        "removed {} from {group}",
        execution.scheduled_actions.join(", ")
    );
    let now = fleet
        .groups(&GroupSelector::Names(vec![group.clone()]))
        .await
        .context("reading the group (DescribeAutoScalingGroups)")?;
    if let Some(g) = now.first().filter(|g| g.desired < schedule.busy_capacity) {
        let to = schedule.busy_capacity.min(g.max_size);
        fleet
            .set_desired_capacity(group, to, false)
            .await
            .context("restoring the busy capacity (SetDesiredCapacity)")?;
        done.push_str(&format!(
            "; desired capacity {} -> {to} (the quiet window's capacity undone)",
            g.desired
        ));
    }
    Ok(done)
}

/// Runs `fleetopt snooze`: until now + `--for`, one clock reading for both.
pub async fn snooze(global: &Global, args: &SnoozeArgs) -> Result<()> {
    let now = Utc::now();
    decide(
        global,
        &args.id,
        Decision::Snooze(now + args.duration),
        Some(&args.reason),
        &args.options,
        now,
        None,
    )
    .await
}

async fn decide(
    global: &Global,
    id: &str,
    decision: Decision,
    reason: Option<&str>,
    options: &DecisionOptions,
    now: DateTime<Utc>,
    signing: Option<Signing<'_>>,
) -> Result<()> {
    let table = options
        .table
        .clone()
        .unwrap_or_else(|| default_table_name(&global.application, global.environment));
    let config = global.sdk_config().await;
    let store = DynamoRecommendationStore::from_config(&config, &table);
    // Who is asked of STS while the item is read: two calls at once, then one write.
    let (caller, current) = tokio::join!(fleetopt_aws::caller_arn(&config), store.get(id));
    let current = current
        .with_context(|| format!("reading recommendation {id} from table {table}"))?
        .ok_or_else(|| anyhow!("recommendation {id} not found in table {table}"))?;
    let caller = caller.context(
        "could not tell who you are (every status change records the caller's AWS identity)",
    )?;
    let by = who(&caller, options.actor.as_deref());
    if let Some(refusal) = refusal(&current, decision) {
        bail!(refusal);
    }
    let approval = match signing {
        Some(signing) => Some(
            sign(
                &KmsKeys::new(fleetopt_aws::KmsClient::new(&config)),
                &signing,
                &current,
                &caller,
                now,
            )
            .await?,
        ),
        None => None,
    };
    // The group first: a rollback whose removal fails records nothing, and is run again.
    let undone = if decision == Decision::RollBack {
        let clients = fleetopt_aws::Clients::new(&config);
        Some(undo_schedule(&clients.fleet(), &current).await?)
    } else {
        None
    };
    let reason = match (&undone, reason) {
        (Some(done), Some(why)) => Some(format!("{why} ({done})")),
        (_, why) => why.map(str::to_owned),
    };
    let reason = reason.as_deref();
    let mut transition = match decision {
        Decision::Snooze(until) => Transition::snooze(until, now, &by),
        _ => Transition::new(decision.status(), now, &by),
    };
    if let Some(approval) = &approval {
        transition = transition.approving(approval);
    }
    if let Some(reason) = reason {
        transition = transition.because(reason);
    }
    let stored = match store.transition(&current, &transition).await {
        Ok(stored) => stored,
        Err(StoreError::Conflict { .. }) => {
            // Only to say what it became; the refusal stands whatever this read returns.
            let became = store.get(id).await.ok().flatten().map(|r| r.status);
            bail!(conflict(&current, decision, became));
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)).with_context(|| {
                format!(
                    "could not {} recommendation {id} in table {table}",
                    decision.verb()
                )
            });
        }
    };
    match global.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&stored)?),
        Output::Table => print!("{}", render(&stored, decision, &by, reason)),
    }
    Ok(())
}

/// Signs the approval of `current` by `caller` (one kms:Sign). A caller without kms:Sign on
/// the key is told what they lack.
async fn sign<K: Signer + Sync>(
    signer: &K,
    signing: &Signing<'_>,
    current: &Recommendation,
    caller: &str,
    now: DateTime<Utc>,
) -> Result<Approval> {
    let valid_for = signing
        .valid_for
        .unwrap_or_else(|| default_validity(current));
    sign_approval(signer, signing.key, current, caller, now, valid_for)
        .await
        .map_err(|e| {
            let hint = if e.code == "AccessDeniedException" {
                format!(
                    "you may not approve in this environment: approving is kms:Sign on {}, and \
                     your identity {caller} does not hold it (ask for the construct's approvers, \
                     docs/deploy.md)",
                    signing.key
                )
            } else if e.code == "NotFoundException" {
                format!(
                    "the approvals key {} does not exist here: deploy the stack, or give \
                     --approval-key / FLEETOPT_APPROVAL_KEY",
                    signing.key
                )
            } else {
                format!("could not sign the approval with {}", signing.key)
            };
            anyhow::Error::new(e).context(hint)
        })
}

/// What statusHistory records as who: the caller's ARN, after the name `--actor` gives.
fn who(caller_arn: &str, actor: Option<&str>) -> String {
    match actor {
        Some(name) => format!("{name} ({caller_arn})"),
        None => caller_arn.to_owned(),
    }
}

/// Why `current` cannot be decided on, if it cannot.
fn refusal(current: &Recommendation, decision: Decision) -> Option<String> {
    let (id, status, to) = (&current.id, current.status, decision.status());
    let allowed = match decision {
        Decision::Approve | Decision::Reject => status == Status::AwaitingApproval,
        Decision::Snooze(_) => can_transition(status, to),
        Decision::Done => {
            status == Status::Approved
                && current.scale_change().is_none()
                && current.kind != RecommendationType::ScheduledScaling
        }
        Decision::RollBack => {
            status == Status::Completed
                && current.kind == RecommendationType::ScheduledScaling
                && current
                    .execution
                    .as_ref()
                    .is_some_and(|e| !e.scheduled_actions.is_empty())
        }
    };
    if allowed {
        return None;
    }
    let already = if status != to {
        format!("is {status}")
    } else if let Some(until) = current.snooze.as_ref().map(|s| &s.until) {
        format!("is already {status} until {until}")
    } else {
        format!("is already {status}")
    };
    Some(format!(
        "recommendation {id} {already}: only a recommendation {} can be {}",
        decision.allowed_from(),
        decision.done()
    ))
}

/// The message for a conditional write that lost: someone else moved the item first.
fn conflict(current: &Recommendation, decision: Decision, became: Option<Status>) -> String {
    let became = became.map_or_else(String::new, |s| format!("; it is now {s}"));
    format!(
        "recommendation {} changed while it was being {}: someone else moved it first \
         (it was {}, version {}{became}); nothing was written",
        current.id,
        decision.done(),
        current.status,
        current.version
    )
}

/// What the table output says: what was decided, and what happens next.
fn render(r: &Recommendation, decision: Decision, actor: &str, reason: Option<&str>) -> String {
    let r = &crate::terminal::printable_recommendation(r);
    let (actor, reason) = (printable(actor), reason.map(printable));
    let reason = reason.as_deref();
    let mut text = format!(
        "{} {}: {} for group {} (priority {}), by {actor}",
        r.status, r.id, r.kind, r.auto_scaling_group_name, r.priority
    );
    match reason {
        Some(reason) => text.push_str(&format!(": {reason}\n")),
        None => text.push_str(".\n"),
    }
    match decision {
        Decision::RollBack => text.push_str(
            "ROLLED_BACK: the schedule no longer runs; the next cost analysis may propose another.\n",
        ),
        Decision::Reject => text.push_str("Nothing will be done for it.\n"),
        Decision::Done => text.push_str(
            "COMPLETED: recorded as carried out. The analyzer's next findings show its effect.\n",
        ),
        Decision::Snooze(until) => {
            let back = r
                .snooze
                .as_ref()
                .map_or(Status::Pending, |s| s.previous_status);
            text.push_str(&format!(
                "Until {}: nothing is applied for it and the same finding for this group is \
                 not written again. Then the engine's 15-minute sweep puts it back to {back}.\n",
                rfc3339(until)
            ));
        }
        Decision::Approve => {
            if let Some(approval) = &r.approval {
                text.push_str(&format!(
                    "Signed with {} by {}; valid until {}.\n",
                    approval.key_id, approval.by, approval.expires_at
                ));
            }
            match r.scale_change() {
                None if r.kind == RecommendationType::ScheduledScaling => text.push_str(&format!(
                    "Next: the optimization engine puts the scheduled actions in its next run \
                     (or change window): {}\nUndo it later with: fleetopt rollback {} --reason \
                     <why>\n",
                    r.evidence
                        .schedule
                        .as_ref()
                        .map(|s| crate::backtest::actions(s).join("; "))
                        .unwrap_or_default(),
                    r.id
                )),
                Some((from, to)) => text.push_str(&format!(
                    "Next: the optimization engine applies it on its next run (stream or \
                 15-minute sweep): desired capacity {from} -> {to}.\n"
                )),
                None if r.implementation.steps.is_empty() => text.push_str(&format!(
                    "APPROVED: carry out the change described: {}\n",
                    r.description
                )),
                None => {
                    text.push_str("APPROVED: carry out these steps\n");
                    for (n, step) in r.implementation.steps.iter().enumerate() {
                        text.push_str(&format!("  {}. {step}\n", n + 1));
                    }
                    text.push_str(&format!(
                        "When it is done: fleetopt done {} --note <what was done>\n",
                        r.id
                    ));
                }
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use fleetopt_model::{Action, RecommendationType};
    use fleetopt_ports::fakes::contract::{now, sample};

    fn awaiting() -> Recommendation {
        let r = sample("web", 7);
        Transition::new(Status::AwaitingApproval, now(), "analyzer")
            .apply_to(&r)
            .unwrap()
    }

    #[test]
    fn only_a_recommendation_awaiting_approval_can_be_decided() {
        let r = awaiting();
        assert_eq!(refusal(&r, Decision::Approve), None);
        assert_eq!(refusal(&r, Decision::Reject), None);
        let pending = sample("web", 7);
        let message = refusal(&pending, Decision::Approve).unwrap();
        assert_eq!(
            message,
            format!(
                "recommendation {} is PENDING: only a recommendation that awaits approval \
                 (AWAITING_APPROVAL) can be approved",
                pending.id
            )
        );
    }

    #[test]
    fn deciding_twice_says_it_is_already_decided() {
        let approved = Transition::new(Status::Approved, now(), "alice")
            .apply_to(&awaiting())
            .unwrap();
        let message = refusal(&approved, Decision::Approve).unwrap();
        assert!(message.contains("is already APPROVED"), "{message}");
        assert!(
            message.contains("(AWAITING_APPROVAL) can be approved"),
            "{message}"
        );
        let message = refusal(&approved, Decision::Reject).unwrap();
        assert!(message.contains("is APPROVED: only"), "{message}");
    }

    #[test]
    fn pending_awaiting_and_approved_can_be_snoozed_nothing_else() {
        let until = now() + chrono::Duration::days(7);
        let snooze = Decision::Snooze(until);
        let pending = sample("web", 7);
        let approved = Transition::new(Status::Approved, now(), "alice")
            .apply_to(&awaiting())
            .unwrap();
        for r in [&pending, &awaiting(), &approved] {
            assert_eq!(refusal(r, snooze), None, "{}", r.status);
        }
        let asleep = Transition::snooze(until, now(), "alice")
            .apply_to(&pending)
            .unwrap();
        let message = refusal(&asleep, snooze).unwrap();
        assert!(
            message.contains(&format!(
                "is already SNOOZED until {}",
                fleetopt_model::rfc3339(until)
            )),
            "{message}"
        );
        let rejected = Transition::new(Status::Rejected, now(), "bob")
            .apply_to(&awaiting())
            .unwrap();
        assert_eq!(
            refusal(&rejected, snooze).unwrap(),
            format!(
                "recommendation {} is REJECTED: only a recommendation that is PENDING, \
                 AWAITING_APPROVAL or APPROVED can be snoozed",
                rejected.id
            )
        );
    }

    #[test]
    fn only_an_approved_change_a_person_carries_out_can_be_marked_done() {
        let mut manual = awaiting();
        manual.kind = RecommendationType::InstanceTypeChange;
        manual.implementation.action = None;
        assert!(
            refusal(&manual, Decision::Done)
                .unwrap()
                .contains("is AWAITING_APPROVAL")
        );
        let approved = Transition::new(Status::Approved, now(), "alice")
            .apply_to(&manual)
            .unwrap();
        assert_eq!(refusal(&approved, Decision::Done), None);
        let scale = Transition::new(Status::Approved, now(), "alice")
            .apply_to(&awaiting())
            .unwrap();
        let message = refusal(&scale, Decision::Done).unwrap();
        assert!(message.contains("which the engine applies"), "{message}");
        let text = render(
            &Decision::Done.status_of(&approved),
            Decision::Done,
            "alice",
            Some("refreshed to m6g"),
        );
        assert!(text.contains("COMPLETED"), "{text}");
    }

    #[tokio::test]
    async fn an_approval_is_signed_for_its_type_and_a_caller_without_the_key_is_told_why() {
        use fleetopt_ports::fakes::FakeKeys;
        let keys = FakeKeys::holding(&["alias/app-production-approvals"]);
        let signing = Signing {
            key: "alias/app-production-approvals",
            valid_for: None,
        };
        let r = awaiting();
        let approval = sign(&keys, &signing, &r, "arn:aws:iam::1:user/ops", now())
            .await
            .unwrap();
        assert_eq!(approval.by, "arn:aws:iam::1:user/ops");
        assert_eq!(approval.version, r.version + 1);
        assert_eq!(approval.expires_at, rfc3339(now() + Duration::hours(6)));
        let message = fleetopt_model::approval_message(&r, &approval);
        let bytes = fleetopt_model::from_hex(&approval.signature).unwrap();
        use fleetopt_ports::Verifier;
        assert!(keys.verify(signing.key, &message, &bytes).await.unwrap());
        let err = sign(
            &FakeKeys::default(),
            &signing,
            &r,
            "arn:aws:iam::1:user/intern",
            now(),
        )
        .await
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("you may not approve in this environment"),
            "{text}"
        );
        assert!(text.contains("arn:aws:iam::1:user/intern"), "{text}");
    }

    #[test]
    fn who_is_the_callers_arn_after_the_name_given() {
        let arn = "arn:aws:sts::123456789012:assumed-role/ops/alice";
        assert_eq!(who(arn, None), arn);
        assert_eq!(
            who(arn, Some("alice")),
            "alice (arn:aws:sts::123456789012:assumed-role/ops/alice)"
        );
    }

    #[test]
    fn a_snooze_says_until_when_and_what_comes_after() {
        let until = now() + chrono::Duration::days(7);
        let r = Transition::snooze(until, now(), "arn:aws:iam::1:user/ops")
            .because("month-end batch")
            .apply_to(&awaiting())
            .unwrap();
        let text = render(
            &r,
            Decision::Snooze(until),
            "arn:aws:iam::1:user/ops",
            Some("month-end batch"),
        );
        assert!(
            text.starts_with(&format!("SNOOZED {}: SCALE_UP for group web", r.id)),
            "{text}"
        );
        assert!(
            text.ends_with(
                "by arn:aws:iam::1:user/ops: month-end batch\nUntil 2026-11-30T10:02:00Z: \
                 nothing is applied for it and the same finding for this group is not written \
                 again. Then the engine's 15-minute sweep puts it back to AWAITING_APPROVAL.\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_approved_scale_change_is_left_to_the_engine() {
        let r = Transition::new(Status::Approved, now(), "alice")
            .apply_to(&awaiting())
            .unwrap();
        let Some(Action::SetDesiredCapacity { from, to }) = r.implementation.action else {
            panic!("the sample is a scale-up with an action");
        };
        let text = render(&r, Decision::Approve, "alice", None);
        assert_eq!(
            text,
            format!(
                "APPROVED {}: SCALE_UP for group web (priority {}), by alice.\nNext: the \
                 optimization engine applies it on its next run (stream or 15-minute sweep): \
                 desired capacity {from} -> {to}.\n",
                r.id, r.priority
            )
        );
    }

    #[test]
    fn any_other_approved_type_lists_the_steps_to_carry_out() {
        let mut r = Transition::new(Status::Approved, now(), "alice")
            .apply_to(&awaiting())
            .unwrap();
        r.kind = RecommendationType::InstanceTypeChange;
        r.implementation.action = None;
        r.implementation.steps = vec!["Pick m5.xlarge".into(), "Start an instance refresh".into()];
        let text = render(&r, Decision::Approve, "alice", Some("after the sale"));
        assert!(
            text.ends_with(&format!(
                "by alice: after the sale\nAPPROVED: carry out these steps\n  1. Pick \
                 m5.xlarge\n  2. Start an instance refresh\nWhen it is done: fleetopt done \
                 {} --note <what was done>\n",
                r.id
            )),
            "{text}"
        );
        assert!(
            text.contains("INSTANCE_TYPE_CHANGE for group web"),
            "{text}"
        );
    }

    #[test]
    fn a_rejection_shows_the_reason_and_that_nothing_happens() {
        let r = Transition::new(Status::Rejected, now(), "alice")
            .because("peak season")
            .apply_to(&awaiting())
            .unwrap();
        let text = render(&r, Decision::Reject, "alice", Some("peak season"));
        assert!(
            text.starts_with(&format!("REJECTED {}: SCALE_UP", r.id)),
            "{text}"
        );
        assert!(
            text.ends_with("by alice: peak season\nNothing will be done for it.\n"),
            "{text}"
        );
    }

    #[test]
    fn a_lost_race_says_who_won_when_known() {
        let r = awaiting();
        let message = conflict(&r, Decision::Approve, Some(Status::Rejected));
        assert!(
            message.contains("someone else moved it first")
                && message.contains("it was AWAITING_APPROVAL, version 2; it is now REJECTED"),
            "{message}"
        );
        assert!(!conflict(&r, Decision::Reject, None).contains("it is now"));
    }

    /// `scheduled_sample("web", 9)` as the engine leaves it applied, and a fleet running it.
    async fn applied_schedule() -> (Recommendation, fleetopt_ports::fakes::FakeFleet) {
        let mut r = fleetopt_ports::fakes::contract::scheduled_sample("web", 9);
        r.status = Status::Completed;
        r.execution = Some(fleetopt_model::Execution {
            scheduled_actions: vec!["fleetopt-quiet".into(), "fleetopt-busy".into()],
            ..fleetopt_model::Execution::default()
        });
        let fleet = fleetopt_ports::fakes::FakeFleet::new([fleetopt_ports::fakes::group("web")]);
        let schedule = r.evidence.schedule.clone().unwrap();
        let actions: Vec<fleetopt_ports::ScheduledAction> = schedule
            .actions
            .iter()
            .map(|a| fleetopt_ports::ScheduledAction {
                group: "web".into(),
                name: format!("fleetopt-{}", a.name),
                recurrence: Some(a.recurrence.clone()),
                min_size: Some(a.min_size),
                max_size: Some(a.max_size),
                desired_capacity: Some(a.desired_capacity),
                end_time: None,
            })
            .collect();
        fleet.put_scheduled_actions("web", &actions).await.unwrap();
        (r, fleet)
    }

    #[tokio::test]
    async fn a_rollback_removes_the_schedule_and_undoes_the_quiet_capacity() {
        let (r, fleet) = applied_schedule().await;
        assert_eq!(refusal(&r, Decision::RollBack), None);
        assert!(refusal(&sample("web", 7), Decision::RollBack).is_some());
        // In the quiet window: 2 of the busy 4.
        fleet.set_group(fleetopt_ports::GroupInfo {
            desired: 2,
            ..fleetopt_ports::fakes::group("web")
        });
        let done = undo_schedule(&fleet, &r).await.unwrap();
        assert_eq!(
            done,
            "removed fleetopt-quiet, fleetopt-busy from web; desired capacity 2 -> 4 (the quiet \
             window's capacity undone)"
        );
        assert!(fleet.scheduled("web").is_empty());
        assert_eq!(fleet.calls(), vec![("web".to_owned(), 4, false)]);
    }

    #[tokio::test]
    async fn a_rollback_never_removes_another_schedules_actions() {
        let (r, fleet) = applied_schedule().await;
        let newer = fleetopt_ports::ScheduledAction {
            group: "web".into(),
            name: "fleetopt-quiet".into(),
            recurrence: Some("0 21 * * *".into()),
            min_size: Some(2),
            max_size: Some(10),
            desired_capacity: Some(3),
            end_time: None,
        };
        fleet.put_scheduled_actions("web", &[newer]).await.unwrap();
        let e = undo_schedule(&fleet, &r).await.unwrap_err().to_string();
        assert!(
            e.contains("fleetopt-quiet (0 21 * * *, desired 3) is not this recommendation's"),
            "{e}"
        );
        assert_eq!(fleet.scheduled("web").len(), 2, "nothing removed");
        assert!(fleet.calls().is_empty());
    }
}
