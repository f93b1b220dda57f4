//! The recommendation as it is stored (docs/design.md, "The recommendation item"): its statuses and the one function
//! that says which transitions are allowed, deterministic ids, ttl, the DynamoDB item mapping
//! (through `serde_dynamo`, camelCase attributes) and the table schema shared with the stack.
//!
//! **Architecture invariant:** no AWS SDK and no I/O here. Items are `serde_dynamo::Item`; the
//! adapters crate converts them to the SDK's attribute maps.

mod exclusions;
mod outcome;
mod proof;
mod realized;
mod recommendation;
#[cfg(any(test, feature = "samples"))]
pub mod samples;
mod schema;
mod shard;
mod status;

pub use exclusions::{EXCLUDE_TAG, Exclusions};
pub use outcome::{ChangeOutcome, OutcomeVerdict, SCORE_MARGIN, judge};
pub use proof::{
    Approval, Attestation, CLOCK_SKEW, Digest32, SIGNING_ALGORITHM, Sibling, approval_message,
    approval_problem, attestation_message, attestation_problem, attested_message, batch_message,
    from_hex, leaf_hash, merkle_root, merkle_tree, to_hex, unsigned_approval,
};
pub use realized::{ACHIEVED_DAYS, Achieved, RealizedSavings, savings_achieved};
pub use recommendation::{
    ACCOUNT_SUBJECT_PREFIX, Action, AnalysisWindow, Check, DecodeError, Execution, Implementation,
    Origin, Persistence, Recommendation, SNOOZE_KEEP_DAYS, Snooze, Source, StatusChange,
    recommendation_id, rfc3339,
};
pub use schema::{Index, TableSchema, recommendations_table};
pub use shard::{Shard, ShardError};
pub use status::{Status, TransitionError, can_transition};

pub use fleetopt_scoring::{
    CommitmentFigures, Evidence, ExpectedImpact, HOURS_PER_MONTH, Priority, RecommendationType,
    RiskLevel,
};
