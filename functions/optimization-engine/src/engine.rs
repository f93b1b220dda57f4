//! One engine run: gather the recommendations the trigger names (stream records, read again
//! from the table, or every open one for the sweep), rank them, read the groups once, decide
//! each with [`plan::decide`], prove what is about to be applied (a person's signed approval,
//! or the analyzer's signature on an automated change), and carry the verdicts out with
//! conditional writes under a per-group lock; the sweep then measures completed changes.
//! Finally one approval message, one alert and one PutMetricData. Generic over the ports, so
//! tests run it on fakes and on the emulator alike.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use fleetopt_config::Config;
use fleetopt_model::{
    ChangeOutcome, Check, Execution, Recommendation, RecommendationType, Shard, Status,
    approval_message, from_hex, judge, rfc3339,
};
use fleetopt_ports::{
    FleetControl, FleetDirectory, Found, GroupInfo, GroupLocks, GroupSelector, Members,
    MetricDatum, MetricQuery, MetricsPublisher, MetricsSource, Notifier, Reach,
    RecommendationQuery, RecommendationStore, SCALING_ACTIVITY_IN_PROGRESS, ScalingActivity,
    ServiceError, Statistic, StoreError, TimeWindow, Transition, Verifier,
};
use serde::Serialize;

use crate::event::{Change, EventError, Trigger};
use crate::plan::{self, GroupNow, Policy, StepLimits, Verdict};

/// Who the engine is in status histories.
pub const ACTOR: &str = "optimization-engine";

/// How far back the sweep looks for completed changes whose outcome is not measured yet.
pub const OUTCOME_LOOKBACK: Duration = Duration::days(2);

/// The capabilities a run needs.
#[derive(Debug, Clone)]
pub struct Deps<F, N, M, S, V, R> {
    /// The Auto Scaling groups: read and scaled.
    pub fleet: F,
    /// SNS.
    pub notifier: N,
    /// CloudWatch: our metrics published, outcomes read.
    pub metrics: M,
    /// The recommendations table (and the per-group locks in it).
    pub store: S,
    /// Checks approval and finding signatures (KMS Verify).
    pub verifier: V,
    /// Other accounts and regions: an item's shard is read and scaled through the member role.
    pub members: R,
}

/// What one shard's items are decided and carried out with: that shard's groups and metrics,
/// and the function's own table, topics, keys and published metrics.
struct At<'a, F, N, M, S, V> {
    fleet: &'a F,
    notifier: &'a N,
    /// The shard's CloudWatch: the groups' own metrics.
    metrics: &'a M,
    /// The function's own CloudWatch, where the analyzer published its scores, when it is not
    /// `metrics` (a member account's shard).
    published: Option<&'a M>,
    store: &'a S,
    verifier: &'a V,
}

impl<'a, F, N, M, S, V> At<'a, F, N, M, S, V> {
    /// The function's own account and region.
    fn home<R>(deps: &'a Deps<F, N, M, S, V, R>) -> Self {
        At {
            fleet: &deps.fleet,
            notifier: &deps.notifier,
            metrics: &deps.metrics,
            published: None,
            store: &deps.store,
            verifier: &deps.verifier,
        }
    }
}

/// One shard's share of a run: the items to decide, the changes in flight and the completed
/// changes to measure.
#[derive(Default)]
struct Share {
    items: Vec<Item>,
    in_progress: Vec<Recommendation>,
    completed: Vec<Recommendation>,
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
    /// Auto Scaling refused the change for now: the claim went back to the status it came
    /// from, so the approval is not spent.
    Released,
    /// A check can never pass, a proof does not hold, or the change failed: FAILED.
    Failed,
    /// Too old, or an applied schedule past its end: EXPIRED.
    Expired,
    /// An applied schedule whose actions a newer one replaced: SUPERSEDED.
    Superseded,
    /// Re-checked and no longer needed: OBSOLETE.
    Obsolete,
    /// Nothing to do.
    Ignored,
    /// Verified: COMPLETED.
    Completed,
    /// Undone: ROLLED_BACK.
    RolledBack,
    /// A completed change's outcome was measured and recorded.
    Measured,
    /// Another invocation moved it first; nothing was done twice.
    AlreadyHandled,
    /// Its snooze ended: back to the status it had.
    Woken,
    /// The item is not a recommendation (another version's, or written by hand): skipped.
    Skipped,
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
    /// The group's account, for a shard's item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The group's region, for a shard's item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
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
    /// Completed changes measured IMPROVED this run.
    pub actions_improved: u32,
    /// Completed changes measured WORSE this run.
    pub actions_worse: u32,
    /// Rollbacks that could not be made (alerted; tried again on the next sweep).
    pub rollbacks_failed: u32,
    /// Items that are not recommendations, skipped: their ids.
    pub items_skipped: Vec<String>,
    /// Signatures checked with the verifier (KMS Verify calls).
    pub signatures_verified: u32,
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
    let approvals = &config.approvals;
    Policy {
        automation_enabled: config.settings.enable_auto_scaling_optimization,
        cooldown_override_seconds: config.scaling_cooldown_seconds,
        pending_lifetime: analysis_interval(config) * 2,
        step: StepLimits {
            percent: config.controls.max_step_percent,
            instances: config.controls.max_step_instances,
        },
        persistence: config.controls.persistence,
        capacity_approval_max_age: Duration::hours(i64::from(approvals.capacity_max_age_hours)),
        manual_approval_max_age: Duration::days(i64::from(approvals.manual_max_age_days)),
        in_progress_max_age: Duration::minutes(i64::from(approvals.in_progress_max_minutes)),
        change_window: config.change_window.clone(),
    }
}

fn analysis_interval(config: &Config) -> Duration {
    Duration::minutes(i64::from(config.settings.analysis_interval_minutes))
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
    improved: u32,
    worse: u32,
    rollbacks_failed: u32,
    skipped: BTreeMap<String, String>,
    verified: u32,
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
            account_id: r.account_id.clone(),
            region: r.region.clone(),
            kind: Some(r.kind),
            status: Some(r.status),
            outcome,
            reason,
            desired_capacity,
            sequence_number: item.sequence_number.clone(),
        });
    }

    /// A decision about a record or item that is not (or no longer) a recommendation.
    fn unread(
        &mut self,
        id: Option<String>,
        outcome: Outcome,
        reason: String,
        sequence_number: Option<String>,
    ) {
        if outcome == Outcome::Error {
            self.failed_records.extend(sequence_number.clone());
        }
        self.decisions.push(Decision {
            recommendation_id: id,
            auto_scaling_group_name: None,
            account_id: None,
            region: None,
            kind: None,
            status: None,
            outcome,
            reason,
            desired_capacity: None,
            sequence_number,
        });
    }

    /// Items a query skipped: logged by the store, counted and named here.
    fn skip_foreign(&mut self, found: &Found) {
        for e in &found.skipped {
            self.skipped.insert(e.id.clone(), e.message.clone());
        }
    }
}

