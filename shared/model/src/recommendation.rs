//! The stored recommendation: built from a scoring [`Proposal`], identified deterministically,
//! mapped to a DynamoDB item by `serde_dynamo`, and moved between statuses one checked
//! transition at a time.

use std::fmt;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use fleetopt_scoring::{Evidence, ExpectedImpact, Priority, Proposal, RecommendationType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::outcome::ChangeOutcome;
use crate::proof::{Approval, Attestation};
use crate::realized::RealizedSavings;
use crate::schema::recommendations_table;
use crate::shard::{Shard, ShardError};
use crate::status::{Status, TransitionError, can_transition};

/// Which part of the system wrote a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The performance analyzer.
    Analyzer,
    /// The cost optimizer.
    CostOptimizer,
    /// Written by hand (tests, the demo, an operator's tooling).
    Manual,
}

impl Source {
    /// The name written in DynamoDB.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Analyzer => "analyzer",
            Source::CostOptimizer => "cost-optimizer",
            Source::Manual => "manual",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an account-wide finding's subject starts, in place of a group name
/// (`account:reserved-instances`): it names no Auto Scaling group.
pub const ACCOUNT_SUBJECT_PREFIX: &str = "account:";

/// The period of data a recommendation was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisWindow {
    /// Start, inclusive.
    pub start: DateTime<Utc>,
    /// End, exclusive.
    pub end: DateTime<Utc>,
}

/// What the engine does for an automated recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    /// SetDesiredCapacity from one size to another.
    #[serde(rename_all = "camelCase")]
    SetDesiredCapacity {
        /// Desired capacity when the recommendation was made.
        from: u32,
        /// Desired capacity to set.
        to: u32,
    },
}

/// How a recommendation is carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Implementation {
    /// Whether the engine may apply it without a person (SCALE_UP in an environment that
    /// enables it).
    pub automated: bool,
    /// What to do, in order.
    pub steps: Vec<String>,
    /// How long it should take, in words.
    pub estimated_duration: String,
    /// The machine-readable action, for scale changes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub action: Option<Action>,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    /// The status before (`None` for the first write).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub from: Option<Status>,
    /// The status after.
    pub to: Status,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who: a function name or a caller identity.
    pub by: String,
    /// Why, when given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

/// What the engine did to the group for a recommendation: recorded when it claims the item,
/// so that a later sweep can verify the change and, if needed, restore the previous size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// Desired capacity before the change: what a rollback restores.
    pub previous_capacity: u32,
    /// Desired capacity set.
    pub new_capacity: u32,
    /// When SetDesiredCapacity was called, RFC 3339 UTC.
    pub applied_at: String,
    /// The scaling activity the change started, when Auto Scaling reported one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub activity_id: Option<String>,
    /// The capacity the recommendation asked for (clamped to the group's bounds), when the
    /// step limits made this action stop short of it; the rest waits for the next analysis.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_capacity: Option<u32>,
    /// The scheduled actions a SCHEDULED_SCALING put on the group, by name.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub scheduled_actions: Vec<String>,
    /// When those actions stop recurring (their EndTime), RFC 3339 UTC.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub schedule_ends_at: Option<String>,
}

/// How many days a snoozed recommendation is kept after its snooze ends, at least: snoozing
/// moves its `ttl` out that far when it would expire sooner.
pub const SNOOZE_KEEP_DAYS: i64 = 7;

/// A person set the recommendation aside until a time; the engine's sweep then restores the
/// status it had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snooze {
    /// Until when, RFC 3339 UTC.
    pub until: String,
    /// The status to go back to.
    pub previous_status: Status,
}

impl Snooze {
    /// The end of the snooze.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        parse_time(&self.until)
    }
}

/// How many consecutive analyses found the same need (a SCALE_UP), and how many automation
/// waits for: until the count reaches it, the item stays PENDING.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Persistence {
    /// Consecutive analyses, this one included.
    pub consecutive_analyses: u32,
    /// Required before the engine applies it without a person.
    pub required: u32,
}

impl Execution {
    /// The moment the change was made.
    pub fn applied_at(&self) -> Option<DateTime<Utc>> {
        parse_time(&self.applied_at)
    }

