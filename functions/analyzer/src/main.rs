//! The analyzer Lambda: tracing, configuration, clients once, then the runtime loop.

use analyzer::lambda::{App, handle};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    fleetopt_logging::init();
    let config = fleetopt_config::Config::from_env().inspect_err(|e| {
        // Lambda shows this line in the function's log; the init error follows it.
        tracing::error!(error = %e, "the analyzer cannot start");
    })?;
    let timeouts = config.aws_timeouts.into();
    let app = App::new(config, &fleetopt_aws::load_config(None, timeouts).await);
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(app, event).await
    }))
    .await
}
