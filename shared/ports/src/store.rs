//! Where recommendations live: conditional writes only, so that two invocations never write
//! the same recommendation twice or apply the same status change twice.

use std::future::Future;
use std::ops::Deref;

use chrono::{DateTime, Utc};
use fleetopt_model::{
    Approval, ChangeOutcome, Check, DecodeError, Execution, Priority, RealizedSavings,
    Recommendation, RecommendationType, Status, TransitionError,
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
    pub fn finish(&self, mut found: Found) -> Found {
        found.items.sort_by(newest_first);
        if let Some(limit) = self.limit {
            found.items.truncate(limit);
        }
        found
    }
}

/// What a query found: the recommendations, and the items that did not decode as one
/// (written by another version or by hand), skipped and named, so that one foreign item never
/// hides the rest and the caller can say what it left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// The recommendations, newest first.
    pub items: Vec<Recommendation>,
    /// The items that are not recommendations, with their ids.
    pub skipped: Vec<DecodeError>,
}

impl Found {
    /// The recommendations alone.
    pub fn into_items(self) -> Vec<Recommendation> {
        self.items
    }

    /// Adds another query's findings.
    pub fn extend(&mut self, other: Found) {
        self.items.extend(other.items);
        self.skipped.extend(other.skipped);
    }

    /// The skipped items' ids, comma-separated, for a warning.
    pub fn skipped_ids(&self) -> String {
        self.skipped
            .iter()
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Deref for Found {
    type Target = Vec<Recommendation>;

    fn deref(&self) -> &Self::Target {
        &self.items
    }
}

impl std::ops::DerefMut for Found {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.items
    }
}

impl IntoIterator for Found {
    type Item = Recommendation;
    type IntoIter = std::vec::IntoIter<Recommendation>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
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
    /// For a move to APPROVED: the signed approval, written in the same conditional update.
    pub approval: Option<&'a Approval>,
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
            approval: None,
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

    /// The same move, carrying a signed approval.
    pub fn approving(self, approval: &'a Approval) -> Self {
        Transition {
            approval: Some(approval),
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
        if let Some(approval) = self.approval {
            next.approval = Some(approval.clone());
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

    /// Recommendations matching `query` through the GSIs, newest first; never a scan. An item
    /// that does not decode is logged with its key and returned in [`Found::skipped`], never
    /// an error for the whole query.
    fn query(
        &self,
        query: &RecommendationQuery,
    ) -> impl Future<Output = Result<Found, StoreError>> + Send;

    /// Writes `next`, the open request `current` found again ([`Recommendation::refreshed`]):
    /// its evidence, window, description, priority, impact, implementation, persistence,
    /// attestation, `lastSeenAt`, `seenCount` and ttl, on condition that the stored status and
    /// version are still `current`'s. Not a status change: the version stays, so an approval
    /// signed meanwhile still matches, and a concurrent status change makes it a conflict.
    fn refresh(
        &self,
        current: &Recommendation,
        next: &Recommendation,
    ) -> impl Future<Output = Result<Recommendation, StoreError>> + Send;

    /// Records what a completed change did, on the same condition as [`note`](Self::note) and
    /// without a status change.
    fn record_outcome(
        &self,
        current: &Recommendation,
        outcome: &ChangeOutcome,
    ) -> impl Future<Output = Result<Recommendation, StoreError>> + Send;

    /// Records what a completed change saves a month (`realizedSavings`), once: on condition
    /// that the stored item is still COMPLETED at `current`'s version and has no
    /// `realizedSavings` yet, without a status change. A second writer (another run, or one
    /// with a stale or not COMPLETED `current`) gets a [`StoreError::Conflict`] and writes
    /// nothing.
    fn record_realized_savings(
        &self,
        current: &Recommendation,
        savings: &RealizedSavings,
    ) -> impl Future<Output = Result<Recommendation, StoreError>> + Send;

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

/// One change at a time per group, across concurrent invocations: a lock item per group in the
/// recommendations table (`id` = `lock#<group>`, no `type`, so no index and no listing sees it),
/// taken with a conditional update and expiring on its own if its holder dies.
pub trait GroupLocks {
    /// Takes `group`'s lock for `holder` until `until`, unless another holder's lock has not
    /// expired at `now`. `Ok(false)`: someone else holds it.
    fn lock(
        &self,
        group: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Lets `group`'s lock go, if `holder` still holds it.
    fn unlock(
        &self,
        group: &str,
        holder: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The id of `group`'s lock item.
pub fn lock_id(group: &str) -> String {
    format!("{LOCK_PREFIX}{group}")
}

/// How a lock item's id starts: the stream handler and every reader pass these by.
pub const LOCK_PREFIX: &str = "lock#";
