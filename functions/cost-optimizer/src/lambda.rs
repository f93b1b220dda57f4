//! The cost optimizer on AWS: the real adapters, the Lambda event, the call counts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fleetopt_aws::{
    AwsFleetDirectory, AwsMembers, AwsPrices, Clients, CloudWatchMetrics, CostExplorer,
    DynamoRecommendationStore, FromClients, SdkConfig, SnsNotifier,
};
use fleetopt_config::Config;
use fleetopt_lambda::Function;
use fleetopt_model::Shard;
use serde_json::Value;

use crate::analysis::{CostError, Deps, Response, ShardReads, run};
use crate::event::{Decision, decode};
use crate::prices::CachedPrices;

/// What the cost optimizer reads in another account or region, on AWS.
pub type AwsShardReads = ShardReads<AwsFleetDirectory, CloudWatchMetrics, CostExplorer, AwsPrices>;

/// The cost optimizer's dependencies on AWS.
pub type AwsDeps = Deps<
    AwsFleetDirectory,
    CloudWatchMetrics,
    CostExplorer,
    AwsPrices,
    SnsNotifier,
    DynamoRecommendationStore,
    AwsMembers<AwsShardReads>,
>;

impl FromClients for AwsShardReads {
    fn from_clients(clients: &Clients, shard: &Shard) -> Self {
        ShardReads {
            fleet: clients.fleet(),
            metrics: clients.metrics(),
            costs: clients.costs(),
            prices: clients.prices(),
            region: shard.region().to_owned(),
        }
    }
}

/// The cost optimizer as the Lambda runtime drives it: its configuration, adapters (the price
/// caches among them, so they survive warm invocations) and call counts.
pub type App = fleetopt_lambda::App<AwsDeps>;

impl Function for AwsDeps {
    type Response = Response;
    type Error = CostError;
    const NAME: &'static str = "the cost optimizer";

    fn wire(config: &Config, clients: &Clients, sdk: &SdkConfig) -> Self {
        Deps {
            fleet: clients.fleet(),
            metrics: clients.metrics(),
            costs: clients.costs(),
            prices: CachedPrices::new(clients.prices()),
            notifier: clients.notifier(),
            store: clients.store(&config.table),
            region: sdk
                .region()
                .map_or_else(|| "us-east-1".to_owned(), |r| r.as_ref().to_owned()),
            members: clients.members(sdk, &config.member_role_name),
        }
    }

    async fn invoke(app: &App, payload: Value, now: DateTime<Utc>) -> Result<Response, CostError> {
        match decode(payload)? {
            Decision::Skip { reason } => Ok(Response::skipped(&app.config, reason)),
            Decision::Run(trigger) => run(&app.config, &app.deps, &trigger, now).await,
        }
    }

    fn record_calls(response: &mut Response, calls: BTreeMap<String, u64>) {
        // What Cost Explorer bills: its requests as the SDK sent them, pages included (the
        // run counts the figures it asked for).
        response.cost_explorer_calls = calls
            .iter()
            .filter(|(api, _)| api.starts_with("ce:"))
            .map(|(_, n)| u32::try_from(*n).unwrap_or(u32::MAX))
            .sum();
        response.aws_calls = calls;
    }

    fn error_type(error: &CostError) -> &'static str {
        error.error_type()
    }

    fn log(response: &Response) {
        tracing::info!(
            groups = response.groups.len(),
            written = response.recommendations_written,
            unavailable = ?response.unavailable,
            cost_explorer_calls = response.cost_explorer_calls,
            cache = ?response.cache,
            aws_calls = ?response.aws_calls,
            "cost analysis finished"
        );
    }
}
