//! The analyzer on AWS: the real adapters, the Lambda event, the call counts, JSON logs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fleetopt_aws::{
    ApiCalls, AwsFleetDirectory, Clients, CloudWatchMetrics, DynamoRecommendationStore, KmsKeys,
    SdkConfig, SnsNotifier,
};
use fleetopt_config::Config;
use fleetopt_lambda::Function;
use serde_json::Value;

use crate::analysis::{AnalyzerError, Deps, Response, run};
use crate::event::{Decision, decode};

/// The analyzer's dependencies on AWS.
pub type AwsDeps =
    Deps<AwsFleetDirectory, CloudWatchMetrics, SnsNotifier, DynamoRecommendationStore, KmsKeys>;

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
            metrics: CloudWatchMetrics::new(clients.cloudwatch.clone()),
            notifier: SnsNotifier::new(clients.sns.clone()),
            store: DynamoRecommendationStore::new(clients.dynamodb.clone(), config.table.clone()),
            signer: KmsKeys::new(clients.kms.clone()),
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
    type Error = AnalyzerError;
    const NAME: &'static str = "the analyzer";

    fn calls(&self) -> &ApiCalls {
        &self.calls
    }

    async fn invoke(&self, payload: Value, now: DateTime<Utc>) -> Result<Response, AnalyzerError> {
        match decode(payload)? {
            Decision::Skip { reason } => {
                tracing::info!(%reason, "event skipped");
                Ok(Response::skipped(&self.config, reason))
            }
            Decision::Run(trigger) => {
                tracing::info!(?trigger, "analysis started");
                run(&self.config, &self.deps, &trigger, now).await
            }
        }
    }

    fn record_calls(response: &mut Response, calls: BTreeMap<String, u64>) {
        response.aws_calls = calls;
    }

    fn error_type(error: &AnalyzerError) -> &'static str {
        error.error_type()
    }

    fn log(response: &Response) {
        tracing::info!(
            groups = response.groups.len(),
            written = response.recommendations_written,
            refreshed = response.recommendations_refreshed,
            superseded = response.recommendations_superseded,
            aws_calls = ?response.aws_calls,
            "analysis finished"
        );
    }
}
