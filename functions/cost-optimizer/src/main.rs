//! The cost optimizer Lambda: tracing, configuration, clients once, then the runtime loop.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    fleetopt_lambda::serve::<cost_optimizer::lambda::AwsDeps>().await
}
