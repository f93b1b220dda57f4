//! Where recommendations live: conditional writes only, so that two invocations never write
//! the same recommendation twice or apply the same status change twice.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use chrono::{DateTime, Utc};
use fleetopt_model::{
    Check, DecodeError, Execution, Priority, Recommendation, RecommendationType, Source, Status,
    TransitionError,
};

/// What a write of a new recommendation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// It was written.
    Written,
    /// One with the same key was already there; nothing was written.
    AlreadyExists,
}

/// A query over the recommendations, newest first. The store reads `TypeIndex` when a type is
/// given, else `PriorityIndex` when a priority is given, else `TypeIndex` once per type; the
/// other criteria are filters. Never a scan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecommendationQuery {
    /// Only this type.
    pub kind: Option<RecommendationType>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// Only this status.
    pub status: Option<Status>,
    /// At most this many.
    pub limit: Option<usize>,
    /// Only items whose `timestamp` (RFC 3339, see `fleetopt_model::rfc3339`) is this or
    /// later: a key condition on the indexes' sort key, not a filter.
    pub since: Option<String>,
}

impl RecommendationQuery {
    /// Whether `r` meets every criterion (the limit aside).
    pub fn matches(&self, r: &Recommendation) -> bool {
        self.kind.is_none_or(|k| r.kind == k)
            && self.priority.is_none_or(|p| r.priority == p)
            && self.status.is_none_or(|s| r.status == s)
            && self.since.as_ref().is_none_or(|t| r.timestamp >= *t)
    }
}

impl RecommendationQuery {
    /// Sorts newest first and applies the limit: the last step of every implementation.
    pub fn finish(&self, mut found: Vec<Recommendation>) -> Vec<Recommendation> {
        found.sort_by(newest_first);
        if let Some(limit) = self.limit {
            found.truncate(limit);
        }
        found
    }
}

/// Newest first; ties broken by id so that the order is total.
pub fn newest_first(a: &Recommendation, b: &Recommendation) -> std::cmp::Ordering {
    b.timestamp.cmp(&a.timestamp).then_with(|| b.id.cmp(&a.id))
}

/// A status change asked of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition<'a> {
    /// The new status.
    pub to: Status,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (a function name or a caller identity).
    pub by: &'a str,
    /// Why, when given.
    pub reason: Option<&'a str>,
    /// What the engine did to the group, written in the same conditional update.
    pub execution: Option<&'a Execution>,
    /// For a move to SNOOZED: until when.
    pub snooze_until: Option<DateTime<Utc>>,
}

impl<'a> Transition<'a> {
    /// A move to `to`, at `at`, by `by`, with no reason and no execution record.
    pub fn new(to: Status, at: DateTime<Utc>, by: &'a str) -> Self {
        Transition {
            to,
            at,
            by,
            reason: None,
            execution: None,
            snooze_until: None,
        }
    }

    /// A move to SNOOZED until `until`; the item returns to its current status then.
    pub fn snooze(until: DateTime<Utc>, at: DateTime<Utc>, by: &'a str) -> Self {
        Transition {
            snooze_until: Some(until),
            ..Transition::new(Status::Snoozed, at, by)
        }
    }

    /// The same move, with a reason.
    pub fn because(self, reason: &'a str) -> Self {
        Transition {
            reason: Some(reason),
            ..self
        }
    }

    /// The same move, recording what was done to the group.
    pub fn recording(self, execution: &'a Execution) -> Self {
        Transition {
            execution: Some(execution),
            ..self
        }
    }

    /// `current` after this change, if the model allows it: what a store then writes on
    /// condition that the stored status and version are still `current`'s.
    pub fn apply_to(&self, current: &Recommendation) -> Result<Recommendation, TransitionError> {
        let mut next = match (self.to, self.snooze_until) {
            (Status::Snoozed, Some(until)) => {
                current.snoozed(until, self.at, self.by, self.reason)?
            }
            _ => current.transitioned(self.to, self.at, self.by, self.reason)?,
        };
        if let Some(execution) = self.execution {
            next.execution = Some(execution.clone());
        }
        Ok(next)
    }
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The item changed since it was read: someone else moved it first.
    #[error(
        "recommendation {id} changed since it was read (expected status {status}, version \
         {version}); read it again"
    )]
    Conflict {
        /// The recommendation.
        id: String,
        /// The status it was read with.
        status: Status,
        /// The version it was read with.
        version: u64,
    },
    /// No such recommendation.
    #[error("recommendation {id} not found")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// The status change is not allowed.
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    /// The service throttled the call and the SDK's retries ran out.
    #[error("{operation} was throttled: {message}")]
    Throttled {
        /// The API operation.
        operation: &'static str,
        /// The service's message.
        message: String,
    },
    /// Any other service error, with its code and message.
    #[error("{operation} failed: {code}: {message}")]
    Service {
        /// The API operation.
        operation: &'static str,
        /// The AWS error code, or the kind of failure (timeout, dispatch).
        code: String,
        /// The service's message.
        message: String,
    },
    /// A stored item is not a recommendation.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A recommendation could not be turned into an item.
    #[error("recommendation {id} could not be encoded: {message}")]
    Encode {
        /// The recommendation.
        id: String,
        /// What failed.
        message: String,
    },
}