    /// When the scheduled actions it put stop recurring, for a schedule.
    pub fn schedule_ends_at(&self) -> Option<DateTime<Utc>> {
        self.schedule_ends_at.as_deref().and_then(parse_time)
    }
}

/// The last check that held a recommendation back without changing its status ("cooldown
/// until 10:35"): what an operator reads to know why nothing happened yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who checked.
    pub by: String,
    /// Why the recommendation waits.
    pub reason: String,
}

/// A recommendation as stored in the table. Attribute names are camelCase (docs/design.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    /// Partition key: deterministic, see [`recommendation_id`].
    pub id: String,
    /// Sort key: the end of the analysis window, RFC 3339 UTC to the second. Deterministic
    /// like the id, so a retried write hits the same key and its condition refuses it.
    pub timestamp: String,
    /// The kind of change.
    #[serde(rename = "type")]
    pub kind: RecommendationType,
    /// How urgent.
    pub priority: Priority,
    /// What, why and the expected impact.
    pub description: String,
    /// Where it stands.
    pub status: Status,
    /// What it should bring.
    pub expected_impact: ExpectedImpact,
    /// How it is carried out.
    pub implementation: Implementation,
    /// The figures behind it.
    pub evidence: Evidence,
    /// The group it is about.
    pub auto_scaling_group_name: String,
    /// The group's account, when it was analyzed through a shard (absent: the account that
    /// runs the functions).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account_id: Option<String>,
    /// The group's region, with `account_id`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub region: Option<String>,
    /// The environment that wrote it.
    pub environment: String,
    /// The function that wrote it.
    pub source: Source,
    /// The data it was computed from.
    pub analysis_window: AnalysisWindow,
    /// When it was first written, RFC 3339 UTC.
    pub created_at: String,
    /// Bumped by every status change; every change is conditional on it.
    pub version: u64,
    /// Every status change, oldest first.
    pub status_history: Vec<StatusChange>,
    /// What the engine did to the group, once it acted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub execution: Option<Execution>,
    /// Why it still waits, while a check holds it back; cleared by the next status change.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_check: Option<Check>,
    /// While SNOOZED: until when, and the status it goes back to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub snooze: Option<Snooze>,
    /// For a SCALE_UP: how persistent the need is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub persistence: Option<Persistence>,
    /// When an analysis last found the same need, RFC 3339 UTC (absent: only when written).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_seen_at: Option<String>,
    /// How many analyses found it while it was open (absent: 1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seen_count: Option<u32>,
    /// The open request of the same group, source and type this one replaced (its proposed
    /// action was materially different).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub replaces: Option<String>,
    /// A person's signed approval (APPROVED and after).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub approval: Option<Approval>,
    /// The analyzer's signature, on an automated scale change.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub attestation: Option<Attestation>,
    /// What the change did, measured one analysis interval after it completed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub outcome: Option<ChangeOutcome>,
    /// What the change saves a month, measured by the cost optimizer from the group's capacity
    /// and prices before and after it (a COMPLETED capacity or type change).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub realized_savings: Option<RealizedSavings>,
    /// Expiry, epoch seconds (DynamoDB TTL).
    pub ttl: i64,
}

/// Where and when a proposal was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The writing function.
    pub source: Source,
    /// The account and region analyzed, when the invocation named them.
    pub shard: Option<&'a Shard>,
    /// The environment's name.
    pub environment: &'a str,
    /// The analysis window.
    pub window: AnalysisWindow,
    /// The time of writing.
    pub now: DateTime<Utc>,
    /// Whether the environment enables automated scaling.
    pub automation_enabled: bool,
}

/// An item that is not a recommendation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item {id} is not a valid recommendation: {message}")]
pub struct DecodeError {
    /// The item's id, or `<no id>`.
    pub id: String,
    /// What did not fit.
    pub message: String,
}

