//! The analyzer on AWS: the real adapters, the Lambda event, the call counts, JSON logs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fleetopt_aws::{
    AwsFleetDirectory, AwsMembers, Clients, CloudWatchMetrics, DynamoRecommendationStore, KmsKeys,
    SdkConfig, SnsNotifier,
};
use fleetopt_config::Config;
use fleetopt_lambda::Function;
use serde_json::Value;

use crate::analysis::{AnalyzerError, Deps, Response, run};
use crate::event::{Decision, decode};

/// The analyzer's dependencies on AWS.
pub type AwsDeps = Deps<
    AwsFleetDirectory,
    CloudWatchMetrics,
    SnsNotifier,
    DynamoRecommendationStore,
    KmsKeys,
    AwsMembers,
>;

/// The analyzer as the Lambda runtime drives it: its configuration, adapters and call counts.
pub type App = fleetopt_lambda::App<AwsDeps>;

impl Function for AwsDeps {
    type Response = Response;
    type Error = AnalyzerError;
    const NAME: &'static str = "the analyzer";

    fn wire(config: &Config, clients: &Clients, sdk: &SdkConfig) -> Self {
        Deps {
            fleet: clients.fleet(),
            metrics: clients.metrics(),
            notifier: clients.notifier(),
            store: clients.store(&config.table),
            signer: clients.keys(),
            members: clients.members(sdk, &config.member_role_name),
        }
    }

    async fn invoke(
        app: &App,
        payload: Value,
        now: DateTime<Utc>,
    ) -> Result<Response, AnalyzerError> {
        match decode(payload)? {
            Decision::Skip { reason } => {
                tracing::info!(%reason, "event skipped");
                Ok(Response::skipped(&app.config, reason))
            }
            Decision::Run(trigger) => {
                tracing::info!(?trigger, "analysis started");
                run(&app.config, &app.deps, &trigger, now).await
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
