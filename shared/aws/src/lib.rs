//! The AWS adapters: implementations of the ports in `fleetopt-ports` with the AWS SDK for Rust.
//!
//! **Architecture invariant:** this is the only crate that links the AWS SDK. Adapters return
//! our model types and our errors, never SDK types; errors keep the AWS error code and message.
//! Endpoints come from the standard variables (`AWS_ENDPOINT_URL`, ...): there is no other
//! switch between AWS and the local emulator.

mod autoscaling;
mod calls;
mod clients;
mod cloudwatch;
mod costexplorer;
mod dynamodb;
#[cfg(feature = "emulator")]
pub mod emulator;
mod error;
mod identity;
mod lambda;
mod prices;
mod sns;

pub use autoscaling::AwsFleetDirectory;
pub use calls::ApiCalls;
pub use clients::{Clients, PRICING_REGION};
pub use cloudwatch::{CloudWatchMetrics, DATUMS_PER_REQUEST, QUERIES_PER_REQUEST};
pub use costexplorer::CostExplorer;
pub use dynamodb::{DynamoRecommendationStore, TableCreation, create_table};
pub use error::service_error;
pub use identity::caller_arn;
pub use lambda::{FunctionInvoker, InvokeError};
pub use prices::AwsPrices;
pub use sns::SnsNotifier;

pub use aws_config::SdkConfig;

/// Loads the one `SdkConfig` a process uses: the standard chain (environment, profile, IMDS or
/// the Lambda role), the standard retry mode, and `region` when given.
pub async fn load_config(region: Option<String>) -> SdkConfig {
    load_profile_config(None, region).await
}

/// [`load_config`] with a named profile of the shared config and credentials files (what
/// `AWS_PROFILE` selects, as `fleetopt --profile` does): its credentials and, unless `region`
/// is given, its region.
pub async fn load_profile_config(profile: Option<String>, region: Option<String>) -> SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::standard());
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    loader.load().await
}
