//! The engine on AWS: the real adapters, the Lambda event, the call counts.

use chrono::Utc;
use fleetopt_aws::{
    ApiCalls, AwsFleetDirectory, Clients, CloudWatchMetrics, DynamoRecommendationStore, KmsKeys,
    SdkConfig, SnsNotifier,
};
use fleetopt_config::Config;
use lambda_runtime::{Diagnostic, LambdaEvent};
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

impl From<EngineError> for Diagnostic {
    fn from(e: EngineError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Handles one invocation: decode, decide and act, report the AWS calls it made. A stream
/// batch answers with `batchItemFailures` naming only the records to retry.
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Response, Diagnostic> {
    // One invocation at a time per process: what is counted from here on is this one's.
    app.calls.take();
    let result = match decode(event.payload) {
        Ok(trigger) => run(&app.config, &app.deps, &trigger, Utc::now()).await,
        Err(e) => Err(EngineError::from(e)),
    };
    let calls = app.calls.take();
    match result {
        Ok(mut response) => {
            response.aws_calls = calls;
            tracing::info!(
                trigger = response.trigger,
                decisions = response.decisions.len(),
                applied = response.actions_applied,
                failed = response.actions_failed,
                rolled_back = response.actions_rolled_back,
                retry = response.batch_item_failures.len(),
                aws_calls = ?response.aws_calls,
                "engine run finished"
            );
            Ok(response)
        }
        Err(e) => {
            tracing::error!(error = %e, error_type = e.error_type(), aws_calls = ?calls, "engine run failed");
            Err(e.into())
        }
    }
}
