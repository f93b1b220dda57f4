//! The cost optimizer on AWS: the real adapters, the Lambda event, the call counts.

use chrono::Utc;
use fleetopt_aws::{
    ApiCalls, AwsFleetDirectory, AwsPrices, Clients, CloudWatchMetrics, CostExplorer,
    DynamoRecommendationStore, SdkConfig, SnsNotifier,
};
use fleetopt_config::Config;
use lambda_runtime::{Diagnostic, LambdaEvent};
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

impl From<CostError> for Diagnostic {
    fn from(e: CostError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Handles one invocation: decode, analyze, report the AWS calls it made.
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Response, Diagnostic> {
    // One invocation at a time per process: what is counted from here on is this one's.
    app.calls.take();
    let result = match decode(event.payload) {
        Ok(Decision::Skip { reason }) => Ok(Response::skipped(&app.config, reason)),
        Ok(Decision::Run(trigger)) => run(&app.config, &app.deps, &trigger, Utc::now()).await,
        Err(e) => Err(CostError::from(e)),
    };
    let calls = app.calls.take();
    match result {
        Ok(mut response) => {
            // What Cost Explorer bills: its requests as the SDK sent them, pages included
            // (the run counts the figures it asked for).
            response.cost_explorer_calls = calls
                .iter()
                .filter(|(api, _)| api.starts_with("ce:"))
                .map(|(_, n)| u32::try_from(*n).unwrap_or(u32::MAX))
                .sum();
            response.aws_calls = calls;
            tracing::info!(
                groups = response.groups.len(),
                written = response.recommendations_written,
                unavailable = ?response.unavailable,
                cost_explorer_calls = response.cost_explorer_calls,
                cache = ?response.cache,
                aws_calls = ?response.aws_calls,
                "cost analysis finished"
            );
            Ok(response)
        }
        Err(e) => {
            tracing::error!(error = %e, error_type = e.error_type(), aws_calls = ?calls, "cost analysis failed");
            Err(e.into())
        }
    }
}
