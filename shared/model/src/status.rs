//! Recommendation statuses and the transitions between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a recommendation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Written by a function, not yet handled.
    Pending,
    /// Claimed by the engine, which is applying it.
    InProgress,
    /// Applied and verified.
    Completed,
    /// Could not be applied.
    Failed,
    /// Applied, then undone because the new instances were unhealthy.
    RolledBack,
    /// Waiting for a person.
    AwaitingApproval,
    /// A person approved it.
    Approved,
    /// A person rejected it.
    Rejected,
    /// A newer recommendation of the same type for the same group replaced it.
    Superseded,
    /// Set aside by a person until a time; then back to the status it had.
    Snoozed,
    /// Waited too long (for the engine, for a person, or approved too long ago): never
    /// applied.
    Expired,
    /// Re-checked before acting and no longer needed (the group is already at or past the
    /// target): closed without a change.
    Obsolete,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 12] = [
        Status::Pending,
        Status::InProgress,
        Status::Completed,
        Status::Failed,
        Status::RolledBack,
        Status::AwaitingApproval,
        Status::Approved,
        Status::Rejected,
        Status::Superseded,
        Status::Snoozed,
        Status::Expired,
        Status::Obsolete,
    ];

    /// The name written in DynamoDB and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::InProgress => "IN_PROGRESS",
            Status::Completed => "COMPLETED",
            Status::Failed => "FAILED",
            Status::RolledBack => "ROLLED_BACK",
            Status::AwaitingApproval => "AWAITING_APPROVAL",
            Status::Approved => "APPROVED",
            Status::Rejected => "REJECTED",
            Status::Superseded => "SUPERSEDED",
            Status::Snoozed => "SNOOZED",
            Status::Expired => "EXPIRED",
            Status::Obsolete => "OBSOLETE",
        }
    }

    /// Whether nothing can follow it.
    pub fn is_final(self) -> bool {
        Status::ALL.iter().all(|&to| !can_transition(self, to))
    }

    /// The statuses of an open request: one a newer finding refreshes or replaces, and of
    /// which a group and type have at most one per source.
    pub const OPEN: [Status; 3] = [Status::Pending, Status::AwaitingApproval, Status::Approved];

    /// Whether it is an open request (see [`Status::OPEN`]).
    pub fn is_open(self) -> bool {
        Status::OPEN.contains(&self)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        fleetopt_scoring::parse_named(s, &Status::ALL, Status::as_str, "status")
    }
}

/// The one place that says which status may follow which:
///
/// ```text
/// PENDING -> IN_PROGRESS -> COMPLETED | FAILED | ROLLED_BACK
/// COMPLETED -> ROLLED_BACK (an automated change measured WORSE, where the environment rolls
///              those back; an applied schedule a person rolls back) | EXPIRED (an applied
///              schedule past its end, its actions removed) | SUPERSEDED (an applied schedule
///              whose actions a newer one replaced)
/// IN_PROGRESS -> PENDING | APPROVED (Auto Scaling refused the change for now: the claim is
///                released to the status it came from, and the approval is not spent)
/// PENDING -> AWAITING_APPROVAL -> APPROVED | REJECTED
/// APPROVED -> IN_PROGRESS (an approved scale change the engine applies) | COMPLETED (a
///             person's change, seen applied or marked done) | FAILED (the approval does not
///             verify) | OBSOLETE (re-checked: nothing left to do)
/// PENDING | AWAITING_APPROVAL | APPROVED -> SUPERSEDED (a materially different request
///                                           replaces it) | EXPIRED (too old to act on)
/// PENDING -> FAILED (a check that can never pass)
/// PENDING | AWAITING_APPROVAL | APPROVED -> SNOOZED -> the status it had (checked by
/// `Recommendation::transitioned`, which knows it)
/// ```
pub fn can_transition(from: Status, to: Status) -> bool {
    use Status::*;
    matches!(
        (from, to),
        (Pending, InProgress | AwaitingApproval | Failed)
            | (
                InProgress,
                Completed | Failed | RolledBack | Pending | Approved
            )
            | (Completed, RolledBack | Expired | Superseded)
            | (AwaitingApproval, Approved | Rejected)
            | (Approved, InProgress | Completed | Failed | Obsolete)
            | (
                Pending | AwaitingApproval | Approved,
                Superseded | Expired | Snoozed
            )
            | (Snoozed, Pending | AwaitingApproval | Approved)
    )
}

/// A refused status change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("recommendation {id} cannot go from {from} to {to}")]
pub struct TransitionError {
    /// The recommendation.
    pub id: String,
    /// Its current status.
    pub from: Status,
    /// The status asked for.
    pub to: Status,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_paths_are_allowed() {
        use Status::*;
        for (from, to) in [
            (Pending, InProgress),
            (InProgress, Completed),
            (InProgress, Failed),
            (InProgress, RolledBack),
            (Pending, AwaitingApproval),
            (AwaitingApproval, Approved),
            (AwaitingApproval, Rejected),
            (Approved, InProgress),
            (Pending, Superseded),
            (AwaitingApproval, Superseded),
            (AwaitingApproval, Snoozed),
            (Snoozed, AwaitingApproval),
            (Approved, Superseded),
            (AwaitingApproval, Expired),
            (Approved, Expired),
            (Approved, Obsolete),
            (Approved, Failed),
            (InProgress, Pending),
            (InProgress, Approved),
        ] {
            assert!(can_transition(from, to), "{from} -> {to}");
        }
    }

    #[test]
    fn nothing_skips_approval_or_leaves_a_final_status() {
        use Status::*;
        assert!(!can_transition(AwaitingApproval, InProgress));
        assert!(!can_transition(Rejected, Approved));
        assert!(!can_transition(InProgress, Superseded));
        assert!(!can_transition(Pending, Pending));
        assert!(!can_transition(InProgress, Snoozed));
        assert!(!can_transition(Snoozed, InProgress));
        assert!(!can_transition(Expired, Approved));
        assert!(!can_transition(AwaitingApproval, Completed));
        let finals: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_final()).collect();
        assert_eq!(
            finals,
            vec![Failed, RolledBack, Rejected, Superseded, Expired, Obsolete]
        );
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_explained() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        let err = "DONE".parse::<Status>().unwrap_err();
        assert!(err.starts_with("unknown status \"DONE\": expected one of PENDING, IN_PROGRESS"));
    }
}
