//! The optimization engine Lambda: tracing, configuration, clients once, then the runtime loop.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    fleetopt_lambda::serve::<optimization_engine::lambda::AwsDeps>().await
}