impl From<crate::ServiceError> for StoreError {
    fn from(e: crate::ServiceError) -> Self {
        if e.is_throttling() {
            StoreError::Throttled {
                operation: e.operation,
                message: e.message,
            }
        } else {
            StoreError::Service {
                operation: e.operation,
                code: e.code,
                message: e.message,
            }
        }
    }
}

/// The recommendations table, as the functions and the CLI use it.
pub trait RecommendationStore {
    /// Writes a new recommendation unless one with the same key exists (`attribute_not_exists`).
    fn put_new(
        &self,
        recommendation: &Recommendation,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;

    /// The newest recommendation with this id.
    fn get(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<Recommendation>, StoreError>> + Send;

    /// Recommendations matching `query` through the GSIs, newest first; never a scan.
    fn query(
        &self,
        query: &RecommendationQuery,
    ) -> impl Future<Output = Result<Vec<Recommendation>, StoreError>> + Send;

    /// Moves `current` to a new status, on condition that the stored status and version are
    /// still `current`'s; returns the stored result. A stale `current` is a
    /// [`StoreError::Conflict`], a move the model forbids an [`StoreError::InvalidTransition`].
    fn transition(
        &self,
        current: &Recommendation,
        transition: &Transition<'_>,
    ) -> impl Future<Output = Result<Recommendation, StoreError>> + Send;

    /// Records why `current` still waits (its `lastCheck`), on condition that the stored status
    /// and version are still `current`'s. Not a status change: the version stays, so a note
    /// never makes a concurrent claim fail, and a claim makes a late note fail as a conflict.
    fn note(
        &self,
        current: &Recommendation,
        check: &Check,
    ) -> impl Future<Output = Result<Recommendation, StoreError>> + Send;

    /// Replaces `current`'s execution record (to add the scaling activity a change started),
    /// on the same condition as [`note`](Self::note) and, like it, without a status change.
    fn record_execution(
        &self,
        current: &Recommendation,
        execution: &Execution,
    ) -> impl Future<Output = Result<Recommendation, StoreError>> + Send;
}

/// Marks SUPERSEDED every older recommendation in one of `statuses` from the same source, of
/// the same type and for the same group as one of `fresh`: one TypeIndex query per type, then
/// conditional transitions. A conflict means someone else moved it first and is not an error;
/// other failures are logged by the caller's tracing and skipped. Returns how many it marked.
pub async fn supersede_older<S: RecommendationStore + Sync>(
    store: &S,
    fresh: &[&Recommendation],
    statuses: &[Status],
    now: DateTime<Utc>,
    by: &str,
) -> Result<usize, Vec<StoreError>> {
    let mut newest: HashMap<(Source, RecommendationType, &str), &Recommendation> = HashMap::new();
    for r in fresh {
        newest.insert((r.source, r.kind, r.auto_scaling_group_name.as_str()), r);
    }
    let kinds: HashSet<RecommendationType> = newest.keys().map(|(_, kind, _)| *kind).collect();
    let mut errors = Vec::new();
    let mut stale = Vec::new();
    for kind in kinds {
        for &status in statuses {
            let query = RecommendationQuery {
                kind: Some(kind),
                status: Some(status),
                ..RecommendationQuery::default()
            };
            match store.query(&query).await {
                Ok(found) => stale.extend(found.into_iter().filter(|old| {
                    newest
                        .get(&(old.source, old.kind, old.auto_scaling_group_name.as_str()))
                        .is_some_and(|new| new.id != old.id && old.timestamp < new.timestamp)
                })),
                Err(e) => errors.push(e),
            }
        }
    }
    let mut count = 0;
    for old in stale {
        let replacement = newest
            .get(&(old.source, old.kind, old.auto_scaling_group_name.as_str()))
            .map(|r| format!("replaced by {}", r.id));
        let transition = Transition {
            reason: replacement.as_deref(),
            ..Transition::new(Status::Superseded, now, by)
        };
        match store.transition(&old, &transition).await {
            Ok(_) => count += 1,
            // Someone else moved it first (the engine claimed it, a person decided, or another
            // run superseded it): nothing to do.
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(count)
    } else {
        Err(errors)
    }
}