/// RFC 3339 UTC to the second (`2026-11-23T09:00:00Z`): fixed width, so that timestamps sort
/// as strings in the table's sort keys.
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The time in one of our RFC 3339 attributes.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The deterministic id of a recommendation: the same source, shard, group, type and analysis
/// window always give the same id, so a retried or repeated invocation writes nothing new. An
/// item without a shard (the functions' own account) hashes as it always did.
pub fn recommendation_id(
    source: Source,
    shard: Option<&Shard>,
    group: &str,
    kind: RecommendationType,
    window: &AnalysisWindow,
) -> String {
    let mut hasher = Sha256::new();
    let (start, end) = (rfc3339(window.start), rfc3339(window.end));
    let mut parts = vec![source.as_str(), group, kind.as_str(), &start, &end];
    if let Some(shard) = shard {
        parts.extend([shard.account_id(), shard.region()]);
    }
    for part in parts {
        hasher.update(part.as_bytes());
        // A separator that cannot occur in the parts keeps ("ab", "c") and ("a", "bc") apart.
        hasher.update([0u8]);
    }
    let digest = hasher.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("rec-{hex}")
}

fn estimated_duration(kind: RecommendationType) -> &'static str {
    match kind {
        RecommendationType::ScaleUp | RecommendationType::ScaleDown => "5-10 minutes",
        RecommendationType::InstanceTypeChange => "30-60 minutes (instance refresh)",
        RecommendationType::PerformanceTuning => "1-3 days",
        RecommendationType::CostOptimization => "1-7 days",
        RecommendationType::ScheduledScaling => {
            "minutes (scheduled actions), in force from the next window"
        }
    }
}

impl Recommendation {
    /// A new PENDING recommendation from a proposal about `group`.
    pub fn from_proposal(proposal: &Proposal, group: &str, origin: &Origin<'_>) -> Self {
        let action = proposal.target_desired_capacity.and_then(|to| {
            proposal
                .evidence
                .desired_capacity
                .map(|from| Action::SetDesiredCapacity { from, to })
        });
        let ttl_days = i64::from(recommendations_table().default_ttl_days);
        let created_at = rfc3339(origin.now);
        Recommendation {
            id: recommendation_id(
                origin.source,
                origin.shard,
                group,
                proposal.kind,
                &origin.window,
            ),
            timestamp: rfc3339(origin.window.end),
            kind: proposal.kind,
            priority: proposal.priority,
            description: proposal.description.clone(),
            status: Status::Pending,
            expected_impact: proposal.expected_impact,
            implementation: Implementation {
                automated: proposal.kind.is_automatable() && origin.automation_enabled,
                steps: proposal.steps.clone(),
                estimated_duration: estimated_duration(proposal.kind).to_owned(),
                action,
            },
            evidence: proposal.evidence.clone(),
            auto_scaling_group_name: group.to_owned(),
            account_id: origin.shard.map(|s| s.account_id().to_owned()),
            region: origin.shard.map(|s| s.region().to_owned()),
            environment: origin.environment.to_owned(),
            source: origin.source,
            analysis_window: origin.window,
            status_history: vec![StatusChange {
                from: None,
                to: Status::Pending,
                at: created_at.clone(),
                by: origin.source.as_str().to_owned(),
                reason: None,
            }],
            created_at,
            execution: None,
            last_check: None,
            snooze: None,
            persistence: None,
            last_seen_at: None,
            seen_count: None,
            replaces: None,
            approval: None,
            attestation: None,
            outcome: None,
            realized_savings: None,
            version: 1,
            ttl: (origin.now + Duration::days(ttl_days)).timestamp(),
        }
    }

    /// This recommendation after a checked move to `to`: the status changes, the version goes
    /// up by one and the change is appended to the history. The store writes it on condition
    /// that the stored status and version are still this one's. A SNOOZED item goes back to
    /// the status it had, and nowhere else; leaving SNOOZED clears the snooze (entering it is
    /// [`Recommendation::snoozed`]).
    pub fn transitioned(
        &self,
        to: Status,
        at: DateTime<Utc>,
        by: &str,
        reason: Option<&str>,
    ) -> Result<Self, TransitionError> {
        let back = self.snooze.as_ref().map(|s| s.previous_status);
        let allowed = match self.status {
            Status::Snoozed => back == Some(to),
            _ => to != Status::Snoozed && can_transition(self.status, to),
        };
        if !allowed {
            return Err(TransitionError {
                id: self.id.clone(),
                from: self.status,
                to,
            });
        }
        Ok(self.advanced(to, at, by, reason))
    }

