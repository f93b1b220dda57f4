//! One engine run: gather the recommendations the trigger names (stream records, or every open
//! one for the sweep), rank them, read the groups once, decide each with [`plan::decide`], and
//! carry the verdicts out with conditional writes; then notify, alert and publish the action
//! counts in one PutMetricData call. Generic over the ports, so tests run it on fakes and on
//! the emulator alike.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use fleetopt_config::{Config, FleetSelector};
use fleetopt_model::{Check, Execution, Recommendation, RecommendationType, Status, rfc3339};
use fleetopt_ports::{
    FleetControl, FleetDirectory, GroupInfo, GroupSelector, MetricDatum, MetricsPublisher,
    Notifier, RecommendationQuery, RecommendationStore, SCALING_ACTIVITY_IN_PROGRESS,
    ScalingActivity, ServiceError, StoreError, Transition,
};
use serde::Serialize;

use crate::event::{Change, EventError, Trigger};
use crate::plan::{self, GroupNow, Policy, StepLimits, Verdict};

/// Who the engine is in status histories.
pub const ACTOR: &str = "optimization-engine";

/// The capabilities a run needs.
#[derive(Debug, Clone)]
pub struct Deps<F, N, M, S> {
    /// The Auto Scaling groups: read and scaled.
    pub fleet: F,
    /// SNS.
    pub notifier: N,
    /// CloudWatch, for our metrics.
    pub metrics: M,
    /// The recommendations table.
    pub store: S,
}

/// What the engine did with one recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// Claimed and the desired capacity set.
    Applied,
    /// Moved to AWAITING_APPROVAL; a person was notified.
    AwaitingApproval,
    /// A check fails for now; it stays as it is and is tried again.
    Waiting,
    /// A check can never pass, or the change failed: FAILED.
    Failed,
    /// Too old: FAILED as expired.
    Expired,
    /// Nothing to do.
    Ignored,
    /// Verified: COMPLETED.
    Completed,
    /// Undone: ROLLED_BACK.
    RolledBack,
    /// Another invocation moved it first; nothing was done twice.
    AlreadyHandled,
    /// Its snooze ended: back to the status it had.
    Woken,
    /// A call failed; a stream record is retried, the sweep tries again.
    Error,
}

/// One decision, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The recommendation, when the record could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation_id: Option<String>,
    /// Its group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_scaling_group_name: Option<String>,
    /// Its type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<RecommendationType>,
    /// Its status before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// What was done.
    pub outcome: Outcome,
    /// Why.
    pub reason: String,
    /// The capacity change made (or, in a dry run, that would be made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_capacity: Option<CapacityChange>,
    /// The stream record, for stream triggers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
}

/// A desired capacity change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CapacityChange {
    /// Before.
    pub from: u32,
    /// After.
    pub to: u32,
}

/// A stream record to retry (Lambda's partial batch response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    /// The record's sequence number.
    pub item_identifier: String,
}

/// The engine's response: every decision, the counts, and for a stream the records to retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// The environment.
    pub environment: String,
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// `stream` or `sweep`.
    pub trigger: &'static str,
    /// One per recommendation or record, in the order they were handled.
    pub decisions: Vec<Decision>,
    /// Scale changes made.
    pub actions_applied: u32,
    /// Recommendations that failed (expiry aside).
    pub actions_failed: u32,
    /// Changes undone.
    pub actions_rolled_back: u32,
    /// The stream records Lambda should retry; empty for the sweep.
    pub batch_item_failures: Vec<BatchItemFailure>,
    /// AWS calls made, per API.
    pub aws_calls: BTreeMap<String, u64>,
}

/// Why an invocation could not do its job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The event is not one the engine accepts.
    #[error(transparent)]
    InvalidEvent(#[from] EventError),
    /// The groups could not be listed.
    #[error("discovering the Auto Scaling groups: {0}")]
    Discovery(ServiceError),
    /// The open recommendations could not be read.
    #[error("reading open recommendations: {0}")]
    Store(StoreError),
    /// The approval notification could not be sent; nothing was moved to AWAITING_APPROVAL.
    #[error("notifying approvers: {0}")]
    Notify(ServiceError),
    /// The rollback or failure alert could not be sent (the changes themselves are recorded).
    #[error("alerting about rollbacks and failures: {0}")]
    Alert(ServiceError),
    /// Our metrics could not be published.
    #[error("publishing ActionsApplied/ActionsFailed/ActionsRolledBack: {0}")]
    Publish(ServiceError),
}

impl EngineError {
    /// The fixed error type Lambda reports.
    pub fn error_type(&self) -> &'static str {
        let service = match self {
            EngineError::InvalidEvent(_) => return "InvalidEvent",
            EngineError::Store(StoreError::Throttled { .. }) => return "Throttled",
            EngineError::Store(_) => return "AwsServiceError",
            EngineError::Discovery(e)
            | EngineError::Notify(e)
            | EngineError::Alert(e)
            | EngineError::Publish(e) => e,
        };
        if service.is_throttling() {
            "Throttled"
        } else {
            "AwsServiceError"
        }
    }
}

