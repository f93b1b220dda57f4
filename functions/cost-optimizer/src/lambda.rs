//! The cost optimizer on AWS: the real adapters, the Lambda event, the call counts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fleetopt_aws::{
    ApiCalls, AwsFleetDirectory, AwsPrices, Clients, CloudWatchMetrics, CostExplorer,
    DynamoRecommendationStore, SdkConfig, SnsNotifier,
};
use fleetopt_config::Config;
use fleetopt_lambda::Function;
use serde_json::Value;

use crate::analysis::{CostError, Deps, Response, run};
use crate::event::{Decision, decode};
use crate::prices::CachedPrices;

/// The cost optimizer's dependencies on AWS.
pub type AwsDeps = Deps<
    AwsFleetDirectory,
    CloudWatchMetrics,
    CostExplorer,
    AwsPrices,
    SnsNotifier,
    DynamoRecommendationStore,
>;

/// Everything built once per process, outside the handler: the price caches live here, so
/// they survive warm invocations.
#[derive(Debug)]
pub struct App {
    /// The validated configuration.
    pub config: Config,
    /// The adapters.
    pub deps: AwsDeps,
    /// The calls every client makes.
    pub calls: ApiCalls,
}

impl App {
    /// Builds the clients and adapters from one `SdkConfig`.
    pub fn new(config: Config, sdk: &SdkConfig) -> Self {
        let clients = Clients::new(sdk);
        let deps = Deps {
            fleet: AwsFleetDirectory::new(clients.autoscaling.clone(), clients.elbv2.clone()),
            metrics: CloudWatchMetrics::new(clients.cloudwatch.clone()),
            costs: CostExplorer::new(clients.costexplorer.clone()),
            prices: CachedPrices::new(AwsPrices::new(clients.pricing.clone(), clients.ec2.clone())),
            notifier: SnsNotifier::new(clients.sns.clone()),
            store: DynamoRecommendationStore::new(clients.dynamodb.clone(), config.table.clone()),
            region: sdk
                .region()
                .map_or_else(|| "us-east-1".to_owned(), |r| r.as_ref().to_owned()),
        };
        App {
            config,
            deps,
            calls: clients.calls,
        }
    }
}

impl Function for App {
    type Response = Response;
    type Error = CostError;
    const NAME: &'static str = "the cost optimizer";

    fn calls(&self) -> &ApiCalls {
        &self.calls
    }

    async fn invoke(&self, payload: Value, now: DateTime<Utc>) -> Result<Response, CostError> {
        match decode(payload)? {
            Decision::Skip { reason } => Ok(Response::skipped(&self.config, reason)),
            Decision::Run(trigger) => run(&self.config, &self.deps, &trigger, now).await,
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