    /// This recommendation SNOOZED until `until` (after `at`), to go back to its current
    /// status then.
    pub fn snoozed(
        &self,
        until: DateTime<Utc>,
        at: DateTime<Utc>,
        by: &str,
        reason: Option<&str>,
    ) -> Result<Self, TransitionError> {
        if !can_transition(self.status, Status::Snoozed) || until <= at {
            return Err(TransitionError {
                id: self.id.clone(),
                from: self.status,
                to: Status::Snoozed,
            });
        }
        let mut next = self.advanced(Status::Snoozed, at, by, reason);
        next.snooze = Some(Snooze {
            until: rfc3339(until),
            previous_status: self.status,
        });
        // The table's TTL must not delete it in its sleep.
        next.ttl = next
            .ttl
            .max((until + Duration::days(SNOOZE_KEEP_DAYS)).timestamp());
        Ok(next)
    }

    /// The mechanics of every status change: new status, version + 1, one history entry, the
    /// last check and any snooze cleared.
    fn advanced(&self, to: Status, at: DateTime<Utc>, by: &str, reason: Option<&str>) -> Self {
        let mut next = self.clone();
        next.status = to;
        // The version is only ever compared for equality (every change is conditional on it),
        // so wrapping past u64::MAX still gives a value no reader holds; `+ 1` panicked on an
        // item stored with the largest version (found by the engine's fuzz test).
        next.version = self.version.wrapping_add(1);
        next.last_check = None;
        next.snooze = None;
        next.status_history.push(StatusChange {
            from: Some(self.status),
            to,
            at: rfc3339(at),
            by: by.to_owned(),
            reason: reason.map(str::to_owned),
        });
        next
    }

    /// The account and region of its group: `None` for the functions' own account, an error
    /// for an item whose attributes do not make one (written by hand, or half of it).
    pub fn shard(&self) -> Result<Option<Shard>, ShardError> {
        Shard::from_parts(self.account_id.as_deref(), self.region.as_deref())
    }

    /// What the engine's per-group lock is taken on: the group's name for the functions' own
    /// account and region, `<account>#<region>#<name>` for a shard's group, so that same-named
    /// groups in different shards never wait for each other.
    pub fn lock_subject(&self) -> String {
        match (&self.account_id, &self.region) {
            (Some(account), Some(region)) => {
                format!("{account}#{region}#{}", self.auto_scaling_group_name)
            }
            _ => self.auto_scaling_group_name.clone(),
        }
    }

    /// Whether `other` is about the same group: the same name in the same account and region.
    pub fn same_group(&self, other: &Recommendation) -> bool {
        self.auto_scaling_group_name == other.auto_scaling_group_name
            && self.account_id == other.account_id
            && self.region == other.region
    }

    /// The desired-capacity change (from, to) the engine makes for it: a SCALE_UP or
    /// SCALE_DOWN with a SetDesiredCapacity action; `None` for anything a person carries out.
    pub fn scale_change(&self) -> Option<(u32, u32)> {
        match (self.kind, self.implementation.action) {
            (
                RecommendationType::ScaleUp | RecommendationType::ScaleDown,
                Some(Action::SetDesiredCapacity { from, to }),
            ) => Some((from, to)),
            _ => None,
        }
    }

    /// The action it proposes, as far as deciding "the same request" goes: the target desired
    /// capacity of a scale change, the first right-sizing option's type and count, or for
    /// anything else its type alone. A newer finding with the same proposed action refreshes
    /// an open request; another one replaces it. An approval signs it.
    pub fn proposed_action(&self) -> String {
        if let Some((_, to)) = self.scale_change() {
            return format!("desiredCapacity={to}");
        }
        if let Some(schedule) = &self.evidence.schedule {
            let actions: Vec<String> = schedule
                .actions
                .iter()
                .map(|a| {
                    format!(
                        "{}@{}:{}/{}/{}",
                        a.name, a.recurrence, a.min_size, a.desired_capacity, a.max_size
                    )
                })
                .collect();
            return format!("schedule={}", actions.join(";"));
        }
        if let Some(option) = self
            .evidence
            .right_sizing
            .as_ref()
            .and_then(|r| r.options.first())
        {
            return format!(
                "{:?}:{}x{}",
                option.action, option.desired_capacity, option.instance_type
            );
        }
        match &self.evidence.suggested_instance_type {
            Some(kind) => format!("instanceType={kind}"),
            None => self.kind.as_str().to_owned(),
        }
    }

