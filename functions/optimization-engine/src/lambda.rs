//! The engine on AWS: the real adapters, the Lambda event, the call counts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fleetopt_aws::{
    ApiCalls, AwsFleetDirectory, Clients, CloudWatchMetrics, DynamoRecommendationStore, KmsKeys,
    SdkConfig, SnsNotifier,
};
use fleetopt_config::Config;
use fleetopt_lambda::Function;
use serde_json::Value;

use crate::engine::{Deps, EngineError, Response, run};
use crate::event::decode;

/// The engine's dependencies on AWS.
pub type AwsDeps =
    Deps<AwsFleetDirectory, SnsNotifier, CloudWatchMetrics, DynamoRecommendationStore, KmsKeys>;

/// Everything built once per process, outside the handler.
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
            notifier: SnsNotifier::new(clients.sns.clone()),
            metrics: CloudWatchMetrics::new(clients.cloudwatch.clone()),
            store: DynamoRecommendationStore::new(clients.dynamodb.clone(), config.table.clone()),
            verifier: KmsKeys::new(clients.kms.clone()),
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
    type Error = EngineError;
    const NAME: &'static str = "the optimization engine";

    fn calls(&self) -> &ApiCalls {
        &self.calls
    }

    async fn invoke(&self, payload: Value, now: DateTime<Utc>) -> Result<Response, EngineError> {
        let trigger = decode(payload)?;
        run(&self.config, &self.deps, &trigger, now).await
    }

    fn record_calls(response: &mut Response, calls: BTreeMap<String, u64>) {
        response.aws_calls = calls;
    }

    fn error_type(error: &EngineError) -> &'static str {
        error.error_type()
    }

    fn log(response: &Response) {
        tracing::info!(
            trigger = response.trigger,
            decisions = response.decisions.len(),
            applied = response.actions_applied,
            failed = response.actions_failed,
            rolled_back = response.actions_rolled_back,
            verified = response.signatures_verified,
            skipped = ?response.items_skipped,
            retry = response.batch_item_failures.len(),
            aws_calls = ?response.aws_calls,
            "engine run finished"
        );
    }
}
