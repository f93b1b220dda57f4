//! The fleets of other accounts and regions (shards), reached through the member role.

use std::future::Future;

use fleetopt_model::Shard;

use crate::ServiceError;

/// A shard's groups and metrics, as a function reads and scales them.
#[derive(Debug, Clone)]
pub struct Reach<F, M> {
    /// Its Auto Scaling groups.
    pub fleet: F,
    /// Its CloudWatch metrics.
    pub metrics: M,
}

/// A shard's reach, `None` for the function's own account and region.
pub type Opened<F, M> = Result<Option<Reach<F, M>>, ServiceError>;

/// Opens a shard: its Auto Scaling groups and its CloudWatch metrics, as the adapters the
/// function uses for its own account. The table, the topics, the keys and the metrics a function
/// publishes stay in the function's own account.
pub trait Members {
    /// The shard's groups: read and scaled.
    type Fleet;
    /// The shard's metrics: read.
    type Metrics;

    /// The shard's fleet and metrics, or `None` when `shard` is the function's own account and
    /// region (its own adapters serve it). Fails when the member role cannot be assumed.
    fn open(
        &self,
        shard: &Shard,
    ) -> impl Future<Output = Opened<Self::Fleet, Self::Metrics>> + Send;
}