    /// This open request, found again by `fresh` (same source, group, type and proposed
    /// action) at `now`: the latest evidence, window, description, priority, impact, steps,
    /// persistence and attestation; `lastSeenAt` and `seenCount` move on and the ttl never
    /// shortens. Key, status, version, history, approval and execution stay: not a status
    /// change, so an approval given meanwhile still holds.
    pub fn refreshed(&self, fresh: &Recommendation, now: DateTime<Utc>) -> Self {
        let mut next = self.clone();
        next.description = fresh.description.clone();
        next.priority = fresh.priority;
        next.expected_impact = fresh.expected_impact;
        next.implementation = fresh.implementation.clone();
        next.evidence = fresh.evidence.clone();
        next.analysis_window = fresh.analysis_window;
        next.persistence = fresh.persistence;
        next.attestation = fresh.attestation.clone();
        next.last_seen_at = Some(rfc3339(now));
        next.seen_count = Some(self.seen_count.unwrap_or(1).saturating_add(1));
        next.ttl = self.ttl.max(fresh.ttl);
        next
    }

    /// How many analyses found it (1 until a refresh).
    pub fn seen(&self) -> u32 {
        self.seen_count.unwrap_or(1)
    }

    /// Whether it is about the whole account (reserved capacity, run-rate), not one group.
    pub fn is_account_wide(&self) -> bool {
        self.auto_scaling_group_name
            .starts_with(ACCOUNT_SUBJECT_PREFIX)
    }

    /// The recommendation's creation time, when it parses.
    pub fn created(&self) -> Option<DateTime<Utc>> {
        parse_time(&self.created_at)
    }

    /// The DynamoDB item.
    pub fn to_item(&self) -> Result<serde_dynamo::Item, serde_dynamo::Error> {
        serde_dynamo::to_item(self)
    }