/// The environment's rules, from the configuration.
pub fn policy(config: &Config) -> Policy {
    Policy {
        automation_enabled: config.settings.enable_auto_scaling_optimization,
        cooldown_override_seconds: config.scaling_cooldown_seconds,
        pending_lifetime: Duration::minutes(
            2 * i64::from(config.settings.analysis_interval_minutes),
        ),
        step: StepLimits {
            percent: config.controls.max_step_percent,
            instances: config.controls.max_step_instances,
        },
        persistence: config.controls.persistence,
    }
}

/// One recommendation to handle, with the stream record it came from.
struct Item {
    recommendation: Recommendation,
    sequence_number: Option<String>,
}

/// What the run has done so far.
#[derive(Default)]
struct Tally {
    decisions: Vec<Decision>,
    failed_records: Vec<String>,
    applied: BTreeMap<String, u32>,
    failed: BTreeMap<String, u32>,
    rolled_back: BTreeMap<String, u32>,
    approvals: Vec<(Recommendation, Option<String>, String)>,
    alerts: Vec<String>,
}

impl Tally {
    fn record(
        &mut self,
        item: &Item,
        outcome: Outcome,
        reason: String,
        desired_capacity: Option<CapacityChange>,
    ) {
        let r = &item.recommendation;
        let group = &r.auto_scaling_group_name;
        match outcome {
            Outcome::Applied => *self.applied.entry(group.clone()).or_default() += 1,
            Outcome::Failed => *self.failed.entry(group.clone()).or_default() += 1,
            Outcome::RolledBack => *self.rolled_back.entry(group.clone()).or_default() += 1,
            Outcome::Error => self.failed_records.extend(item.sequence_number.clone()),
            _ => {}
        }
        if matches!(outcome, Outcome::Failed | Outcome::RolledBack) {
            self.alerts.push(format!(
                "- {outcome:?} {} {} ({}): {reason}",
                r.kind, group, r.id
            ));
        }
        tracing::info!(id = %r.id, group = %group, kind = %r.kind, ?outcome, %reason, "decision");
        self.decisions.push(Decision {
            recommendation_id: Some(r.id.clone()),
            auto_scaling_group_name: Some(group.clone()),
            kind: Some(r.kind),
            status: Some(r.status),
            outcome,
            reason,
            desired_capacity,
            sequence_number: item.sequence_number.clone(),
        });
    }
}

/// Runs the engine for `trigger` at `now`.
pub async fn run<F, N, M, S>(
    config: &Config,
    deps: &Deps<F, N, M, S>,
    trigger: &Trigger,
    now: DateTime<Utc>,
) -> Result<Response, EngineError>
where
    F: FleetDirectory + FleetControl + Sync,
    N: Notifier + Sync,
    M: MetricsPublisher + Sync,
    S: RecommendationStore + Sync,
{
    let dry_run = config.dry_run || trigger.dry_run();
    let mut tally = Tally::default();
    let (items, in_progress) = match trigger {
        Trigger::Stream(records) => {
            let mut items = Vec::new();
            for record in records {
                match &record.change {
                    Ok(Change::Act(r)) => items.push(Item {
                        recommendation: (**r).clone(),
                        sequence_number: Some(record.sequence_number.clone()),
                    }),
                    Ok(Change::Skip(reason)) => tally.decisions.push(Decision {
                        recommendation_id: None,
                        auto_scaling_group_name: None,
                        kind: None,
                        status: None,
                        outcome: Outcome::Ignored,
                        reason: reason.clone(),
                        desired_capacity: None,
                        sequence_number: Some(record.sequence_number.clone()),
                    }),
                    Err(problem) => {
                        tracing::error!(sequence_number = %record.sequence_number, %problem, "unreadable stream record");
                        tally.failed_records.push(record.sequence_number.clone());
                        tally.decisions.push(Decision {
                            recommendation_id: None,
                            auto_scaling_group_name: None,
                            kind: None,
                            status: None,
                            outcome: Outcome::Error,
                            reason: problem.clone(),
                            desired_capacity: None,
                            sequence_number: Some(record.sequence_number.clone()),
                        });
                    }
                }
            }
            let in_progress = if items
                .iter()
                .any(|i| i.recommendation.scale_change().is_some())
            {
                open(&deps.store, &[Status::InProgress], &SCALE_TYPES).await?
            } else {
                Vec::new()
            };
            (items, in_progress)
        }
        Trigger::Sweep { .. } => {
            wake(&deps.store, now, dry_run, &mut tally).await?;
            let mut items: Vec<Item> =
                open(&deps.store, &[Status::Pending], &RecommendationType::ALL)
                    .await?
                    .into_iter()
                    .chain(
                        open(
                            &deps.store,
                            &[Status::Approved, Status::InProgress],
                            &SCALE_TYPES,
                        )
                        .await?,
                    )
                    .map(|recommendation| Item {
                        recommendation,
                        sequence_number: None,
                    })
                    .collect();
            // IN_PROGRESS first: verifying (or rolling back) a change frees its group.
            items.sort_by(|a, b| {
                (b.recommendation.status == Status::InProgress)
                    .cmp(&(a.recommendation.status == Status::InProgress))
                    .then_with(|| plan::rank(&a.recommendation, &b.recommendation))
            });
            let in_progress = items
                .iter()
                .filter(|i| i.recommendation.status == Status::InProgress)
                .map(|i| i.recommendation.clone())
                .collect();
            (items, in_progress)
        }
    };
    let mut items = items;
    if matches!(trigger, Trigger::Stream(_)) {
        items.sort_by(|a, b| plan::rank(&a.recommendation, &b.recommendation));
    }

    let groups: HashMap<String, GroupInfo> = if items.is_empty() {
        HashMap::new()
    } else {
        targeted(config, &deps.fleet, &items).await?
    };
    let mut busy: HashMap<String, String> = in_progress
        .iter()
        .map(|r| (r.auto_scaling_group_name.clone(), r.id.clone()))
        .collect();
    let mut activities: HashMap<String, Option<ScalingActivity>> = HashMap::new();
    let policy = policy(config);

    for item in &items {
        let r = &item.recommendation;
        let group = groups.get(&r.auto_scaling_group_name);
        let needs_activity = group.is_some()
            && match r.status {
                Status::Pending => r.kind == RecommendationType::ScaleUp,
                Status::Approved | Status::InProgress => r.scale_change().is_some(),
                _ => false,
            };
        if needs_activity && !activities.contains_key(&r.auto_scaling_group_name) {
            match deps.fleet.last_activity(&r.auto_scaling_group_name).await {
                Ok(a) => {
                    activities.insert(r.auto_scaling_group_name.clone(), a);
                }
                Err(e) => {
                    tally.record(item, Outcome::Error, e.to_string(), None);
                    continue;
                }
            }
        }
        let busy_with = busy
            .get(&r.auto_scaling_group_name)
            .filter(|id| **id != r.id)
            .map(String::as_str);
        let verdict = plan::decide(
            r,
            now,
            &GroupNow {
                group,
                activity: activities
                    .get(&r.auto_scaling_group_name)
                    .and_then(Option::as_ref),
                busy_with,
            },
            &policy,
        );
        if let Verdict::Apply { .. } = verdict {
            busy.insert(r.auto_scaling_group_name.clone(), r.id.clone());
        }
        carry_out(deps, item, verdict, now, dry_run, &mut tally).await;
    }

    if !dry_run {
        notify_approvals(config, deps, now, &mut tally).await?;
        alert(config, &deps.notifier, &tally).await?;
        publish(config, &deps.metrics, &tally, now).await?;
    }
    let count = |m: &BTreeMap<String, u32>| m.values().sum();
    Ok(Response {
        environment: config.environment.as_str().to_owned(),
        dry_run,
        trigger: match trigger {
            Trigger::Stream(_) => "stream",
            Trigger::Sweep { .. } => "sweep",
        },
        actions_applied: count(&tally.applied),
        actions_failed: count(&tally.failed),
        actions_rolled_back: count(&tally.rolled_back),
        batch_item_failures: tally
            .failed_records
            .iter()
            .map(|s| BatchItemFailure {
                item_identifier: s.clone(),
            })
            .collect(),
        decisions: tally.decisions,
        aws_calls: BTreeMap::new(),
    })
}

