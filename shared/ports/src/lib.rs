//! Capability traits: what the functions need from the outside world, named for what it does
//! for us and speaking our model, never SDK types. The AWS adapters (`fleetopt-aws`) implement
//! them; the `fakes` feature adds in-memory implementations and the contract suite that every
//! implementation, fake or real, must pass.

mod control;
mod cost;
mod fleet;
mod members;
mod metrics;
mod sign;
mod store;

/// Error codes AWS uses for throttling, across services.
const THROTTLING_CODES: [&str; 5] = [
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// A failed call to a service, reduced to what an operator needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {code}: {message}")]
pub struct ServiceError {
    /// The API operation, for example `cloudwatch:GetMetricData`.
    pub operation: &'static str,
    /// The AWS error code, or the kind of failure when no service answered.
    pub code: String,
    /// The service's message.
    pub message: String,
}

impl ServiceError {
    /// Whether the service throttled the call.
    pub fn is_throttling(&self) -> bool {
        THROTTLING_CODES.contains(&self.code.as_str())
    }
}

#[cfg(any(test, feature = "fakes"))]
pub mod fakes;

pub use control::{
    ActionFailure, ActivityStatus, FleetControl, SCALING_ACTIVITY_IN_PROGRESS, ScalingActivity,
    ScheduledAction,
};
pub use cost::{
    CostResult, CostSource, CostUnavailable, InstanceTypeInfo, MonthCost, PriceSource,
    PurchaseRecommendation, SpotPrice, TagActivation,
};
pub use fleet::{FleetDirectory, GroupInfo, GroupSelector, TargetGroupRef};
pub use members::{Members, Opened, Reach, reach};
pub use metrics::{
    MetricDatum, MetricQuery, MetricResults, MetricsPublisher, MetricsSource, Notifier, Statistic,
    TimeWindow, placed_in,
};
pub use sign::{Signature, Signer, Verifier, attest, attest_all, sign_approval};
pub use store::{
    Found, GroupLocks, LOCK_PREFIX, PutOutcome, RecommendationQuery, RecommendationStore,
    StoreError, Transition, lock_id, newest_first,
};
