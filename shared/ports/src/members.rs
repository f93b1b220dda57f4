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
pub type Opened<T> = Result<Option<T>, ServiceError>;

/// Opens a shard: what a function reads (and the engine scales) there, as the adapters the
/// function uses for its own account: [`Reach`] for the analyzer and the engine, the cost
/// optimizer's own reach for it. The table, the topics, the keys and the metrics a function
/// publishes stay in the function's own account.
pub trait Members {
    /// The shard's adapters.
    type Reach;

    /// The shard's adapters, or `None` when `shard` is the function's own account and region
    /// (its own adapters serve it). Fails when the member role cannot be assumed.
    fn open(&self, shard: &Shard) -> impl Future<Output = Opened<Self::Reach>> + Send;
}

/// What a run reads through when its event names `shard`: `None` for no shard or the
/// function's own account and region; the refusal keeps the shard it was for.
pub async fn reach<R: Members + Sync>(
    members: &R,
    shard: Option<&Shard>,
) -> Result<Option<R::Reach>, (Shard, ServiceError)> {
    match shard {
        Some(s) => members.open(s).await.map_err(|error| (s.clone(), error)),
        None => Ok(None),
    }
}