/// The types the engine changes a group's size for.
const SCALE_TYPES: [RecommendationType; 2] =
    [RecommendationType::ScaleUp, RecommendationType::ScaleDown];

/// Every recommendation of these types in these statuses: one TypeIndex query each.
async fn open<S: RecommendationStore + Sync>(
    store: &S,
    statuses: &[Status],
    kinds: &[RecommendationType],
) -> Result<Vec<Recommendation>, EngineError> {
    let mut found = Vec::new();
    for &status in statuses {
        for &kind in kinds {
            let query = RecommendationQuery {
                kind: Some(kind),
                status: Some(status),
                ..RecommendationQuery::default()
            };
            found.extend(store.query(&query).await.map_err(EngineError::Store)?);
        }
    }
    Ok(found)
}

/// Puts every SNOOZED item whose snooze has ended back in the status it had (a conditional
/// update, like every status change), before the sweep reads what it acts on.
async fn wake<S: RecommendationStore + Sync>(
    store: &S,
    now: DateTime<Utc>,
    dry_run: bool,
    tally: &mut Tally,
) -> Result<(), EngineError> {
    for r in open(store, &[Status::Snoozed], &RecommendationType::ALL).await? {
        let Some(snooze) = r.snooze.clone() else {
            continue;
        };
        let Some(until) = snooze.until() else {
            tracing::warn!(id = %r.id, until = %snooze.until, "unreadable snooze end: left as it is");
            continue;
        };
        if until > now {
            continue;
        }
        let item = Item {
            recommendation: r.clone(),
            sequence_number: None,
        };
        let reason = format!(
            "snooze ended at {}: back to {}",
            snooze.until, snooze.previous_status
        );
        if dry_run {
            tally.record(&item, Outcome::Woken, format!("dry run: {reason}"), None);
            continue;
        }
        let back = Transition::new(snooze.previous_status, now, ACTOR).because(&reason);
        let (outcome, why) = match store.transition(&r, &back).await {
            Ok(_) => (Outcome::Woken, reason),
            Err(StoreError::Conflict { .. }) => (
                Outcome::AlreadyHandled,
                "another invocation or a person moved it first".to_owned(),
            ),
            Err(e) => (Outcome::Error, e.to_string()),
        };
        tally.record(&item, outcome, why, None);
    }
    Ok(())
}