/// Runs the engine for `trigger` at `now`.
pub async fn run<F, N, M, S, V, R>(
    config: &Config,
    deps: &Deps<F, N, M, S, V, R>,
    trigger: &Trigger,
    now: DateTime<Utc>,
) -> Result<Response, EngineError>
where
    F: FleetDirectory + FleetControl + Sync,
    N: Notifier + Sync,
    M: MetricsPublisher + MetricsSource + Sync,
    S: RecommendationStore + GroupLocks + Sync,
    V: Verifier + Sync,
    R: Members<Reach = Reach<F, M>> + Sync,
{
    let dry_run = config.dry_run || trigger.dry_run();
    let mut tally = Tally::default();
    let mut completed = Vec::new();
    let (items, in_progress) = match trigger {
        Trigger::Stream(records) => {
            let items = stream_items(&deps.store, records, &mut tally).await;
            let in_progress = if items
                .iter()
                .any(|i| i.recommendation.scale_change().is_some())
            {
                let all = every(&deps.store, &SCALE_TYPES, &mut tally).await?;
                all.into_iter()
                    .filter(|r| r.status == Status::InProgress)
                    .collect()
            } else {
                Vec::new()
            };
            (items, in_progress)
        }
        Trigger::Sweep { .. } => {
            // One query per type, every status: the status is only a filter on the index,
            // so five reads cost what the partitions hold, not one read per status. The
            // snoozes that have ended are woken from the same read.
            let all = every(&deps.store, &RecommendationType::ALL, &mut tally).await?;
            let all = wake(&deps.store, all, now, dry_run, &mut tally).await;
            let mut items = Vec::new();
            let mut in_progress = Vec::new();
            for r in all {
                match r.status {
                    Status::Pending | Status::AwaitingApproval | Status::Approved => {}
                    Status::InProgress if r.scale_change().is_some() => {
                        in_progress.push(r.clone());
                    }
                    Status::Completed if needs_outcome(&r, now, analysis_interval(config)) => {
                        completed.push(r);
                        continue;
                    }
                    // An applied schedule: in force, past its end, or replaced.
                    Status::Completed
                        if r.kind == RecommendationType::ScheduledScaling
                            && r.execution
                                .as_ref()
                                .is_some_and(|e| !e.scheduled_actions.is_empty()) => {}
                    _ => continue,
                }
                items.push(Item {
                    recommendation: r,
                    sequence_number: None,
                });
            }
            (items, in_progress)
        }
    };
    // Each shard with its own groups: the function's own (no shard), then each member account
    // and region through the member role. An item whose shard cannot be reached waits.
    let mut shares: BTreeMap<Option<Shard>, Share> = BTreeMap::new();
    for item in items {
        match item.recommendation.shard() {
            Ok(shard) => shares.entry(shard).or_default().items.push(item),
            Err(e) => tally.record(&item, Outcome::Error, e.to_string(), None),
        }
    }
    for r in in_progress {
        if let Ok(shard) = r.shard() {
            shares.entry(shard).or_default().in_progress.push(r);
        }
    }
    for r in completed.drain(..) {
        if let Ok(shard) = r.shard() {
            shares.entry(shard).or_default().completed.push(r);
        }
    }
    let policy = policy(config);
    let context = Context {
        config,
        policy: &policy,
        now,
        dry_run,
    };
    for (shard, share) in shares {
        let reach = match &shard {
            None => None,
            Some(s) => match deps.members.open(s).await {
                Ok(reach) => reach,
                Err(e) => {
                    let reason = format!("reaching {s} through the member role: {e}");
                    for item in &share.items {
                        tally.record(item, Outcome::Error, reason.clone(), None);
                    }
                    continue;
                }
            },
        };
        let at = match &reach {
            None => At::home(deps),
            Some(member) => At {
                fleet: &member.fleet,
                metrics: &member.metrics,
                published: Some(&deps.metrics),
                ..At::home(deps)
            },
        };
        decide_and_act(&at, &context, share, &mut tally).await?;
    }

    if !dry_run {
        notify_approvals(config, &At::home(deps), now, &mut tally).await?;
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
        actions_improved: tally.improved,
        actions_worse: tally.worse,
        rollbacks_failed: tally.rollbacks_failed,
        items_skipped: tally.skipped.keys().cloned().collect(),
        signatures_verified: tally.verified,
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

/// Decides and carries out one shard's items (IN_PROGRESS first, then by urgency) with that
/// shard's groups, then measures its completed changes.
async fn decide_and_act<F, N, M, S, V>(
    deps: &At<'_, F, N, M, S, V>,
    cx: &Context<'_>,
    share: Share,
    tally: &mut Tally,
) -> Result<(), EngineError>
where
    F: FleetDirectory + FleetControl + Sync,
    N: Notifier + Sync,
    M: MetricsSource + Sync,
    S: RecommendationStore + GroupLocks + Sync,
    V: Verifier + Sync,
{
    let Share {
        mut items,
        in_progress,
        completed,
    } = share;
    // IN_PROGRESS first (verifying or rolling back a change frees its group), then by urgency.
    items.sort_by(|a, b| {
        (b.recommendation.status == Status::InProgress)
            .cmp(&(a.recommendation.status == Status::InProgress))
            .then_with(|| plan::rank(&a.recommendation, &b.recommendation))
    });

    let groups: HashMap<String, GroupInfo> = if items.is_empty() {
        HashMap::new()
    } else {
        targeted(cx.config, deps.fleet, &items).await?
    };
    let mut busy: HashMap<String, String> = in_progress
        .iter()
        .map(|r| (r.auto_scaling_group_name.clone(), r.id.clone()))
        .collect();
    let mut activities: HashMap<String, Option<ScalingActivity>> = HashMap::new();
    // Each group's most recently applied schedule: its actions are the ones in force.
    let mut newest_schedule: HashMap<String, (String, String)> = HashMap::new();
    for r in items
        .iter()
        .map(|i| &i.recommendation)
        .filter(|r| r.kind == RecommendationType::ScheduledScaling && r.status == Status::Completed)
    {
        let at = r
            .completed_at()
            .map(fleetopt_model::rfc3339)
            .unwrap_or_default();
        let entry = newest_schedule
            .entry(r.auto_scaling_group_name.clone())
            .or_insert_with(|| (at.clone(), r.id.clone()));
        if (at.as_str(), r.id.as_str()) > (entry.0.as_str(), entry.1.as_str()) {
            *entry = (at, r.id.clone());
        }
    }

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
            cx.now,
            &GroupNow {
                group,
                activity: activities
                    .get(&r.auto_scaling_group_name)
                    .and_then(Option::as_ref),
                busy_with,
                newest_schedule: newest_schedule
                    .get(&r.auto_scaling_group_name)
                    .map(|(_, id)| id.as_str()),
            },
            cx.policy,
        );
        if let Verdict::Apply { .. } | Verdict::Schedule { .. } = verdict {
            busy.insert(r.auto_scaling_group_name.clone(), r.id.clone());
        }
        carry_out(deps, cx, item, verdict, tally).await;
    }
    if !completed.is_empty() {
        measure(
            cx.config, deps, cx.policy, completed, cx.now, cx.dry_run, tally,
        )
        .await;
    }
    Ok(())
}

/// The types the engine changes a group's size for.
const SCALE_TYPES: [RecommendationType; 2] =
    [RecommendationType::ScaleUp, RecommendationType::ScaleDown];

/// The stream's records as items to decide on, each read again from the table: the record's
/// image is never trusted alone (it may be stale, or written by anyone with table access).
async fn stream_items<S: RecommendationStore + Sync>(
    store: &S,
    records: &[crate::event::StreamRecord],
    tally: &mut Tally,
) -> Vec<Item> {
    let mut items = Vec::new();
    for record in records {
        let sequence_number = Some(record.sequence_number.clone());
        match &record.change {
            Ok(Change::Act(r)) => match store.get(&r.id).await {
                Ok(Some(stored)) if stored.timestamp == r.timestamp => items.push(Item {
                    recommendation: stored,
                    sequence_number,
                }),
                Ok(_) => tally.unread(
                    Some(r.id.clone()),
                    Outcome::Ignored,
                    "no longer in the table".to_owned(),
                    sequence_number,
                ),
                Err(StoreError::Decode(e)) => {
                    tracing::warn!(id = %e.id, error = %e.message, "skipped an item that is not a recommendation");
                    tally.skipped.insert(e.id.clone(), e.message.clone());
                    tally.unread(Some(e.id), Outcome::Skipped, e.message, sequence_number);
                }
                Err(e) => tally.unread(
                    Some(r.id.clone()),
                    Outcome::Error,
                    format!("reading it again: {e}"),
                    sequence_number,
                ),
            },
            Ok(Change::Skip(reason)) => {
                tally.unread(None, Outcome::Ignored, reason.clone(), sequence_number);
            }
            Ok(Change::Foreign { id, problem }) => {
                tracing::warn!(%id, %problem, sequence_number = %record.sequence_number, "skipped a stream record whose item is not a recommendation");
                tally.skipped.insert(id.clone(), problem.clone());
                tally.unread(
                    Some(id.clone()),
                    Outcome::Skipped,
                    format!("not a recommendation: {problem}"),
                    sequence_number,
                );
            }
            Err(problem) => {
                tracing::error!(sequence_number = %record.sequence_number, %problem, "unreadable stream record");
                tally.unread(None, Outcome::Error, problem.clone(), sequence_number);
            }
        }
    }
    items
}

/// Every recommendation of these types, whatever its status: one TypeIndex query each. Items
/// that do not decode are skipped and counted.
async fn every<S: RecommendationStore + Sync>(
    store: &S,
    kinds: &[RecommendationType],
    tally: &mut Tally,
) -> Result<Vec<Recommendation>, EngineError> {
    let mut found = Found::default();
    for &kind in kinds {
        let query = RecommendationQuery {
            kind: Some(kind),
            ..RecommendationQuery::default()
        };
        found.extend(store.query(&query).await.map_err(EngineError::Store)?);
    }
    tally.skip_foreign(&found);
    Ok(found.into_items())
}

/// Puts every SNOOZED item of `all` whose snooze has ended back in the status it had (a
/// conditional update, like every status change), before the sweep decides on them: `all` as
/// it stands afterwards.
async fn wake<S: RecommendationStore + Sync>(
    store: &S,
    all: Vec<Recommendation>,
    now: DateTime<Utc>,
    dry_run: bool,
    tally: &mut Tally,
) -> Vec<Recommendation> {
    let mut after = Vec::with_capacity(all.len());
    for r in all {
        let Some(snooze) = r.snooze.clone().filter(|_| r.status == Status::Snoozed) else {
            after.push(r);
            continue;
        };
        let Some(until) = snooze.until() else {
            tracing::warn!(id = %r.id, until = %snooze.until, "unreadable snooze end: left as it is");
            after.push(r);
            continue;
        };
        if until > now {
            after.push(r);
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
            after.push(r);
            continue;
        }
        let back = Transition::new(snooze.previous_status, now, ACTOR).because(&reason);
        let (outcome, why) = match store.transition(&r, &back).await {
            Ok(woken) => {
                after.push(woken);
                (Outcome::Woken, reason)
            }
            Err(StoreError::Conflict { .. }) => {
                after.push(r);
                (
                    Outcome::AlreadyHandled,
                    "another invocation or a person moved it first".to_owned(),
                )
            }
            Err(e) => {
                after.push(r);
                (Outcome::Error, e.to_string())
            }
        };
        tally.record(&item, outcome, why, None);
    }
    after
}