    /// The recommendation in a DynamoDB item.
    pub fn from_item(item: serde_dynamo::Item) -> Result<Self, DecodeError> {
        let id = match item.get("id") {
            Some(serde_dynamo::AttributeValue::S(id)) => id.clone(),
            _ => "<no id>".to_owned(),
        };
        serde_dynamo::from_item(item).map_err(|e| DecodeError {
            id,
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;
    use fleetopt_scoring::{Capacity, Snapshot, Targets, analyze};

    /// A SCALE_UP of web from 4 to 5, written at 09:02:30 for 08:00-09:00.
    pub(crate) fn sample_scale_up() -> Recommendation {
        Recommendation::from_proposal(&scale_up(), "web", &origin(now()))
    }

    fn window() -> AnalysisWindow {
        AnalysisWindow {
            start: Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap(),
        }
    }

    fn origin(now: DateTime<Utc>) -> Origin<'static> {
        Origin {
            source: Source::Analyzer,
            shard: None,
            environment: "production",
            window: window(),
            now,
            automation_enabled: true,
        }
    }

    fn scale_up() -> Proposal {
        let snapshot = Snapshot {
            group: "web".into(),
            capacity: Some(Capacity {
                min_size: 2,
                max_size: 10,
                desired: 4,
                in_service: 4,
            }),
            cpu_average: Some(85.0),
            cpu_peak: Some(93.0),
            memory_average: Some(70.0),
            ..Snapshot::default()
        };
        analyze(
            &snapshot,
            &Targets::new(70.0, 80.0, 500.0, 1000.0, 60.0).unwrap(),
        )
        .proposals
        .remove(0)
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 2, 30).unwrap()
    }

    #[test]
    fn ids_depend_on_source_group_type_and_window_only() {
        let a = recommendation_id(
            Source::Analyzer,
            None,
            "web",
            RecommendationType::ScaleUp,
            &window(),
        );
        assert_eq!(
            a,
            recommendation_id(
                Source::Analyzer,
                None,
                "web",
                RecommendationType::ScaleUp,
                &window()
            )
        );
        assert!(a.starts_with("rec-") && a.len() == 28);
        let mut later = window();
        later.end += Duration::hours(1);
        for other in [
            recommendation_id(
                Source::CostOptimizer,
                None,
                "web",
                RecommendationType::ScaleUp,
                &window(),
            ),
            recommendation_id(
                Source::Analyzer,
                None,
                "api",
                RecommendationType::ScaleUp,
                &window(),
            ),
            recommendation_id(
                Source::Analyzer,
                None,
                "web",
                RecommendationType::ScaleDown,
                &window(),
            ),
            recommendation_id(
                Source::Analyzer,
                None,
                "web",
                RecommendationType::ScaleUp,
                &later,
            ),
        ] {
            assert_ne!(a, other);
        }
    }

    #[test]
    fn a_retry_later_builds_the_same_key() {
        let first = Recommendation::from_proposal(&scale_up(), "web", &origin(now()));
        let retry = Recommendation::from_proposal(
            &scale_up(),
            "web",
            &origin(now() + Duration::minutes(7)),
        );
        assert_eq!((&first.id, &first.timestamp), (&retry.id, &retry.timestamp));
        assert_eq!(first.timestamp, "2026-11-23T09:00:00Z");
    }

    #[test]
    fn a_shards_items_carry_its_account_and_region_and_hash_them() {
        let member = Shard::new("111122223333", "eu-west-1").unwrap();
        let elsewhere = Shard::new("111122223333", "us-east-1").unwrap();
        let own = Recommendation::from_proposal(&scale_up(), "web", &origin(now()));
        let theirs = Recommendation::from_proposal(
            &scale_up(),
            "web",
            &Origin {
                shard: Some(&member),
                ..origin(now())
            },
        );
        // The functions' own account keeps the ids it always had.
        assert_eq!(
            own.id,
            recommendation_id(Source::Analyzer, None, "web", own.kind, &window())
        );
        assert_ne!(own.id, theirs.id);
        assert_ne!(
            theirs.id,
            recommendation_id(
                Source::Analyzer,
                Some(&elsewhere),
                "web",
                own.kind,
                &window()
            )
        );
        assert_eq!(theirs.shard(), Ok(Some(member)));
        assert_eq!(own.shard(), Ok(None));
        assert!(!own.same_group(&theirs) && own.same_group(&own.clone()));
        assert_eq!(own.lock_subject(), "web");
        assert_eq!(theirs.lock_subject(), "111122223333#eu-west-1#web");
        let item: serde_json::Value = serde_json::to_value(&theirs).unwrap();
        assert_eq!(
            (&item["accountId"], &item["region"]),
            (
                &serde_json::json!("111122223333"),
                &serde_json::json!("eu-west-1")
            )
        );
        let plain: serde_json::Value = serde_json::to_value(&own).unwrap();
        assert!(plain.get("accountId").is_none() && plain.get("region").is_none());
        let mut half = theirs.clone();
        half.region = None;
        assert!(half.shard().is_err());
    }

    #[test]
    fn a_new_recommendation_is_pending_version_1_with_ttl_in_30_days() {
        let r = Recommendation::from_proposal(&scale_up(), "web", &origin(now()));
        assert_eq!(r.status, Status::Pending);
        assert_eq!(r.version, 1);
        assert_eq!(r.ttl, now().timestamp() + 30 * 86_400);
        assert_eq!(r.priority, Priority::High);
        assert!(r.implementation.automated);
        assert_eq!(
            r.implementation.action,
            Some(Action::SetDesiredCapacity { from: 4, to: 5 })
        );
        assert_eq!(r.status_history.len(), 1);
        assert_eq!(r.created_at, "2026-11-23T09:02:30Z");
    }

    #[test]
    fn a_status_change_from_the_largest_version_wraps_instead_of_panicking() {
        // Found by the engine's fuzz test: an item stored with version u64::MAX.
        let mut r = Recommendation::from_proposal(&scale_up(), "web", &origin(now()));
        r.version = u64::MAX;
        let next = r
            .transitioned(Status::InProgress, now(), "optimization-engine", None)
            .unwrap();
        assert_eq!(next.version, 0);
        assert_ne!(next.version, r.version);
    }

    #[test]
    fn automation_is_off_when_the_environment_disables_it_or_the_type_needs_approval() {
        let mut o = origin(now());
        o.automation_enabled = false;
        assert!(
            !Recommendation::from_proposal(&scale_up(), "web", &o)
                .implementation
                .automated
        );
        let mut down = scale_up();
        down.kind = RecommendationType::ScaleDown;
        assert!(
            !Recommendation::from_proposal(&down, "web", &origin(now()))
                .implementation
                .automated
        );
    }

    #[test]
    fn items_use_camel_case_attributes_and_round_trip_whole() {
        let r = Recommendation::from_proposal(&scale_up(), "web", &origin(now()));
        let item = r.to_item().unwrap();
        for key in [
            "id",
            "timestamp",
            "type",
            "priority",
            "description",
            "status",
            "expectedImpact",
            "implementation",
            "evidence",
            "autoScalingGroupName",
            "environment",
            "source",
            "version",
            "statusHistory",
            "ttl",
        ] {
            assert!(item.get(key).is_some(), "missing attribute {key}");
        }
        assert_eq!(
            item.get("type"),
            Some(&serde_dynamo::AttributeValue::S("SCALE_UP".into()))
        );
        assert_eq!(
            item.get("ttl"),
            Some(&serde_dynamo::AttributeValue::N(r.ttl.to_string()))
        );
        assert_eq!(Recommendation::from_item(item).unwrap(), r);
    }

    #[test]
    fn right_sizing_options_round_trip_through_the_item_under_evidence() {
        use fleetopt_scoring::{
            Architecture, CpuPercentile, MigrationEffort, RightSizing, RightSizingAction,
            RightSizingOption, RightSizingStatus,
        };
        let mut proposal = scale_up();
        proposal.evidence.right_sizing = Some(RightSizing {
            status: RightSizingStatus::OptionsFound,
            percentile: CpuPercentile::P99_5,
            lookback_days: 14,
            cpu_hours: 336,
            cpu_percent: Some(30.0),
            memory_percent: None,
            idle: false,
            utilization_threshold: Some(60.0),
            saturating: 0,
            options: vec![RightSizingOption {
                rank: 1,
                action: RightSizingAction::ChangeInstanceType,
                instance_type: "m6g.large".into(),
                architecture: Architecture::Arm64,
                vcpus: 2,
                memory_mib: 8192,
                desired_capacity: 4,
                hourly_usd: 0.308,
                projected_cpu_percent: Some(60.0),
                projected_memory_percent: None,
                performance_risk: 0,
                monthly_savings_usd: 335.8,
                savings_percent: 59.9,
                migration_effort: MigrationEffort::Medium,
                notes: vec!["arm64".into()],
                backtest: None,
            }],
        });
        let r = Recommendation::from_proposal(&proposal, "web", &origin(now()));
        let item = r.to_item().unwrap();
        let Some(serde_dynamo::AttributeValue::M(evidence)) = item.get("evidence") else {
            panic!("no evidence map");
        };
        let Some(serde_dynamo::AttributeValue::M(right_sizing)) = evidence.get("rightSizing")
        else {
            panic!("no rightSizing in {evidence:?}");
        };
        assert_eq!(
            right_sizing.get("percentile"),
            Some(&serde_dynamo::AttributeValue::S("p99.5".into()))
        );
        let Some(serde_dynamo::AttributeValue::L(options)) = right_sizing.get("options") else {
            panic!("no options in {right_sizing:?}");
        };
        let serde_dynamo::AttributeValue::M(option) = &options[0] else {
            panic!("option is not a map");
        };
        for key in [
            "instanceType",
            "desiredCapacity",
            "projectedCpuPercent",
            "performanceRisk",
            "monthlySavingsUsd",
            "savingsPercent",
            "migrationEffort",
        ] {
            assert!(option.contains_key(key), "missing {key} in {option:?}");
        }
        assert!(!option.contains_key("projectedMemoryPercent"));
        assert_eq!(Recommendation::from_item(item).unwrap(), r);
    }

    #[test]
    fn a_foreign_item_is_refused_with_its_id() {
        let mut item = Recommendation::from_proposal(&scale_up(), "web", &origin(now()))
            .to_item()
            .unwrap();
        item.insert(
            "status".into(),
            serde_dynamo::AttributeValue::S("DONE".into()),
        );
        let err = Recommendation::from_item(item).unwrap_err();
        assert!(err.id.starts_with("rec-"));
        assert!(err.message.contains("DONE"), "{}", err.message);
    }

    #[test]
    fn a_refresh_takes_the_new_evidence_and_keeps_key_status_version_and_approval() {
        let first = sample_scale_up();
        let mut later = origin(now() + Duration::hours(1));
        later.window.start += Duration::hours(1);
        later.window.end += Duration::hours(1);
        let mut proposal = scale_up();
        proposal.evidence.cpu_average = Some(91.0);
        let fresh = Recommendation::from_proposal(&proposal, "web", &later);
        assert_ne!(fresh.id, first.id);
        assert_eq!(fresh.proposed_action(), first.proposed_action());
        let at = now() + Duration::hours(1);
        let next = first.refreshed(&fresh, at);
        assert_eq!((&next.id, &next.timestamp), (&first.id, &first.timestamp));
        assert_eq!((next.status, next.version), (first.status, first.version));
        assert_eq!(next.status_history, first.status_history);
        assert_eq!(next.evidence.cpu_average, Some(91.0));
        assert_eq!(next.analysis_window, fresh.analysis_window);
        assert_eq!(next.last_seen_at.as_deref(), Some("2026-11-23T10:02:30Z"));
        assert_eq!((next.seen(), next.refreshed(&fresh, at).seen()), (2, 3));
        assert_eq!(next.ttl, fresh.ttl);
        let item = next.to_item().unwrap();
        assert!(item.contains_key("seenCount") && item.contains_key("lastSeenAt"));
        assert_eq!(Recommendation::from_item(item).unwrap(), next);
    }

    #[test]
    fn the_proposed_action_is_the_target_not_the_starting_point() {
        let r = sample_scale_up();
        assert_eq!(r.proposed_action(), "desiredCapacity=5");
        let mut moved = r.clone();
        moved.implementation.action = Some(Action::SetDesiredCapacity { from: 3, to: 5 });
        assert_eq!(moved.proposed_action(), r.proposed_action());
        let mut cost = r.clone();
        cost.kind = RecommendationType::CostOptimization;
        cost.implementation.action = None;
        assert_eq!(cost.proposed_action(), "COST_OPTIMIZATION");
        cost.evidence.suggested_instance_type = Some("m6g.large".into());
        assert_eq!(cost.proposed_action(), "instanceType=m6g.large");
    }

    #[test]
    fn an_item_written_before_these_attributes_still_decodes() {
        let r = sample_scale_up();
        let mut item = r.to_item().unwrap();
        for key in [
            "seenCount",
            "lastSeenAt",
            "approval",
            "attestation",
            "outcome",
            "realizedSavings",
        ] {
            item.remove(key);
        }
        assert_eq!(Recommendation::from_item(item).unwrap().seen(), 1);
    }

    #[test]
    fn transitions_bump_the_version_and_append_history() {
        let r = Recommendation::from_proposal(&scale_up(), "web", &origin(now()));
        let claimed = r
            .transitioned(
                Status::InProgress,
                now(),
                "optimization-engine",
                Some("automated"),
            )
            .unwrap();
        assert_eq!((claimed.status, claimed.version), (Status::InProgress, 2));
        let last = claimed.status_history.last().unwrap();
        assert_eq!(last.from, Some(Status::Pending));
        assert_eq!(last.by, "optimization-engine");
        let err = claimed
            .transitioned(Status::Rejected, now(), "someone", None)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "recommendation {} cannot go from IN_PROGRESS to REJECTED",
                r.id
            )
        );
    }
}