/// The targeted groups the items name, from one (paginated) read of the fleet.
async fn targeted<F: FleetDirectory + Sync>(
    config: &Config,
    fleet: &F,
    items: &[Item],
) -> Result<HashMap<String, GroupInfo>, EngineError> {
    let selector = match &config.fleet {
        FleetSelector::Names(names) => {
            let named: HashSet<&str> = items
                .iter()
                .map(|i| i.recommendation.auto_scaling_group_name.as_str())
                .collect();
            GroupSelector::Names(
                names
                    .iter()
                    .filter(|n| named.contains(n.as_str()))
                    .cloned()
                    .collect(),
            )
        }
        FleetSelector::Tag { key, value } => GroupSelector::Tag {
            key: key.clone(),
            value: value.clone(),
        },
    };
    if matches!(&selector, GroupSelector::Names(n) if n.is_empty()) {
        return Ok(HashMap::new());
    }
    Ok(fleet
        .groups(&selector)
        .await
        .map_err(EngineError::Discovery)?
        .into_iter()
        .map(|g| (g.name.clone(), g))
        .collect())
}

/// A transition's result as an outcome: a conflict means another invocation moved it first.
fn settled(
    result: Result<Recommendation, StoreError>,
    done: Outcome,
    reason: String,
) -> (Outcome, String) {
    match result {
        Ok(_) => (done, reason),
        Err(StoreError::Conflict { .. }) => (
            Outcome::AlreadyHandled,
            "another invocation changed it first; nothing was done twice".to_owned(),
        ),
        Err(e) => (Outcome::Error, e.to_string()),
    }
}

async fn carry_out<F, N, M, S>(
    deps: &Deps<F, N, M, S>,
    item: &Item,
    verdict: Verdict,
    now: DateTime<Utc>,
    dry_run: bool,
    tally: &mut Tally,
) where
    F: FleetDirectory + FleetControl + Sync,
    S: RecommendationStore + Sync,
{
    let r = &item.recommendation;
    let store = &deps.store;
    // The verdicts that only move the item: its new status, and the outcome reported.
    let settle_as = |to: Status, done: Outcome, reason: String| async move {
        let (outcome, why) = settle(store, r, (to, done), reason, now, dry_run).await;
        (outcome, why, None)
    };
    let (outcome, reason, change) = match verdict {
        Verdict::Apply { from, to, target } => {
            let change = Some(CapacityChange { from, to });
            if dry_run {
                tally.record(
                    item,
                    Outcome::Applied,
                    format!("dry run: would set desired capacity {from} -> {to}"),
                    change,
                );
                return;
            }
            let (outcome, reason) = apply(deps, r, (from, to, target), now).await;
            (outcome, reason, change)
        }
        Verdict::AskApproval(reason) => {
            if dry_run {
                (
                    Outcome::AwaitingApproval,
                    format!("dry run: {reason}"),
                    None,
                )
            } else {
                // Notified first, moved after: a failed notification leaves it PENDING, so a
                // retry notifies again instead of never.
                tally
                    .approvals
                    .push((r.clone(), item.sequence_number.clone(), reason));
                return;
            }
        }
        Verdict::Wait(reason) => {
            let unchanged = r.last_check.as_ref().is_some_and(|c| c.reason == reason);
            if !dry_run && !unchanged {
                let check = Check {
                    at: rfc3339(now),
                    by: ACTOR.to_owned(),
                    reason: reason.clone(),
                };
                if let Err(e) = store.note(r, &check).await {
                    tracing::warn!(id = %r.id, error = %e, "could not note why it waits");
                }
            }
            (Outcome::Waiting, reason, None)
        }
        Verdict::Fail(reason) => settle_as(Status::Failed, Outcome::Failed, reason).await,
        Verdict::Expire(reason) => settle_as(Status::Failed, Outcome::Expired, reason).await,
        Verdict::Complete(reason) => settle_as(Status::Completed, Outcome::Completed, reason).await,
        Verdict::Ignore(reason) => (Outcome::Ignored, reason, None),
        Verdict::RollBack { restore, reason } => {
            let change = r.execution.as_ref().map(|e| CapacityChange {
                from: e.new_capacity,
                to: restore,
            });
            if dry_run {
                (
                    Outcome::RolledBack,
                    format!("dry run: would restore {restore}: {reason}"),
                    change,
                )
            } else {
                let (o, why) = roll_back(deps, r, restore, &reason, now).await;
                (o, why, change)
            }
        }
    };
    tally.record(item, outcome, reason, change);
}

/// Moves `r` to `to` with the reason (in a dry run, only says it would), as `done`.
async fn settle<S: RecommendationStore + Sync>(
    store: &S,
    r: &Recommendation,
    (to, done): (Status, Outcome),
    reason: String,
    now: DateTime<Utc>,
    dry_run: bool,
) -> (Outcome, String) {
    if dry_run {
        return (done, format!("dry run: {reason}"));
    }
    let result = store
        .transition(r, &Transition::new(to, now, ACTOR).because(&reason))
        .await;
    settled(result, done, reason)
}