/// The targeted groups the items name, from one (paginated) read of the fleet.
async fn targeted<F: FleetDirectory + Sync>(
    config: &Config,
    fleet: &F,
    items: &[Item],
) -> Result<HashMap<String, GroupInfo>, EngineError> {
    // Named groups: only those the items name, so a small batch reads only its groups.
    let selector = match fleetopt_policy::selector(&config.fleet) {
        GroupSelector::Names(names) => {
            let named: HashSet<&str> = items
                .iter()
                .map(|i| i.recommendation.auto_scaling_group_name.as_str())
                .collect();
            GroupSelector::Names(
                names
                    .into_iter()
                    .filter(|n| named.contains(n.as_str()))
                    .collect(),
            )
        }
        tag => tag,
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

/// What every verdict is carried out with.
struct Context<'a> {
    config: &'a Config,
    policy: &'a Policy,
    now: DateTime<Utc>,
    dry_run: bool,
}

async fn carry_out<F, N, M, S, V>(
    deps: &At<'_, F, N, M, S, V>,
    cx: &Context<'_>,
    item: &Item,
    verdict: Verdict,
    tally: &mut Tally,
) where
    F: FleetDirectory + FleetControl + Sync,
    S: RecommendationStore + GroupLocks + Sync,
    V: Verifier + Sync,
{
    let r = &item.recommendation;
    let (now, dry_run) = (cx.now, cx.dry_run);
    let store = deps.store;
    // The verdicts that only move the item: its new status, and the outcome reported. A
    // final move of a change in flight lets its group's lock go.
    let settle_as = |to: Status, done: Outcome, reason: String| async move {
        let (outcome, why) = settle(store, r, (to, done), reason, now, dry_run).await;
        if !dry_run && r.status == Status::InProgress && outcome == done {
            unlock(store, r).await;
        }
        (outcome, why, None)
    };
    // What is about to be applied is proven first (a dry run only says what it would do).
    if !dry_run && matches!(verdict, Verdict::Apply { .. } | Verdict::Schedule { .. }) {
        match prove(deps, cx.config, r, tally).await {
            Ok(()) => {}
            Err(Proof::Refused(reason)) => {
                let (o, why, _) = settle_as(Status::Failed, Outcome::Failed, reason).await;
                tally.record(item, o, why, None);
                return;
            }
            Err(Proof::Unchecked(e)) => {
                tally.record(
                    item,
                    Outcome::Error,
                    format!("verifying the signature: {e}"),
                    None,
                );
                return;
            }
        }
    }
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
            let (outcome, reason) = apply(deps, cx, r, (from, to, target)).await;
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
        Verdict::Expire(reason) => settle_as(Status::Expired, Outcome::Expired, reason).await,
        Verdict::Obsolete(reason) => settle_as(Status::Obsolete, Outcome::Obsolete, reason).await,
        Verdict::Complete(reason) => settle_as(Status::Completed, Outcome::Completed, reason).await,
        Verdict::Ignore(reason) => (Outcome::Ignored, reason, None),
        Verdict::Schedule { actions, ends_at } => {
            let what = plan::describe_actions(&actions);
            if dry_run {
                tally.record(
                    item,
                    Outcome::Applied,
                    format!("dry run: would put {what} until {}", rfc3339(ends_at)),
                    None,
                );
                return;
            }
            let (outcome, reason) = apply_schedule(deps, cx, r, &actions, ends_at).await;
            (outcome, reason, None)
        }
        Verdict::Unschedule { to, remove, reason } => {
            let done = if to == Status::Superseded {
                Outcome::Superseded
            } else {
                Outcome::Expired
            };
            let names = r
                .execution
                .as_ref()
                .map(|e| e.scheduled_actions.clone())
                .unwrap_or_default();
            if remove && !dry_run {
                let deleted = deps
                    .fleet
                    .delete_scheduled_actions(&r.auto_scaling_group_name, &names)
                    .await;
                if let Some(problem) = refused(&deleted) {
                    let why = format!(
                        "removing the scheduled actions failed, tried again on the next sweep: \
                         {problem}"
                    );
                    tally.record(item, Outcome::Error, why, None);
                    return;
                }
            }
            let reason = if remove {
                format!("removed {}: {reason}", names.join(", "))
            } else {
                reason
            };
            settle_as(to, done, reason).await
        }
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
                let (o, why) = roll_back(deps, r, restore, &reason, now, tally).await;
                (o, why, change)
            }
        }
    };
    tally.record(item, outcome, reason, change);
}

/// Why a change may not be made.
enum Proof {
    /// The proof is missing, or does not verify: FAILED, alerted, the group untouched.
    Refused(String),
    /// The verifier could not be asked: tried again.
    Unchecked(ServiceError),
}

/// The proof behind a change about to be applied, checked with the environment's own keys
/// (never a key the item names): for an APPROVED item the person's approval with the
/// approvals key, for a PENDING automated one the analyzer's signature with the findings key.
/// One Verify call.
async fn prove<F, N, M, S, V>(
    deps: &At<'_, F, N, M, S, V>,
    config: &Config,
    r: &Recommendation,
    tally: &mut Tally,
) -> Result<(), Proof>
where
    V: Verifier + Sync,
{
    let (key, message, signature, what) = match (r.status, &r.approval, &r.attestation) {
        (Status::Approved, Some(approval), _) => (
            &config.approvals.approval_key,
            approval_message(r, approval),
            approval.signature.as_str(),
            format!("the approval by {}", approval.by),
        ),
        (Status::Pending, _, Some(attestation)) => (
            &config.approvals.finding_key,
            // A malformed batch path is refused before (`attestation_problem`); were it not, an
            // empty message verifies nothing.
            fleetopt_model::attested_message(r).unwrap_or_default(),
            attestation.signature.as_str(),
            "the analyzer's signature".to_owned(),
        ),
        (status, _, _) => {
            return Err(Proof::Refused(format!(
                "not applied: {status} without the proof it needs"
            )));
        }
    };
    let Some(bytes) = from_hex(signature) else {
        return Err(Proof::Refused(format!("not applied: {what} is not hex")));
    };
    tally.verified += 1;
    match deps.verifier.verify(key, &message, &bytes).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Proof::Refused(format!(
            "not applied: {what} does not verify with {key} (forged, made with another key, or \
             the item changed after it was signed)"
        ))),
        Err(e) => Err(Proof::Unchecked(e)),
    }
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

/// Lets `r`'s group lock go (held by `r` while it was in flight); a failure only delays the
/// group until the lock expires.
async fn unlock<S: GroupLocks + Sync>(store: &S, r: &Recommendation) {
    if let Err(e) = store.unlock(&r.lock_subject(), &r.id).await {
        tracing::warn!(id = %r.id, error = %e, "could not let the group lock go: it expires on its own");
    }
}

/// Takes the group's lock, then claims `r` (-> IN_PROGRESS, conditional on its status and
/// version, recording `execution`): the claimed item, or what to report instead. A claim
/// another invocation made first keeps its lock (held in the item's name, so theirs now); a
/// claim that failed otherwise lets the lock go.
async fn claim<F, N, M, S, V>(
    deps: &At<'_, F, N, M, S, V>,
    cx: &Context<'_>,
    r: &Recommendation,
    execution: &Execution,
    reason: &str,
) -> Result<Recommendation, (Outcome, String)>
where
    S: RecommendationStore + GroupLocks + Sync,
{
    lock(deps, cx, r).await?;
    let claim = Transition::new(Status::InProgress, cx.now, ACTOR)
        .because(reason)
        .recording(execution);
    match deps.store.transition(r, &claim).await {
        Ok(claimed) => Ok(claimed),
        Err(e @ StoreError::Conflict { .. }) => {
            Err(settled(Err(e), Outcome::Applied, reason.to_owned()))
        }
        Err(e) => {
            unlock(deps.store, r).await;
            Err(settled(Err(e), Outcome::Applied, reason.to_owned()))
        }
    }
}

/// Takes `r`'s group lock, held in `r`'s name until the change settles or the IN_PROGRESS
/// bound passes; when another holds it, or the table fails, what to report instead.
async fn lock<F, N, M, S, V>(
    deps: &At<'_, F, N, M, S, V>,
    cx: &Context<'_>,
    r: &Recommendation,
) -> Result<(), (Outcome, String)>
where
    S: GroupLocks + Sync,
{
    let group = &r.auto_scaling_group_name;
    match deps
        .store
        .lock(
            &r.lock_subject(),
            &r.id,
            cx.now,
            cx.now + cx.policy.in_progress_max_age,
        )
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err((
            Outcome::Waiting,
            format!("another change to {group} is being made by another invocation"),
        )),
        Err(e) => Err((Outcome::Error, format!("locking {group}: {e}"))),
    }
}

/// Whether Auto Scaling refused a change only for now.
fn transient(e: &ServiceError) -> bool {
    e.code == SCALING_ACTIVITY_IN_PROGRESS || e.is_throttling()
}

