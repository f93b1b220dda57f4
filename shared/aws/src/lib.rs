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
mod kms;
mod lambda;
mod members;
mod prices;
mod sns;

pub use autoscaling::AwsFleetDirectory;
pub use calls::ApiCalls;
pub use clients::{Clients, PRICING_REGION};
pub use cloudwatch::{CloudWatchMetrics, DATUMS_PER_REQUEST, QUERIES_PER_REQUEST};
pub use costexplorer::CostExplorer;
pub use dynamodb::{DynamoRecommendationStore, TableCreation, create_table};
pub use error::service_error;
pub use identity::{caller_account, caller_arn};
pub use kms::KmsKeys;
pub use lambda::{FunctionInvoker, InvokeError};
pub use members::{AwsMembers, FromClients, SESSION_NAME};
pub use prices::AwsPrices;
pub use sns::SnsNotifier;

use std::time::Duration;

pub use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
/// The KMS client, for callers that build one `KmsKeys` from a configuration.
pub use aws_sdk_kms::Client as KmsClient;

/// How long a process waits for AWS: one attempt of a call, and the whole call with its retries.
/// Without them, an endpoint that accepts a connection and never answers holds a Lambda until
/// its own timeout and a terminal for ever. The functions' values come from their
/// configuration (`fleetopt_config::AwsTimeouts`, 20 s and 60 s by default), `fleetopt`'s from
/// `--attempt-timeout` and `--timeout` (10 s and 30 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// One attempt: one request and its response.
    pub attempt: Duration,
    /// The operation: every attempt and the waits between them.
    pub operation: Duration,
}

impl Timeouts {
    /// The SDK's form of them.
    pub(crate) fn config(self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

impl From<fleetopt_config::AwsTimeouts> for Timeouts {
    /// A function's configured timeouts (`FLEETOPT_AWS_*_TIMEOUT_SECONDS`).
    fn from(t: fleetopt_config::AwsTimeouts) -> Self {
        Timeouts {
            attempt: Duration::from_secs(t.attempt_seconds.into()),
            operation: Duration::from_secs(t.operation_seconds.into()),
        }
    }
}

/// Loads the one `SdkConfig` a process uses: the standard chain (environment, profile, IMDS or
/// the Lambda role), `region` when given, and `timeouts` on every call. Retries are left to
/// that chain: `AWS_MAX_ATTEMPTS`, `AWS_RETRY_MODE` or the profile's `max_attempts` and
/// `retry_mode`, else the standard mode with 3 attempts.
pub async fn load_config(region: Option<String>, timeouts: Timeouts) -> SdkConfig {
    load_profile_config(None, region, timeouts).await
}

/// [`load_config`] with a named profile of the shared config and credentials files (what
/// `AWS_PROFILE` selects, as `fleetopt --profile` does): its credentials, of any kind the AWS
/// CLI takes (keys, `credential_process`, IAM Identity Center, assumed roles), and, unless
/// `region` is given, its region.
pub async fn load_profile_config(
    profile: Option<String>,
    region: Option<String>,
    timeouts: Timeouts,
) -> SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts.config());
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    loader.load().await
}