/// Claim (-> IN_PROGRESS with the execution record), then SetDesiredCapacity with
/// HonorCooldown, then record the activity it started.
async fn apply<F, N, M, S>(
    deps: &Deps<F, N, M, S>,
    r: &Recommendation,
    (from, to, target): (u32, u32, u32),
    now: DateTime<Utc>,
) -> (Outcome, String)
where
    F: FleetDirectory + FleetControl + Sync,
    S: RecommendationStore + Sync,
{
    let group = &r.auto_scaling_group_name;
    let execution = Execution {
        previous_capacity: from,
        new_capacity: to,
        applied_at: rfc3339(now),
        activity_id: None,
        target_capacity: (to != target).then_some(target),
    };
    let reason = if to == target {
        format!("desired capacity {from} -> {to}")
    } else {
        format!(
            "desired capacity {from} -> {to}: one step towards {target} (step limits); the next \
             analysis decides on the rest"
        )
    };
    let claim = Transition::new(Status::InProgress, now, ACTOR)
        .because(&reason)
        .recording(&execution);
    let claimed = match deps.store.transition(r, &claim).await {
        Ok(claimed) => claimed,
        Err(e) => return settled(Err(e), Outcome::Applied, reason),
    };
    if let Err(e) = deps.fleet.set_desired_capacity(group, to, true).await {
        let why = if e.code == SCALING_ACTIVITY_IN_PROGRESS {
            format!("Auto Scaling refused the change for now (activity or cooldown): {e}")
        } else {
            format!("SetDesiredCapacity failed: {e}")
        };
        let failed = Transition::new(Status::Failed, now, ACTOR).because(&why);
        if let Err(store_error) = deps.store.transition(&claimed, &failed).await {
            // Left IN_PROGRESS: the sweep finds the group unchanged and settles it.
            tracing::error!(id = %r.id, error = %store_error, "could not mark the failed change FAILED");
        }
        return (Outcome::Failed, why);
    }
    // The activity the change started, for the record (Auto Scaling lists it at once; an
    // emulator may list none).
    match deps.fleet.last_activity(group).await {
        Ok(Some(activity)) if activity.start >= now - Duration::seconds(5) => {
            let started = Execution {
                activity_id: Some(activity.id.clone()),
                ..execution
            };
            if let Err(e) = deps.store.record_execution(&claimed, &started).await {
                tracing::warn!(id = %r.id, error = %e, "could not record the scaling activity");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(id = %r.id, error = %e, "could not read the scaling activity"),
    }
    (Outcome::Applied, reason)
}

/// Restores the previous capacity (without HonorCooldown: undoing must not wait), then
/// ROLLED_BACK.
async fn roll_back<F, N, M, S>(
    deps: &Deps<F, N, M, S>,
    r: &Recommendation,
    restore: u32,
    reason: &str,
    now: DateTime<Utc>,
) -> (Outcome, String)
where
    F: FleetDirectory + FleetControl + Sync,
    S: RecommendationStore + Sync,
{
    if let Err(e) = deps
        .fleet
        .set_desired_capacity(&r.auto_scaling_group_name, restore, false)
        .await
    {
        return (
            Outcome::Error,
            format!("rolling back to {restore} failed, tried again on the next sweep: {e}"),
        );
    }
    let why = format!("restored desired capacity {restore}: {reason}");
    let result = deps
        .store
        .transition(
            r,
            &Transition::new(Status::RolledBack, now, ACTOR).because(&why),
        )
        .await;
    settled(result, Outcome::RolledBack, why)
}

/// One message for every recommendation that now needs a person, then their moves to
/// AWAITING_APPROVAL.
async fn notify_approvals<F, N, M, S>(
    config: &Config,
    deps: &Deps<F, N, M, S>,
    now: DateTime<Utc>,
    tally: &mut Tally,
) -> Result<(), EngineError>
where
    N: Notifier + Sync,
    S: RecommendationStore + Sync,
{
    let approvals = std::mem::take(&mut tally.approvals);
    if approvals.is_empty() {
        return Ok(());
    }
    if let Some(topic) = &config.topics.recommendation {
        let subject = format!(
            "fleet-optimizer {}: {} recommendation(s) await approval",
            config.environment,
            approvals.len()
        );
        let mut message = String::new();
        for (r, _, _) in &approvals {
            message.push_str(&format!(
                "- [{} {}] {} ({}): {}\n  approve: fleetopt approve {} --environment {}\n  reject:  fleetopt reject {} --reason <why> --environment {}\n",
                r.priority, r.kind, r.auto_scaling_group_name, r.id, r.description,
                r.id, config.environment, r.id, config.environment
            ));
        }
        deps.notifier
            .notify(topic, &subject, &message)
            .await
            .map_err(EngineError::Notify)?;
    }
    for (r, sequence_number, reason) in approvals {
        let result = deps
            .store
            .transition(
                &r,
                &Transition::new(Status::AwaitingApproval, now, ACTOR).because(&reason),
            )
            .await;
        let (outcome, reason) = settled(result, Outcome::AwaitingApproval, reason);
        tally.record(
            &Item {
                recommendation: r,
                sequence_number,
            },
            outcome,
            reason,
            None,
        );
    }
    Ok(())
}

/// One message on the performance-alert topic for every failure and rollback of this run.
async fn alert<N: Notifier + Sync>(
    config: &Config,
    notifier: &N,
    tally: &Tally,
) -> Result<(), EngineError> {
    let (Some(topic), false) = (&config.topics.performance_alert, tally.alerts.is_empty()) else {
        return Ok(());
    };
    let subject = format!(
        "fleet-optimizer {}: {} scaling change(s) failed or rolled back",
        config.environment,
        tally.alerts.len()
    );
    notifier
        .notify(topic, &subject, &tally.alerts.join("\n"))
        .await
        .map_err(EngineError::Alert)
}

/// ActionsApplied, ActionsFailed and ActionsRolledBack for the environment (always, zeros
/// included, so alarms see data) and for every group with an action, in one PutMetricData.
async fn publish<M: MetricsPublisher + Sync>(
    config: &Config,
    metrics: &M,
    tally: &Tally,
    at: DateTime<Utc>,
) -> Result<(), EngineError> {
    let environment = config.environment.as_str().to_owned();
    let series = [
        ("ActionsApplied", &tally.applied),
        ("ActionsFailed", &tally.failed),
        ("ActionsRolledBack", &tally.rolled_back),
    ];
    let mut data = Vec::new();
    for (name, by_group) in series {
        data.push(MetricDatum {
            name,
            dimensions: vec![("Environment", environment.clone())],
            value: f64::from(by_group.values().sum::<u32>()),
            unit: "Count",
            timestamp: at,
        });
    }
    let groups: HashSet<&String> = series.iter().flat_map(|(_, m)| m.keys()).collect();
    for group in groups {
        for (name, by_group) in series {
            data.push(MetricDatum {
                name,
                dimensions: vec![
                    ("Environment", environment.clone()),
                    ("AutoScalingGroupName", group.clone()),
                ],
                value: f64::from(by_group.get(group).copied().unwrap_or(0)),
                unit: "Count",
                timestamp: at,
            });
        }
    }
    metrics
        .publish(&config.metrics_namespace, &data)
        .await
        .map_err(EngineError::Publish)
}

/// The engine on in-memory fakes: the states the emulator cannot show (an activity in
/// progress, a cooldown, unhealthy instances, failing notifications) and the run's own
/// bookkeeping. The same paths run against the emulator in `tests/emulator.rs`.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ItemChange, decode, stream_event};
    use chrono::TimeZone;
    use fleetopt_model::Action;
    use fleetopt_ports::fakes::contract::sample;
    use fleetopt_ports::fakes::{FakeFleet, InMemoryStore, Recorder, group};
    use fleetopt_ports::{ActivityStatus, PutOutcome};

    type FakeDeps = Deps<FakeFleet, Recorder, Recorder, InMemoryStore>;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 5, 0).unwrap()
    }

    fn config(extra: &[(&str, &str)]) -> Config {
        let mut vars: HashMap<String, String> = HashMap::from([
            ("FLEETOPT_ENVIRONMENT".into(), "production".into()),
            ("FLEETOPT_APPLICATION".into(), "app".into()),
            ("FLEETOPT_TARGET_GROUPS".into(), "web,api".into()),
            (
                "FLEETOPT_RECOMMENDATION_TOPIC_ARN".into(),
                "arn:aws:sns:us-east-1:111122223333:recommendations".into(),
            ),
            (
                "FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN".into(),
                "arn:aws:sns:us-east-1:111122223333:alerts".into(),
            ),
        ]);
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        Config::from_lookup(&|name| vars.get(name).cloned()).unwrap()
    }

    fn deps(notifier: Recorder) -> FakeDeps {
        Deps {
            fleet: FakeFleet::new([group("web"), group("api")]),
            notifier,
            metrics: Recorder::new(),
            store: InMemoryStore::new(),
        }
    }

    async fn stored(deps: &FakeDeps, rs: &[&Recommendation]) {
        for r in rs {
            assert_eq!(deps.store.put_new(r).await, Ok(PutOutcome::Written));
        }
    }

    fn inserted(rs: &[&Recommendation]) -> Trigger {
        let seqs: Vec<String> = (1..=rs.len()).map(|i| i.to_string()).collect();
        let changes: Vec<ItemChange<'_>> = rs
            .iter()
            .zip(&seqs)
            .map(|(r, s)| ItemChange {
                event_name: "INSERT",
                old: None,
                new: Some(r),
                sequence_number: s,
            })
            .collect();
        decode(stream_event(&changes).unwrap()).unwrap()
    }

    fn scale_down(group: &str) -> Recommendation {
        let mut r = sample(group, 9);
        r.kind = RecommendationType::ScaleDown;
        r.id = format!("{}-down", r.id);
        r.implementation.action = Some(Action::SetDesiredCapacity { from: 4, to: 3 });
        r
    }

    #[tokio::test]
    async fn a_pending_scale_up_is_claimed_applied_and_counted_once() {
        let deps = deps(Recorder::new());
        let r = sample("web", 9);
        stored(&deps, &[&r]).await;
        let response = run(&config(&[]), &deps, &inserted(&[&r]), now())
            .await
            .unwrap();
        assert_eq!(response.actions_applied, 1);
        assert_eq!(response.decisions[0].outcome, Outcome::Applied);
        assert_eq!(deps.fleet.calls(), vec![("web".to_owned(), 5, true)]);
        let item = deps.store.get(&r.id).await.unwrap().unwrap();
        assert_eq!(item.status, Status::InProgress);
        let execution = item.execution.unwrap();
        assert_eq!(
            (execution.previous_capacity, execution.new_capacity),
            (4, 5)
        );
        // The same record again (a retried batch): the claim's condition refuses it.
        let again = run(&config(&[]), &deps, &inserted(&[&r]), now())
            .await
            .unwrap();
        assert_eq!(again.decisions[0].outcome, Outcome::AlreadyHandled);
        assert_eq!(deps.fleet.calls().len(), 1);
        let published = deps.metrics.published();
        assert_eq!(published.len(), 2, "one PutMetricData per invocation");
        let applied: Vec<f64> = published[0]
            .iter()
            .filter(|d| d.name == "ActionsApplied")
            .map(|d| d.value)
            .collect();
        assert_eq!(applied, vec![1.0, 1.0], "environment total and the group's");
    }

    #[tokio::test]
    async fn two_concurrent_invocations_with_the_same_record_apply_it_once() {
        for _ in 0..50 {
            let deps = deps(Recorder::new());
            let r = sample("web", 9);
            stored(&deps, &[&r]).await;
            let trigger = inserted(&[&r]);
            let config = config(&[]);
            let (a, b) = tokio::join!(
                run(&config, &deps, &trigger, now()),
                run(&config, &deps, &trigger, now())
            );
            let applied = a.unwrap().actions_applied + b.unwrap().actions_applied;
            assert_eq!(applied, 1);
            assert_eq!(deps.fleet.calls().len(), 1);
        }
    }

    #[tokio::test]
    async fn a_group_mid_activity_or_in_cooldown_is_not_touched_and_says_why() {
        for (status, ended_ago, expected) in [
            (ActivityStatus::InProgress, 0, "is in progress"),
            (ActivityStatus::Successful, 2, "cooldown"),
        ] {
            let deps = deps(Recorder::new());
            let end = now() - Duration::minutes(ended_ago);
            deps.fleet.set_activity(
                "web",
                ScalingActivity {
                    id: "act-9".into(),
                    status,
                    start: end - Duration::minutes(1),
                    end: status.is_finished().then_some(end),
                    description: "Launching a new EC2 instance".into(),
                },
            );
            let r = sample("web", 9);
            stored(&deps, &[&r]).await;
            let response = run(&config(&[]), &deps, &inserted(&[&r]), now())
                .await
                .unwrap();
            assert_eq!(response.decisions[0].outcome, Outcome::Waiting);
            assert!(deps.fleet.calls().is_empty());
            let item = deps.store.get(&r.id).await.unwrap().unwrap();
            assert_eq!(item.status, Status::Pending);
            assert!(item.last_check.unwrap().reason.contains(expected));
        }
    }

    #[tokio::test]
    async fn unhealthy_instances_hold_a_scale_up_back() {
        let deps = deps(Recorder::new());
        deps.fleet.set_group(GroupInfo {
            healthy: 1,
            ..group("web")
        });
        let r = sample("web", 9);
        stored(&deps, &[&r]).await;
        let response = run(&config(&[]), &deps, &inserted(&[&r]), now())
            .await
            .unwrap();
        assert_eq!(response.decisions[0].outcome, Outcome::Waiting);
        assert!(deps.fleet.calls().is_empty());
    }

    #[tokio::test]
    async fn risky_types_wait_for_approval_with_one_notification() {
        let deps = deps(Recorder::new());
        let down = scale_down("api");
        let mut tuning = sample("web", 8);
        tuning.kind = RecommendationType::PerformanceTuning;
        tuning.implementation.action = None;
        stored(&deps, &[&down, &tuning]).await;
        let response = run(&config(&[]), &deps, &inserted(&[&down, &tuning]), now())
            .await
            .unwrap();
        assert!(
            deps.fleet.calls().is_empty(),
            "nothing scales down on its own"
        );
        assert_eq!(
            response
                .decisions
                .iter()
                .filter(|d| d.outcome == Outcome::AwaitingApproval)
                .count(),
            2
        );
        let notes = deps.notifier.notifications();
        assert_eq!(notes.len(), 1);
        assert!(notes[0].1.contains("2 recommendation(s) await approval"));
        assert!(
            notes[0]
                .2
                .contains(&format!("fleetopt approve {}", down.id))
        );
        for r in [&down, &tuning] {
            let item = deps.store.get(&r.id).await.unwrap().unwrap();
            assert_eq!(item.status, Status::AwaitingApproval);
        }
    }

    #[tokio::test]
    async fn a_failed_notification_leaves_approvals_pending_for_the_retry() {
        let deps = deps(Recorder::failing("InternalError"));
        let down = scale_down("api");
        stored(&deps, &[&down]).await;
        let err = run(&config(&[]), &deps, &inserted(&[&down]), now())
            .await
            .unwrap_err();
        assert!(matches!(err, EngineError::Notify(_)), "{err}");
        let item = deps.store.get(&down.id).await.unwrap().unwrap();
        assert_eq!(item.status, Status::Pending);
    }

    #[tokio::test]
    async fn a_poison_record_fails_alone() {
        let deps = deps(Recorder::new());
        let r = sample("web", 9);
        stored(&deps, &[&r]).await;
        let mut event = stream_event(&[ItemChange {
            event_name: "INSERT",
            old: None,
            new: Some(&r),
            sequence_number: "7",
        }])
        .unwrap();
        let mut poison = event["Records"][0].clone();
        poison["dynamodb"]["SequenceNumber"] = "8".into();
        poison["dynamodb"]["NewImage"]["type"] = serde_json::json!({"S": "SCALE_SIDEWAYS"});
        event["Records"].as_array_mut().unwrap().insert(0, poison);
        let response = run(&config(&[]), &deps, &decode(event).unwrap(), now())
            .await
            .unwrap();
        assert_eq!(
            response.batch_item_failures,
            vec![BatchItemFailure {
                item_identifier: "8".into()
            }]
        );
        assert_eq!(response.actions_applied, 1);
    }

    #[tokio::test]
    async fn a_dry_run_decides_everything_and_changes_nothing() {
        let deps = deps(Recorder::new());
        let up = sample("web", 9);
        let down = scale_down("api");
        stored(&deps, &[&up, &down]).await;
        let response = run(
            &config(&[]),
            &deps,
            &Trigger::Sweep { dry_run: true },
            now(),
        )
        .await
        .unwrap();
        assert!(response.dry_run);
        let outcomes: Vec<Outcome> = response.decisions.iter().map(|d| d.outcome).collect();
        assert_eq!(outcomes, vec![Outcome::Applied, Outcome::AwaitingApproval]);
        assert!(deps.fleet.calls().is_empty());
        assert!(deps.notifier.notifications().is_empty());
        assert!(deps.metrics.published().is_empty());
        for r in [&up, &down] {
            assert_eq!(deps.store.get(&r.id).await.unwrap().as_ref(), Some(r));
        }
    }

    #[tokio::test]
    async fn the_sweep_completes_verified_changes_and_rolls_back_bad_ones() {
        let deps = deps(Recorder::new());
        let up = sample("web", 9);
        let other = sample("api", 9);
        stored(&deps, &[&up, &other]).await;
        let applied_at = now();
        run(
            &config(&[]),
            &deps,
            &Trigger::Sweep { dry_run: false },
            applied_at,
        )
        .await
        .unwrap();
        let mut calls = deps.fleet.calls();
        calls.sort();
        assert_eq!(
            calls,
            vec![("api".to_owned(), 5, true), ("web".to_owned(), 5, true)]
        );
        // web came up healthy; api's new instance is unhealthy past the grace period.
        deps.fleet.set_group(GroupInfo {
            desired: 5,
            in_service: 5,
            healthy: 5,
            ..group("web")
        });
        deps.fleet.set_group(GroupInfo {
            desired: 5,
            in_service: 5,
            healthy: 4,
            ..group("api")
        });
        let later = applied_at + Duration::minutes(6);
        let response = run(
            &config(&[]),
            &deps,
            &Trigger::Sweep { dry_run: false },
            later,
        )
        .await
        .unwrap();
        assert_eq!(
            (response.actions_rolled_back, response.actions_applied),
            (1, 0)
        );
        assert_eq!(deps.fleet.group("api").unwrap().desired, 4);
        assert_eq!(
            deps.fleet.calls().last(),
            Some(&("api".to_owned(), 4, false))
        );
        let web = deps.store.get(&up.id).await.unwrap().unwrap();
        let api = deps.store.get(&other.id).await.unwrap().unwrap();
        assert_eq!(
            (web.status, api.status),
            (Status::Completed, Status::RolledBack)
        );
        let alerts = deps.notifier.notifications();
        assert_eq!(alerts.len(), 1);
        assert!(
            alerts[0]
                .2
                .contains("unhealthy after the 300 s health-check grace period")
        );
    }

    #[tokio::test]
    async fn stale_pending_items_expire_on_the_sweep() {
        let deps = deps(Recorder::new());
        let r = sample("web", 9);
        stored(&deps, &[&r]).await;
        let response = run(
            &config(&[]),
            &deps,
            &Trigger::Sweep { dry_run: false },
            now() + Duration::hours(3),
        )
        .await
        .unwrap();
        assert_eq!(response.decisions[0].outcome, Outcome::Expired);
        assert_eq!(response.actions_failed, 0, "expiry is not a failed action");
        let item = deps.store.get(&r.id).await.unwrap().unwrap();
        assert_eq!(item.status, Status::Failed);
        assert!(deps.fleet.calls().is_empty());
    }

    #[tokio::test]
    async fn a_snooze_ends_on_the_first_sweep_after_it_and_not_before() {
        let deps = deps(Recorder::new());
        let mut r = sample("web", 9);
        r.kind = RecommendationType::ScaleDown;
        r.status = Status::AwaitingApproval;
        stored(&deps, &[&r]).await;
        let until = now() + Duration::days(7);
        let snoozed = deps
            .store
            .transition(
                &r,
                &Transition::snooze(until, now(), "arn:aws:iam::1:user/ops").because("freeze"),
            )
            .await
            .unwrap();
        let (config, sweeping) = (config(&[]), Trigger::Sweep { dry_run: false });
        let sweep = |at| run(&config, &deps, &sweeping, at);

        let early = sweep(until - Duration::minutes(1)).await.unwrap();
        assert!(early.decisions.is_empty(), "{:?}", early.decisions);
        assert_eq!(deps.store.get(&r.id).await.unwrap().unwrap(), snoozed);

        let after = sweep(until + Duration::minutes(1)).await.unwrap();
        assert_eq!(after.decisions[0].outcome, Outcome::Woken);
        let item = deps.store.get(&r.id).await.unwrap().unwrap();
        assert_eq!((item.status, item.snooze), (Status::AwaitingApproval, None));
        let last = item.status_history.last().unwrap();
        assert_eq!(last.by, ACTOR);
        assert_eq!(
            last.reason.as_deref(),
            Some(
                format!(
                    "snooze ended at {}: back to AWAITING_APPROVAL",
                    rfc3339(until)
                )
                .as_str()
            )
        );
        assert!(deps.fleet.calls().is_empty());
    }
}
