//! The analyzer on AWS: the real adapters, the Lambda event, the call counts, JSON logs.

use chrono::Utc;
use fleetopt_aws::{
    ApiCalls, AwsFleetDirectory, Clients, CloudWatchMetrics, DynamoRecommendationStore, KmsKeys,
    SdkConfig, SnsNotifier,
};
use fleetopt_config::Config;
use lambda_runtime::{Diagnostic, LambdaEvent};
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

impl From<AnalyzerError> for Diagnostic {
    fn from(e: AnalyzerError) -> Self {
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
        Ok(Decision::Skip { reason }) => {
            tracing::info!(%reason, "event skipped");
            Ok(Response::skipped(&app.config, reason))
        }
        Ok(Decision::Run(trigger)) => {
            tracing::info!(?trigger, "analysis started");
            run(&app.config, &app.deps, &trigger, Utc::now()).await
        }
        Err(e) => Err(AnalyzerError::from(e)),
    };
    let calls = app.calls.take();
    match result {
        Ok(mut response) => {
            response.aws_calls = calls;
            tracing::info!(
                groups = response.groups.len(),
                written = response.recommendations_written,
                superseded = response.recommendations_superseded,
                aws_calls = ?response.aws_calls,
                "analysis finished"
            );
            Ok(response)
        }
        Err(e) => {
            tracing::error!(error = %e, error_type = e.error_type(), aws_calls = ?calls, "analysis failed");
            Err(e.into())
        }
    }
}
