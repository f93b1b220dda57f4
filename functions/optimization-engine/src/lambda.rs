//! The engine on AWS: the real adapters, the Lambda event, the call counts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fleetopt_aws::{
    AwsFleetDirectory, AwsMembers, Clients, CloudWatchMetrics, DynamoRecommendationStore, KmsKeys,
    SdkConfig, SnsNotifier,
};
use fleetopt_config::Config;
use fleetopt_lambda::Function;
use serde_json::Value;

use crate::engine::{Deps, EngineError, Response, run};
use crate::event::decode;

/// The engine's dependencies on AWS.
pub type AwsDeps = Deps<
    AwsFleetDirectory,
    SnsNotifier,
    CloudWatchMetrics,
    DynamoRecommendationStore,
    KmsKeys,
    AwsMembers,
>;

/// The engine as the Lambda runtime drives it: its configuration, adapters and call counts.
pub type App = fleetopt_lambda::App<AwsDeps>;

impl Function for AwsDeps {
    type Response = Response;
    type Error = EngineError;
    const NAME: &'static str = "the optimization engine";

    fn wire(config: &Config, clients: &Clients, sdk: &SdkConfig) -> Self {
        Deps {
            fleet: clients.fleet(),
            notifier: clients.notifier(),
            metrics: clients.metrics(),
            store: clients.store(&config.table),
            verifier: clients.keys(),
            members: clients.members(sdk, &config.member_role_name),
        }
    }

    async fn invoke(
        app: &App,
        payload: Value,
        now: DateTime<Utc>,
    ) -> Result<Response, EngineError> {
        let trigger = decode(payload)?;
        run(&app.config, &app.deps, &trigger, now).await
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