/// Lock the group (held by this recommendation until it is verified), claim (-> IN_PROGRESS
/// with the execution record), SetDesiredCapacity with HonorCooldown, then record the
/// activity it started. A transient refusal puts the item back where it was.
async fn apply<F, N, M, S, V>(
    deps: &At<'_, F, N, M, S, V>,
    cx: &Context<'_>,
    r: &Recommendation,
    (from, to, target): (u32, u32, u32),
) -> (Outcome, String)
where
    F: FleetDirectory + FleetControl + Sync,
    S: RecommendationStore + GroupLocks + Sync,
{
    let now = cx.now;
    let group = &r.auto_scaling_group_name;
    let execution = Execution {
        previous_capacity: from,
        new_capacity: to,
        applied_at: rfc3339(now),
        activity_id: None,
        target_capacity: (to != target).then_some(target),
        ..Execution::default()
    };
    let reason = if to == target {
        format!("desired capacity {from} -> {to}")
    } else {
        format!(
            "desired capacity {from} -> {to}: one step towards {target} (step limits); the next \
             analysis decides on the rest"
        )
    };
    let claimed = match claim(deps, cx, r, &execution, &reason).await {
        Ok(claimed) => claimed,
        Err(not_claimed) => return not_claimed,
    };
    if let Err(e) = deps.fleet.set_desired_capacity(group, to, true).await {
        let (to_status, outcome, why) = if transient(&e) {
            (
                r.status,
                Outcome::Released,
                format!(
                    "Auto Scaling refused the change for now ({}): back to {}, tried again on \
                     the next sweep",
                    e, r.status
                ),
            )
        } else {
            (
                Status::Failed,
                Outcome::Failed,
                format!("SetDesiredCapacity failed: {e}"),
            )
        };
        let back = Transition::new(to_status, now, ACTOR).because(&why);
        if let Err(store_error) = deps.store.transition(&claimed, &back).await {
            // Left IN_PROGRESS: the sweep finds the group unchanged and settles it.
            tracing::error!(id = %r.id, error = %store_error, "could not record the refused change");
        }
        unlock(deps.store, r).await;
        return (outcome, why);
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

/// What a batch of scheduled-action calls did not do, in words; `None` when it did it all.
fn refused(result: &Result<Vec<fleetopt_ports::ActionFailure>, ServiceError>) -> Option<String> {
    match result {
        Ok(failed) if failed.is_empty() => None,
        Ok(failed) => Some(
            failed
                .iter()
                .map(|f| format!("{} ({}: {})", f.name, f.code, f.message))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Err(e) => Some(e.to_string()),
    }
}

/// Lock the group, claim (-> IN_PROGRESS, the execution record naming the actions), put the
/// schedule's actions in one BatchPutScheduledUpdateGroupAction, then -> COMPLETED. When Auto
/// Scaling refuses any of them, the ones it put are deleted again and the item is ROLLED_BACK:
/// a schedule is in force whole or not at all.
async fn apply_schedule<F, N, M, S, V>(
    deps: &At<'_, F, N, M, S, V>,
    cx: &Context<'_>,
    r: &Recommendation,
    windows: &[fleetopt_scoring::ScheduledWindow],
    ends_at: DateTime<Utc>,
) -> (Outcome, String)
where
    F: FleetDirectory + FleetControl + Sync,
    S: RecommendationStore + GroupLocks + Sync,
{
    let now = cx.now;
    let group = &r.auto_scaling_group_name;
    let actions: Vec<fleetopt_ports::ScheduledAction> = windows
        .iter()
        .map(|w| fleetopt_ports::ScheduledAction {
            group: group.clone(),
            name: w.action_name(),
            recurrence: Some(w.recurrence.clone()),
            min_size: Some(w.min_size),
            max_size: Some(w.max_size),
            desired_capacity: Some(w.desired_capacity),
            end_time: Some(ends_at),
        })
        .collect();
    let names: Vec<String> = actions.iter().map(|a| a.name.clone()).collect();
    let desired = r.evidence.desired_capacity.unwrap_or_default();
    let execution = Execution {
        previous_capacity: desired,
        new_capacity: desired,
        applied_at: rfc3339(now),
        scheduled_actions: names.clone(),
        schedule_ends_at: Some(rfc3339(ends_at)),
        ..Execution::default()
    };
    let what = plan::describe_actions(windows);
    let claimed = match claim(deps, cx, r, &execution, &format!("putting {what}")).await {
        Ok(claimed) => claimed,
        Err(not_claimed) => return not_claimed,
    };
    let put = deps.fleet.put_scheduled_actions(group, &actions).await;
    let (to, outcome, why) = match refused(&put) {
        None => (
            Status::Completed,
            Outcome::Applied,
            format!("put {what}, until {}", rfc3339(ends_at)),
        ),
        Some(problem) => {
            // Whatever went in comes out again: deleting an action that is not there is no
            // failure.
            let deleted = deps.fleet.delete_scheduled_actions(group, &names).await;
            let undone = match refused(&deleted) {
                None => "the others were removed".to_owned(),
                Some(left) => format!(
                    "could not remove them ({left}): remove {} by hand",
                    names.join(", ")
                ),
            };
            (
                Status::RolledBack,
                Outcome::RolledBack,
                format!("Auto Scaling refused {problem}; {undone}"),
            )
        }
    };
    let result = deps
        .store
        .transition(&claimed, &Transition::new(to, now, ACTOR).because(&why))
        .await;
    unlock(deps.store, r).await;
    settled(result, outcome, why)
}

/// Restores the previous capacity (without HonorCooldown: undoing must not wait), then
/// ROLLED_BACK. A rollback that fails is alerted and counted, and tried again on the next
/// sweep.
async fn roll_back<F, N, M, S, V>(
    deps: &At<'_, F, N, M, S, V>,
    r: &Recommendation,
    restore: u32,
    reason: &str,
    now: DateTime<Utc>,
    tally: &mut Tally,
) -> (Outcome, String)
where
    F: FleetDirectory + FleetControl + Sync,
    S: RecommendationStore + GroupLocks + Sync,
{
    if let Err(e) = deps
        .fleet
        .set_desired_capacity(&r.auto_scaling_group_name, restore, false)
        .await
    {
        tally.rollbacks_failed += 1;
        let why = format!("rolling back to {restore} failed, tried again on the next sweep: {e}");
        tally.alerts.push(format!(
            "- ROLLBACK FAILED {} {} ({}): {why}; the rollback was for: {reason}",
            r.kind, r.auto_scaling_group_name, r.id
        ));
        return (Outcome::Error, why);
    }
    let why = format!("restored desired capacity {restore}: {reason}");
    let result = deps
        .store
        .transition(
            r,
            &Transition::new(Status::RolledBack, now, ACTOR).because(&why),
        )
        .await;
    unlock(deps.store, r).await;
    settled(result, Outcome::RolledBack, why)
}

/// Whether `r` is a completed capacity change whose outcome can be measured now: it completed
/// at least one analysis interval ago, within [`OUTCOME_LOOKBACK`], and has none yet.
fn needs_outcome(r: &Recommendation, now: DateTime<Utc>, interval: Duration) -> bool {
    r.scale_change().is_some()
        && r.execution.is_some()
        && r.outcome.is_none()
        && r.completed_at()
            .is_some_and(|at| at + interval <= now && at + OUTCOME_LOOKBACK > now)
}

/// Records the outcome of every completed change in `completed`: the performance score the
/// analyzer published for the first full interval after it, and the CPU over that interval,
/// in one GetMetricData read, against the figures the change was decided on. A WORSE
/// automated change is alerted, and rolled back when the environment says so.
async fn measure<F, N, M, S, V>(
    config: &Config,
    deps: &At<'_, F, N, M, S, V>,
    policy: &Policy,
    completed: Vec<Recommendation>,
    now: DateTime<Utc>,
    dry_run: bool,
    tally: &mut Tally,
) where
    F: FleetDirectory + FleetControl + Sync,
    M: MetricsSource + Sync,
    S: RecommendationStore + GroupLocks + Sync,
{
    let interval = analysis_interval(config);
    let Some(start) = completed
        .iter()
        .filter_map(Recommendation::completed_at)
        .min()
    else {
        return;
    };
    let mut queries = Vec::new();
    for (i, r) in completed.iter().enumerate() {
        let group = r.auto_scaling_group_name.clone();
        queries.push(MetricQuery {
            id: format!("o{i}_score"),
            namespace: config.metrics_namespace.clone().into(),
            name: "PerformanceScore",
            dimensions: vec![
                ("Environment", config.environment.as_str().to_owned()),
                ("AutoScalingGroupName", group.clone()),
            ],
            statistic: Statistic::Average,
            period_seconds: 300,
        });
        queries.push(MetricQuery {
            id: format!("o{i}_cpu"),
            namespace: "AWS/EC2".into(),
            name: "CPUUtilization",
            dimensions: vec![("AutoScalingGroupName", group)],
            statistic: Statistic::Average,
            period_seconds: 300,
        });
    }
    let window = TimeWindow { start, end: now };
    // The scores are the analyzer's, published in the function's own account; the CPU is the
    // group's, in its shard's (the same account for the function's own groups).
    let read = async {
        let Some(published) = deps.published else {
            return deps.metrics.read(&window, &queries).await;
        };
        let (scores, cpu): (Vec<MetricQuery>, Vec<MetricQuery>) = queries
            .into_iter()
            .partition(|q| q.namespace == config.metrics_namespace);
        let mut series = published.read(&window, &scores).await?;
        series.extend(deps.metrics.read(&window, &cpu).await?);
        Ok::<_, ServiceError>(series)
    };
    let series = match read.await {
        Ok(series) => series,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the outcomes of completed changes: tried again on the next sweep");
            return;
        }
    };
    for (i, r) in completed.into_iter().enumerate() {
        let Some(done) = r.completed_at() else {
            continue;
        };
        let after = done + interval;
        // The first score published for a window that began after the change.
        let score_after = series
            .get(&format!("o{i}_score"))
            .and_then(|points| points.iter().find(|(t, _)| *t >= after))
            .map(|(_, v)| *v);
        let cpu: Vec<f64> = series
            .get(&format!("o{i}_cpu"))
            .map(|points| {
                points
                    .iter()
                    .filter(|(t, _)| *t >= done && *t < after)
                    .map(|(_, v)| *v)
                    .collect()
            })
            .unwrap_or_default();
        let item = Item {
            recommendation: r.clone(),
            sequence_number: None,
        };
        let (Some(score_before), Some(score_after)) = (r.evidence.performance_score, score_after)
        else {
            tally.record(
                &item,
                Outcome::Waiting,
                format!(
                    "outcome: no performance score published for the interval after {} yet",
                    rfc3339(done)
                ),
                None,
            );
            continue;
        };
        let outcome = ChangeOutcome {
            score_before,
            score_after,
            cpu_before: r.evidence.cpu_average,
            cpu_after: (!cpu.is_empty()).then(|| cpu.iter().sum::<f64>() / cpu.len() as f64),
            verdict: judge(score_before, score_after),
            measured_at: rfc3339(now),
        };
        let reason = format!(
            "outcome {}: score {score_before:.1} -> {score_after:.1}{}",
            outcome.verdict.as_str(),
            match (outcome.cpu_before, outcome.cpu_after) {
                (Some(b), Some(a)) => format!(", CPU {b:.1} % -> {a:.1} %"),
                _ => String::new(),
            }
        );
        if dry_run {
            tally.record(&item, Outcome::Measured, format!("dry run: {reason}"), None);
            continue;
        }
        let recorded = match deps.store.record_outcome(&r, &outcome).await {
            Ok(recorded) => recorded,
            Err(e) => {
                tally.record(
                    &item,
                    Outcome::Error,
                    format!("recording the outcome: {e}"),
                    None,
                );
                continue;
            }
        };
        match outcome.verdict {
            fleetopt_model::OutcomeVerdict::Improved => tally.improved += 1,
            fleetopt_model::OutcomeVerdict::Worse => tally.worse += 1,
            fleetopt_model::OutcomeVerdict::Unchanged => {}
        }
        let automated = r.implementation.automated && r.kind == RecommendationType::ScaleUp;
        if outcome.verdict == fleetopt_model::OutcomeVerdict::Worse && automated {
            tally.alerts.push(format!(
                "- WORSE after an automated {} of {} ({}): {reason}",
                r.kind, r.auto_scaling_group_name, r.id
            ));
            if config.approvals.roll_back_worse {
                let groups = targeted(config, deps.fleet, std::slice::from_ref(&item)).await;
                let restore = groups.ok().and_then(|g| {
                    let group = g.get(&r.auto_scaling_group_name)?;
                    let previous = r.execution.as_ref()?.previous_capacity;
                    Some(
                        policy
                            .step
                            .step(group.desired, previous)
                            .clamp(group.min_size, group.max_size.max(group.min_size)),
                    )
                });
                if let Some(restore) = restore {
                    let (o, why) = roll_back(deps, &recorded, restore, &reason, now, tally).await;
                    tally.record(&item, o, why, None);
                    continue;
                }
            }
        }
        tally.record(&item, Outcome::Measured, reason, None);
    }
}

/// One message for every recommendation that now needs a person, then their moves to
/// AWAITING_APPROVAL.
async fn notify_approvals<F, N, M, S, V>(
    config: &Config,
    deps: &At<'_, F, N, M, S, V>,
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
            let replaces = r
                .replaces
                .as_ref()
                .map(|old| format!(" It replaces {old}, which is superseded."))
                .unwrap_or_default();
            message.push_str(&format!(
                "- [{} {}] {} ({}): {}{replaces}\n  approve: fleetopt approve {} --environment {}\n  reject:  fleetopt reject {} --reason <why> --environment {}\n",
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

/// One message on the performance-alert topic for every failure, rollback, failed rollback
/// and WORSE outcome of this run.
async fn alert<N: Notifier + Sync>(
    config: &Config,
    notifier: &N,
    tally: &Tally,
) -> Result<(), EngineError> {
    let (Some(topic), false) = (&config.topics.performance_alert, tally.alerts.is_empty()) else {
        return Ok(());
    };
    let subject = format!(
        "fleet-optimizer {}: {} scaling change(s) failed, rolled back or made things worse",
        config.environment,
        tally.alerts.len()
    );
    notifier
        .notify(topic, &subject, &tally.alerts.join("\n"))
        .await
        .map_err(EngineError::Alert)
}

/// ActionsApplied, ActionsFailed and ActionsRolledBack for the environment (always, zeros
/// included, so alarms see data) and for every group with an action, plus the environment's
/// ActionsImproved and ActionsWorse, in one PutMetricData.
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
    for (name, value) in [
        ("ActionsImproved", tally.improved),
        ("ActionsWorse", tally.worse),
    ] {
        data.push(MetricDatum {
            name,
            dimensions: vec![("Environment", environment.clone())],
            value: f64::from(value),
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
    use fleetopt_ports::fakes::{FakeFleet, FakeKeys, FakeMembers, InMemoryStore, Recorder, group};
    use fleetopt_ports::{ActivityStatus, PutOutcome};

    type FakeDeps = Deps<FakeFleet, Recorder, Recorder, InMemoryStore, FakeKeys, FakeMembers>;

    /// The environment's keys as the test config names them (the default aliases).
    const FINDINGS: &str = "alias/app-production-findings";
    const APPROVALS: &str = "alias/app-production-approvals";

    /// `r` as the analyzer writes it (signed with the findings key) when it is automated, and
    /// with a person's signed approval when it is APPROVED.
    async fn signed(r: &Recommendation) -> Recommendation {
        let keys = FakeKeys::holding(&[FINDINGS, APPROVALS]);
        let mut r = r.clone();
        if r.implementation.automated && r.attestation.is_none() {
            // Signed in a batch, as the analyzer signs a run's changes: with another item, so
            // the engine checks a real path to the root.
            let mut other = r.clone();
            other.id = format!("{}-other", r.id);
            fleetopt_ports::attest_all(&keys, FINDINGS, &mut [&mut other, &mut r])
                .await
                .unwrap();
            assert!(r.attestation.as_ref().is_some_and(|a| a.batch.is_some()));
        }
        if r.status == Status::Approved && r.approval.is_none() {
            let mut before = r.clone();
            before.version -= 1;
            let approval = fleetopt_ports::sign_approval(
                &keys,
                APPROVALS,
                &before,
                "arn:aws:iam::111122223333:user/ops",
                now() - Duration::minutes(1),
                Duration::hours(6),
            )
            .await
            .unwrap();
            r.approval = Some(approval);
        }
        r
    }

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
            verifier: FakeKeys::default(),
            members: FakeMembers::new(None),
        }
    }

    /// The sweep at `at`, with the test configuration.
    async fn sweep(deps: &FakeDeps, at: DateTime<Utc>) -> Response {
        run(&config(&[]), deps, &Trigger::Sweep { dry_run: false }, at)
            .await
            .unwrap()
    }

    /// Runs two invocations at once; how many changes they applied together.
    async fn applied_concurrently(deps: &FakeDeps, a: &Trigger, b: &Trigger) -> u32 {
        let config = config(&[]);
        let (ra, rb) = tokio::join!(run(&config, deps, a, now()), run(&config, deps, b, now()));
        ra.unwrap().actions_applied + rb.unwrap().actions_applied
    }

    /// Stores each, signed as the analyzer and an approver would have.
    async fn stored(deps: &FakeDeps, rs: &[&Recommendation]) {
        for r in rs {
            assert_eq!(
                deps.store.put_new(&signed(r).await).await,
                Ok(PutOutcome::Written)
            );
        }
    }

    /// Stores `r`, then hands the engine its insert record (the test config, at `now()`).
    async fn handled(deps: &FakeDeps, r: &Recommendation) -> Response {
        stored(deps, &[r]).await;
        run(&config(&[]), deps, &inserted(&[r]), now())
            .await
            .unwrap()
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
        let response = handled(&deps, &r).await;
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
        // The same record again (a retried batch): the item, read again, is IN_PROGRESS now
        // and waits for its instances; nothing is applied twice.
        let again = run(&config(&[]), &deps, &inserted(&[&r]), now())
            .await
            .unwrap();
        assert_eq!(again.decisions[0].outcome, Outcome::Waiting);
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

    /// `r` as the analyzer writes it for `web` in another account and region.
    fn in_shard(mut r: Recommendation, shard: &Shard) -> Recommendation {
        r.account_id = Some(shard.account_id().to_owned());
        r.region = Some(shard.region().to_owned());
        r.id = recommendation_id_of(&r, shard);
        r
    }

    fn recommendation_id_of(r: &Recommendation, shard: &Shard) -> String {
        fleetopt_model::recommendation_id(
            r.source,
            Some(shard),
            &r.auto_scaling_group_name,
            r.kind,
            &r.analysis_window,
        )
    }

    #[tokio::test]
    async fn a_shards_change_is_made_in_its_account_and_the_same_name_at_home_is_untouched() {
        let member = Shard::new("444455556666", "eu-west-1").unwrap();
        let theirs = FakeFleet::new([group("web")]);
        let deps = FakeDeps {
            members: FakeMembers::new(None).with(member.clone(), theirs.clone(), Recorder::new()),
            ..deps(Recorder::new())
        };
        let r = in_shard(sample("web", 9), &member);
        let response = handled(&deps, &r).await;
        assert_eq!(
            response.decisions[0].outcome,
            Outcome::Applied,
            "{response:?}"
        );
        assert_eq!(
            response.decisions[0].account_id.as_deref(),
            Some("444455556666")
        );
        assert_eq!(theirs.calls(), vec![("web".to_owned(), 5, true)]);
        assert!(
            deps.fleet.calls().is_empty(),
            "the own account's web is another group"
        );
        assert_eq!(
            deps.store.get(&r.id).await.unwrap().unwrap().status,
            Status::InProgress
        );

        // A shard whose member role cannot be assumed: the item waits as an error, its record
        // goes back to the stream, and nothing is changed anywhere.
        let unreachable = Shard::new("777788889999", "eu-west-1").unwrap();
        let stranded = in_shard(sample("api", 9), &unreachable);
        let response = handled(&deps, &stranded).await;
        let decision = &response.decisions[0];
        assert_eq!(decision.outcome, Outcome::Error);
        assert!(
            decision
                .reason
                .contains("reaching 777788889999/eu-west-1 through the member role")
                && decision.reason.contains("AccessDenied"),
            "{}",
            decision.reason
        );
        assert_eq!(response.batch_item_failures.len(), 1);
        assert_eq!(theirs.calls().len(), 1);
        assert!(deps.fleet.calls().is_empty());

        // An item whose account is half there is refused, not sent home.
        let mut half = sample("web", 8);
        half.account_id = Some("444455556666".into());
        let response = handled(&deps, &half).await;
        assert_eq!(response.decisions[0].outcome, Outcome::Error);
        assert!(deps.fleet.calls().is_empty());

        // The own web's change does not wait for the member's web, whose change still holds
        // its lock (IN_PROGRESS until verified): they are two groups, two locks.
        let own = sample("web", 9);
        let response = handled(&deps, &own).await;
        assert_eq!(
            response.decisions[0].outcome,
            Outcome::Applied,
            "{response:?}"
        );
        assert_eq!(deps.fleet.calls(), vec![("web".to_owned(), 5, true)]);
    }

    #[tokio::test]
    async fn two_concurrent_invocations_with_the_same_record_apply_it_once() {
        for _ in 0..50 {
            let deps = deps(Recorder::new());
            let r = sample("web", 9);
            stored(&deps, &[&r]).await;
            let trigger = inserted(&[&r]);
            assert_eq!(applied_concurrently(&deps, &trigger, &trigger).await, 1);
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
            let response = handled(&deps, &r).await;
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
        let response = handled(&deps, &r).await;
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
    async fn an_item_another_version_wrote_is_skipped_alone() {
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
        // An item another version wrote is skipped and named, never retried forever.
        assert_eq!(response.batch_item_failures, vec![]);
        assert_eq!(response.items_skipped, vec![r.id.clone()]);
        assert_eq!(response.decisions[0].outcome, Outcome::Skipped);
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
            assert_eq!(deps.store.get(&r.id).await.unwrap(), Some(signed(r).await));
        }
    }

    #[tokio::test]
    async fn the_sweep_completes_verified_changes_and_rolls_back_bad_ones() {
        let deps = deps(Recorder::new());
        let up = sample("web", 9);
        let other = sample("api", 9);
        stored(&deps, &[&up, &other]).await;
        let applied_at = now();
        sweep(&deps, applied_at).await;
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
        let response = sweep(&deps, later).await;
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
        assert_eq!(item.status, Status::Expired);
        assert!(deps.fleet.calls().is_empty());
    }

    #[tokio::test]
    async fn a_snooze_ends_on_the_first_sweep_after_it_and_not_before() {
        let deps = deps(Recorder::new());
        let mut r = sample("web", 9);
        r.kind = RecommendationType::ScaleDown;
        r.status = Status::AwaitingApproval;
        stored(&deps, &[&r]).await;
        // Shorter than the 6 h an approval request lives: it wakes to wait again.
        let until = now() + Duration::hours(2);
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

    #[tokio::test]
    async fn an_approval_written_straight_to_the_table_is_refused_alerted_and_changes_nothing() {
        let deps = deps(Recorder::new());
        let mut down = scale_down("api");
        down.status = Status::Approved;
        down.version = 3;
        // Written by someone with table access: no approval at all.
        deps.store.overwrite(&down);
        let response = sweep(&deps, now()).await;
        assert_eq!(response.decisions[0].outcome, Outcome::Failed);
        assert!(
            response.decisions[0]
                .reason
                .contains("without a signed approval")
        );
        // A forged signature (well-formed, made with no key the engine trusts).
        let mut forged = scale_down("web");
        forged.status = Status::Approved;
        let mut approval = fleetopt_model::unsigned_approval(
            &forged,
            "arn:aws:iam::1:user/x",
            now(),
            Duration::hours(6),
        );
        approval.signature = "00".repeat(32);
        forged.approval = Some(approval);
        deps.store.overwrite(&forged);
        let response = sweep(&deps, now()).await;
        let decision = &response.decisions[0];
        assert_eq!(decision.outcome, Outcome::Failed);
        assert!(
            decision.reason.contains("does not verify"),
            "{}",
            decision.reason
        );
        assert_eq!(response.signatures_verified, 1);
        assert!(deps.fleet.calls().is_empty(), "no group moved");
        let alerts = deps.notifier.notifications();
        assert!(
            alerts.iter().any(|(_, _, m)| m.contains("does not verify")),
            "{alerts:?}"
        );
        let item = deps.store.get(&forged.id).await.unwrap().unwrap();
        assert_eq!(item.status, Status::Failed);
    }

    #[tokio::test]
    async fn a_forged_automated_scale_up_is_refused_and_a_signed_one_applied() {
        let deps = deps(Recorder::new());
        let mut forged = sample("web", 9);
        forged.attestation = Some(fleetopt_model::Attestation {
            key_id: "mine".into(),
            algorithm: fleetopt_model::SIGNING_ALGORITHM.into(),
            signature: "ab".repeat(32),
            batch: None,
        });
        deps.store.overwrite(&forged);
        let response = run(&config(&[]), &deps, &inserted(&[&forged]), now())
            .await
            .unwrap();
        assert_eq!(response.decisions[0].outcome, Outcome::Failed);
        assert!(
            response.decisions[0]
                .reason
                .contains("analyzer's signature does not verify")
        );
        assert!(deps.fleet.calls().is_empty());
        // The analyzer's own, for the other group.
        let genuine = sample("api", 9);
        let response = handled(&deps, &genuine).await;
        assert_eq!(response.decisions[0].outcome, Outcome::Applied);
        assert_eq!(deps.fleet.calls(), vec![("api".to_owned(), 5, true)]);
    }

    #[tokio::test]
    async fn a_signed_approval_is_applied_once_and_a_week_old_one_expires() {
        let deps = deps(Recorder::new());
        let mut down = scale_down("api");
        down.status = Status::Approved;
        down.version = 3;
        stored(&deps, &[&down]).await;
        let response = sweep(&deps, now()).await;
        assert_eq!(
            response.decisions[0].outcome,
            Outcome::Applied,
            "{:?}",
            response.decisions
        );
        assert_eq!(deps.fleet.calls(), vec![("api".to_owned(), 3, true)]);

        let deps = self::deps(Recorder::new());
        stored(&deps, &[&down]).await;
        let week = now() + Duration::days(7);
        let response = sweep(&deps, week).await;
        assert_eq!(response.decisions[0].outcome, Outcome::Expired);
        assert!(deps.fleet.calls().is_empty());
        assert_eq!(
            deps.store.get(&down.id).await.unwrap().unwrap().status,
            Status::Expired
        );
    }

    /// `scheduled_sample(group, 9)` APPROVED by ops at `now()` for 14 days (the manual
    /// approvals' age), signed with the approvals key, and stored.
    async fn approved_schedule(deps: &FakeDeps, group: &str, quiet: u32) -> Recommendation {
        let mut r = fleetopt_ports::fakes::contract::scheduled_sample(group, 9);
        if let Some(s) = r.evidence.schedule.as_mut() {
            s.actions[0].desired_capacity = quiet;
            s.quiet_capacity = quiet;
        }
        r.id = format!("{}-{quiet}", r.id);
        let before = r.clone();
        r.status = Status::Approved;
        r.version = before.version + 1;
        r.approval = Some(
            fleetopt_ports::sign_approval(
                &FakeKeys::holding(&[APPROVALS]),
                APPROVALS,
                &r,
                "arn:aws:iam::111122223333:user/ops",
                now(),
                Duration::days(14),
            )
            .await
            .unwrap(),
        );
        assert_eq!(deps.store.put_new(&r).await, Ok(PutOutcome::Written));
        r
    }

    fn actions(deps: &FakeDeps, group: &str) -> Vec<(String, String, Option<u32>)> {
        deps.fleet
            .scheduled(group)
            .into_iter()
            .map(|a| (a.name, a.recurrence.unwrap_or_default(), a.desired_capacity))
            .collect()
    }

    #[tokio::test]
    async fn an_approved_schedule_is_put_whole_completed_and_expires_after_its_lifetime() {
        let deps = deps(Recorder::new());
        let r = approved_schedule(&deps, "web", 2).await;
        let dry = run(
            &config(&[]),
            &deps,
            &Trigger::Sweep { dry_run: true },
            now(),
        )
        .await
        .unwrap();
        assert!(
            dry.decisions[0].reason.starts_with(
                "dry run: would put fleetopt-quiet (0 20 * * *, desired 2, min 2, max 10) and \
                 fleetopt-busy (0 7 * * *, desired 4, min 2, max 10) until 2026-12-23T10:05:00Z"
            ),
            "{:?}",
            dry.decisions
        );
        assert!(actions(&deps, "web").is_empty(), "a dry run puts nothing");

        let response = sweep(&deps, now()).await;
        assert_eq!(response.decisions[0].outcome, Outcome::Applied);
        assert_eq!(response.actions_applied, 1);
        assert_eq!(
            actions(&deps, "web"),
            vec![
                ("fleetopt-busy".into(), "0 7 * * *".into(), Some(4)),
                ("fleetopt-quiet".into(), "0 20 * * *".into(), Some(2)),
            ]
        );
        let ends = now() + plan::SCHEDULE_LIFETIME;
        assert!(
            deps.fleet
                .scheduled("web")
                .iter()
                .all(|a| a.end_time == Some(ends) && a.min_size == Some(2))
        );
        assert!(deps.fleet.calls().is_empty(), "the capacity is not touched");
        let item = deps.store.get(&r.id).await.unwrap().unwrap();
        assert_eq!(item.status, Status::Completed);
        let execution = item.execution.unwrap();
        assert_eq!(
            execution.scheduled_actions,
            vec!["fleetopt-quiet".to_owned(), "fleetopt-busy".to_owned()]
        );
        // In force: the next sweeps leave it, until its end.
        let again = sweep(&deps, now() + Duration::days(1)).await;
        assert_eq!(again.decisions[0].outcome, Outcome::Ignored);
        assert_eq!(actions(&deps, "web").len(), 2);
        let over = sweep(&deps, ends).await;
        assert_eq!(
            over.decisions[0].outcome,
            Outcome::Expired,
            "{:?}",
            over.decisions
        );
        assert!(actions(&deps, "web").is_empty(), "removed when it expires");
        assert_eq!(
            deps.store.get(&r.id).await.unwrap().unwrap().status,
            Status::Expired
        );
    }

    #[tokio::test]
    async fn a_refused_action_rolls_the_whole_schedule_back_and_is_alerted() {
        let alerts = Recorder::new();
        let deps = deps(alerts.clone());
        deps.fleet.refuse_action("fleetopt-busy");
        let r = approved_schedule(&deps, "web", 2).await;
        let response = sweep(&deps, now()).await;
        assert_eq!(response.decisions[0].outcome, Outcome::RolledBack);
        assert!(
            response.decisions[0]
                .reason
                .contains("Auto Scaling refused fleetopt-busy (ValidationError"),
            "{}",
            response.decisions[0].reason
        );
        assert!(
            actions(&deps, "web").is_empty(),
            "the quiet action came out again"
        );
        assert_eq!(
            deps.store.get(&r.id).await.unwrap().unwrap().status,
            Status::RolledBack
        );
        assert_eq!(alerts.notifications().len(), 1);
    }

    #[tokio::test]
    async fn a_newer_schedule_replaces_the_actions_and_supersedes_the_older() {
        let deps = deps(Recorder::new());
        let older = approved_schedule(&deps, "web", 2).await;
        let newer = approved_schedule(&deps, "web", 3).await;
        // One change to a group at a time: the newest first (ids break the tie), then the other.
        let first = sweep(&deps, now()).await;
        let outcomes: Vec<Outcome> = first.decisions.iter().map(|d| d.outcome).collect();
        assert!(outcomes.contains(&Outcome::Applied), "{outcomes:?}");
        let second = sweep(&deps, now() + Duration::hours(1)).await;
        assert!(
            second
                .decisions
                .iter()
                .any(|d| d.outcome == Outcome::Applied),
            "{:?}",
            second.decisions
        );
        // Both completed: the one applied last is in force, the other superseded without
        // touching the actions, which are the last one's.
        let completed_at =
            async |r: &Recommendation| deps.store.get(&r.id).await.unwrap().unwrap().completed_at();
        let last = if completed_at(&newer).await > completed_at(&older).await {
            (&newer, &older)
        } else {
            (&older, &newer)
        };
        let in_force = actions(&deps, "web");
        let third = sweep(&deps, now() + Duration::hours(2)).await;
        let superseded: Vec<&Decision> = third
            .decisions
            .iter()
            .filter(|d| d.outcome == Outcome::Superseded)
            .collect();
        assert_eq!(superseded.len(), 1, "{:?}", third.decisions);
        assert_eq!(
            superseded[0].recommendation_id.as_deref(),
            Some(last.1.id.as_str())
        );
        assert_eq!(
            actions(&deps, "web"),
            in_force,
            "the newer schedule's actions stay"
        );
        assert_eq!(
            deps.store.get(&last.0.id).await.unwrap().unwrap().status,
            Status::Completed
        );
    }

    #[tokio::test]
    async fn approved_schedules_and_scale_downs_wait_for_the_change_window_and_say_when() {
        let deps = deps(Recorder::new());
        let r = approved_schedule(&deps, "web", 2).await;
        // 02:00 to 03:00 UTC daily; the test's now is 10:05.
        let window = config(&[
            ("FLEETOPT_CHANGE_WINDOW_CRON", "0 2 * * *"),
            ("FLEETOPT_CHANGE_WINDOW_MINUTES", "60"),
        ]);
        let sweep_at = |at| run(&window, &deps, &Trigger::Sweep { dry_run: false }, at);
        let waiting = sweep_at(now()).await.unwrap();
        assert_eq!(waiting.decisions[0].outcome, Outcome::Waiting);
        let reason = &waiting.decisions[0].reason;
        assert!(
            reason.starts_with(
                "waits for the change window (0 2 * * * UTC for 60 minutes): runs at \
                 2026-11-24T02:00:00Z (then puts fleetopt-quiet (0 20 * * *, desired 2"
            ),
            "{reason}"
        );
        assert!(actions(&deps, "web").is_empty());
        let item = deps.store.get(&r.id).await.unwrap().unwrap();
        assert_eq!(
            item.last_check.map(|c| c.reason).as_ref(),
            Some(reason),
            "the item says when"
        );
        let open = Utc.with_ymd_and_hms(2026, 11, 24, 2, 10, 0).unwrap();
        let applied = sweep_at(open).await.unwrap();
        assert_eq!(applied.decisions[0].outcome, Outcome::Applied);
        assert_eq!(actions(&deps, "web").len(), 2);
    }

    #[tokio::test]
    async fn a_transient_refusal_gives_the_approval_back_instead_of_spending_it() {
        let deps = deps(Recorder::new());
        let mut down = scale_down("api");
        down.status = Status::Approved;
        down.version = 3;
        stored(&deps, &[&down]).await;
        deps.fleet.refuse_next(&[SCALING_ACTIVITY_IN_PROGRESS]);
        let sweep = Trigger::Sweep { dry_run: false };
        let response = run(&config(&[]), &deps, &sweep, now()).await.unwrap();
        assert_eq!(response.decisions[0].outcome, Outcome::Released);
        let item = deps.store.get(&down.id).await.unwrap().unwrap();
        assert_eq!(item.status, Status::Approved);
        assert_eq!(deps.fleet.group("api").unwrap().desired, 4);
        // The next sweep applies it, with the same approval.
        let response = run(&config(&[]), &deps, &sweep, now() + Duration::minutes(15))
            .await
            .unwrap();
        assert_eq!(
            response.decisions[0].outcome,
            Outcome::Applied,
            "{:?}",
            response.decisions
        );
        assert_eq!(deps.fleet.group("api").unwrap().desired, 3);
    }

    #[tokio::test]
    async fn a_failing_rollback_is_alerted_counted_and_tried_again() {
        let deps = deps(Recorder::new());
        let up = sample("web", 9);
        stored(&deps, &[&up]).await;
        sweep(&deps, now()).await;
        // The new instance never comes: past the deadline, the rollback is refused.
        deps.fleet.set_group(GroupInfo {
            desired: 5,
            in_service: 4,
            healthy: 4,
            ..group("web")
        });
        deps.fleet.refuse_next(&["ValidationError"]);
        let late = now() + Duration::minutes(20);
        let response = sweep(&deps, late).await;
        assert_eq!(response.rollbacks_failed, 1);
        assert_eq!(response.decisions[0].outcome, Outcome::Error);
        let alerts = deps.notifier.notifications();
        assert!(
            alerts.iter().any(|(_, _, m)| m.contains("ROLLBACK FAILED")),
            "{alerts:?}"
        );
        assert_eq!(
            deps.store.get(&up.id).await.unwrap().unwrap().status,
            Status::InProgress
        );
        // The next sweep rolls back.
        let response = sweep(&deps, late + Duration::minutes(15)).await;
        assert_eq!(response.actions_rolled_back, 1);
        assert_eq!(deps.fleet.group("web").unwrap().desired, 4);
    }

    #[tokio::test]
    async fn two_invocations_with_different_items_for_one_group_make_one_change() {
        for _ in 0..20 {
            let deps = deps(Recorder::new());
            let up = sample("web", 9);
            let mut other = sample("web", 8);
            other.id = format!("{}-other", other.id);
            other.analysis_window.end = up.analysis_window.end;
            stored(&deps, &[&up, &other]).await;
            let (a, b) = (inserted(&[&up]), inserted(&[&other]));
            assert_eq!(applied_concurrently(&deps, &a, &b).await, 1);
            assert_eq!(deps.fleet.calls().len(), 1);
        }
    }

    #[tokio::test]
    async fn a_foreign_item_in_the_table_is_skipped_and_the_rest_are_handled() {
        let deps = deps(Recorder::new());
        deps.store.put_foreign("foreign");
        let up = sample("web", 9);
        stored(&deps, &[&up]).await;
        let response = sweep(&deps, now()).await;
        assert_eq!(response.items_skipped, vec!["foreign".to_owned()]);
        assert_eq!(response.actions_applied, 1);
    }

    #[tokio::test]
    async fn a_manual_change_is_completed_when_the_group_shows_it() {
        let deps = deps(Recorder::new());
        let mut r = sample("web", 9);
        r.kind = RecommendationType::InstanceTypeChange;
        r.implementation.action = None;
        r.implementation.automated = false;
        r.evidence.instance_type = Some("m5.large".into());
        r.evidence.suggested_instance_type = Some("m6g.large".into());
        r.status = Status::Approved;
        r.version = 3;
        stored(&deps, &[&r]).await;
        let sweep = Trigger::Sweep { dry_run: false };
        let response = run(&config(&[]), &deps, &sweep, now()).await.unwrap();
        assert_eq!(response.decisions[0].outcome, Outcome::Ignored);
        deps.fleet.set_group(GroupInfo {
            instance_type: Some("m6g.large".into()),
            ..group("web")
        });
        let response = run(&config(&[]), &deps, &sweep, now()).await.unwrap();
        assert_eq!(response.decisions[0].outcome, Outcome::Completed);
        assert_eq!(
            deps.store.get(&r.id).await.unwrap().unwrap().status,
            Status::Completed
        );
    }

    #[tokio::test]
    async fn a_shards_outcome_reads_its_cpu_there_and_the_score_at_home() {
        let member = Shard::new("444455556666", "eu-west-1").unwrap();
        let completed_at = now() + Duration::minutes(5);
        let after = completed_at + Duration::hours(1);
        // The analyzer published the score in the function's own account; the group's CPU is
        // in the member account. Each account answers only what it holds.
        let home =
            MetricResultsFor::new().with("o0_score", &[(after + Duration::minutes(55), 97.0)]);
        let theirs = MetricResultsFor::new().with(
            "o0_cpu",
            &[
                (completed_at + Duration::minutes(10), 66.0),
                (completed_at + Duration::minutes(20), 70.0),
            ],
        );
        let fleet = FakeFleet::new([group("web")]);
        let deps = Deps {
            metrics: Recorder::answering(home.0),
            members: FakeMembers::new(None).with(
                member.clone(),
                fleet.clone(),
                Recorder::answering(theirs.0),
            ),
            ..deps(Recorder::new())
        };
        let up = in_shard(sample("web", 9), &member);
        let response = applied_then_completed(&config(&[]), &deps, &fleet, &up, completed_at).await;
        assert_eq!(response.decisions[0].outcome, Outcome::Completed);
        let sweep = Trigger::Sweep { dry_run: false };
        let measured = run(&config(&[]), &deps, &sweep, after + Duration::hours(1))
            .await
            .unwrap();
        let decision = measured
            .decisions
            .iter()
            .find(|d| d.outcome == Outcome::Measured)
            .unwrap_or_else(|| panic!("{measured:#?}"));
        assert_eq!(
            decision.reason,
            "outcome IMPROVED: score 90.0 -> 97.0, CPU 85.0 % -> 68.0 %"
        );
        assert!(deps.fleet.calls().is_empty());
    }

    #[tokio::test]
    async fn an_interval_after_a_change_completes_its_outcome_is_recorded() {
        let completed_at = now() + Duration::minutes(5);
        let after = completed_at + Duration::hours(1);
        let series = MetricResultsFor::new()
            .with(
                "o0_score",
                &[
                    (after + Duration::minutes(55), 58.0),
                    (after + Duration::hours(2), 99.0),
                ],
            )
            .with(
                "o0_cpu",
                &[
                    (completed_at + Duration::minutes(10), 50.0),
                    (completed_at + Duration::minutes(20), 54.0),
                ],
            );
        let deps = Deps {
            metrics: Recorder::answering(series.0),
            ..deps(Recorder::new())
        };
        let up = sample("web", 9);
        let response =
            applied_then_completed(&config(&[]), &deps, &deps.fleet, &up, completed_at).await;
        assert_eq!(response.decisions[0].outcome, Outcome::Completed);
        let sweep = Trigger::Sweep { dry_run: false };
        // Not yet one interval later: nothing measured.
        let early = run(
            &config(&[]),
            &deps,
            &sweep,
            completed_at + Duration::minutes(30),
        )
        .await
        .unwrap();
        assert!(
            early
                .decisions
                .iter()
                .all(|d| d.outcome != Outcome::Measured)
        );
        let measured = run(&config(&[]), &deps, &sweep, after + Duration::hours(1))
            .await
            .unwrap();
        let decision = measured
            .decisions
            .iter()
            .find(|d| d.outcome == Outcome::Measured)
            .unwrap();
        assert_eq!(
            decision.reason,
            "outcome WORSE: score 90.0 -> 58.0, CPU 85.0 % -> 52.0 %"
        );
        assert_eq!(measured.actions_worse, 1);
        let item = deps.store.get(&up.id).await.unwrap().unwrap();
        let outcome = item.outcome.unwrap();
        assert_eq!(
            (outcome.score_before, outcome.score_after, outcome.cpu_after),
            (90.0, 58.0, Some(52.0))
        );
        let alerts = deps.notifier.notifications();
        assert!(
            alerts
                .iter()
                .any(|(_, _, m)| m.contains("WORSE after an automated SCALE_UP")),
            "{alerts:?}"
        );
        let published = deps.metrics.published();
        let worse: f64 = published
            .last()
            .unwrap()
            .iter()
            .filter(|d| d.name == "ActionsWorse")
            .map(|d| d.value)
            .sum();
        assert_eq!(worse, 1.0);
        // Measured once: the next sweep leaves it.
        let again = run(&config(&[]), &deps, &sweep, after + Duration::hours(2))
            .await
            .unwrap();
        assert!(
            again
                .decisions
                .iter()
                .all(|d| d.outcome != Outcome::Measured)
        );
    }

    #[tokio::test]
    async fn a_worse_automated_change_is_rolled_back_where_the_environment_says_so() {
        let completed_at = now() + Duration::minutes(5);
        let after = completed_at + Duration::hours(1);
        let series =
            MetricResultsFor::new().with("o0_score", &[(after + Duration::minutes(55), 58.0)]);
        let deps = Deps {
            metrics: Recorder::answering(series.0),
            ..deps(Recorder::new())
        };
        let config = config(&[("FLEETOPT_ROLLBACK_WORSE", "true")]);
        let up = sample("web", 9);
        applied_then_completed(&config, &deps, &deps.fleet, &up, completed_at).await;
        let sweep = Trigger::Sweep { dry_run: false };
        let measured = run(&config, &deps, &sweep, after + Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(measured.actions_worse, 1);
        assert_eq!(measured.actions_rolled_back, 1, "{:?}", measured.decisions);
        assert_eq!(deps.fleet.group("web").unwrap().desired, 4);
        let item = deps.store.get(&up.id).await.unwrap().unwrap();
        assert_eq!(item.status, Status::RolledBack);
        assert!(item.outcome.is_some(), "the outcome stays recorded");
    }

    /// Stores `up` (web's SCALE_UP 4 -> 5), lets a sweep at `now()` apply it, shows web at 5 in
    /// `fleet` (where the change was made) and lets the sweep at `completed_at` check it: that
    /// sweep's response.
    async fn applied_then_completed(
        config: &Config,
        deps: &FakeDeps,
        fleet: &FakeFleet,
        up: &Recommendation,
        completed_at: DateTime<Utc>,
    ) -> Response {
        stored(deps, &[up]).await;
        let sweep = Trigger::Sweep { dry_run: false };
        run(config, deps, &sweep, now()).await.unwrap();
        fleet.set_group(GroupInfo {
            desired: 5,
            in_service: 5,
            healthy: 5,
            ..group("web")
        });
        run(config, deps, &sweep, completed_at).await.unwrap()
    }

    /// Series by query id, for `Recorder::answering`.
    struct MetricResultsFor(fleetopt_ports::MetricResults);

    impl MetricResultsFor {
        fn new() -> Self {
            Self(fleetopt_ports::MetricResults::new())
        }

        fn with(mut self, id: &str, points: &[(DateTime<Utc>, f64)]) -> Self {
            self.0.insert(id.to_owned(), points.to_vec());
            self
        }
    }
}
