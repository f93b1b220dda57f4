//! Other accounts and regions (shards) through the member role: STS AssumeRole of
//! `arn:aws:iam::<account>:role/<member role>` from the function's own credentials, then the
//! same adapters over clients in the shard's region with the role's credentials.

use std::marker::PhantomData;
use std::sync::OnceLock;
use std::time::SystemTime;

use aws_config::SdkConfig;
use aws_sdk_sts::config::{Credentials, Region, SharedCredentialsProvider};
use fleetopt_model::Shard;
use fleetopt_ports::{Members, Opened, Reach, ServiceError};

use crate::calls::ApiCalls;
use crate::clients::Clients;
use crate::error::service_error;
use crate::identity::account_of;
use crate::{AwsFleetDirectory, CloudWatchMetrics};

/// The session name a member account's CloudTrail shows for our calls.
pub const SESSION_NAME: &str = "fleet-optimizer";

/// What a function reads in a shard, made from the shard's clients.
pub trait FromClients {
    /// The adapters over `clients`, which work in `shard`.
    fn from_clients(clients: &Clients, shard: &Shard) -> Self;
}

impl FromClients for Reach<AwsFleetDirectory, CloudWatchMetrics> {
    fn from_clients(clients: &Clients, _: &Shard) -> Self {
        Reach {
            fleet: clients.fleet(),
            metrics: clients.metrics(),
        }
    }
}

/// Shards through the member role, counting their calls with the function's own; `T` is what
/// the function reads there (the analyzer's and the engine's [`Reach`] by default).
#[derive(Debug)]
pub struct AwsMembers<T = Reach<AwsFleetDirectory, CloudWatchMetrics>> {
    sdk: SdkConfig,
    sts: aws_sdk_sts::Client,
    role_name: String,
    calls: ApiCalls,
    home: std::sync::Arc<OnceLock<Shard>>,
    reach: PhantomData<fn() -> T>,
}

impl<T> Clone for AwsMembers<T> {
    fn clone(&self) -> Self {
        AwsMembers {
            sdk: self.sdk.clone(),
            sts: self.sts.clone(),
            role_name: self.role_name.clone(),
            calls: self.calls.clone(),
            home: self.home.clone(),
            reach: PhantomData,
        }
    }
}

impl<T> AwsMembers<T> {
    /// Shards reached from `sdk`'s credentials through `role_name`, their calls counted in
    /// `calls`.
    pub fn new(sdk: &SdkConfig, role_name: &str, calls: ApiCalls) -> Self {
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(sdk)
                .interceptor(calls.clone())
                .build(),
        );
        AwsMembers {
            sdk: sdk.clone(),
            sts,
            role_name: role_name.to_owned(),
            calls,
            home: Default::default(),
            reach: PhantomData,
        }
    }

    /// The function's own account (STS GetCallerIdentity, once per process) and region.
    pub async fn home(&self) -> Result<Shard, ServiceError> {
        const OPERATION: &str = "sts:GetCallerIdentity";
        if let Some(home) = self.home.get() {
            return Ok(home.clone());
        }
        let region = self
            .sdk
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| ServiceError {
                operation: OPERATION,
                code: "NoRegion".to_owned(),
                message: "the function's own region is not configured (AWS_REGION)".to_owned(),
            })?;
        let account = account_of(&self.sts).await?;
        let home = Shard::new(&account, &region).map_err(|e| ServiceError {
            operation: OPERATION,
            code: "InvalidIdentity".to_owned(),
            message: e.to_string(),
        })?;
        Ok(self.home.get_or_init(|| home).clone())
    }

    /// The role's credentials in `shard`'s account.
    async fn assume(&self, shard: &Shard) -> Result<Credentials, ServiceError> {
        const OPERATION: &str = "sts:AssumeRole";
        let arn = shard.role_arn(&self.role_name);
        let out = self
            .sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name(SESSION_NAME)
            .send()
            .await
            .map_err(|e| {
                let mut error = service_error(OPERATION, &e);
                error.message = format!("assuming {arn}: {}", error.message);
                error
            })?;
        let granted = out.credentials.ok_or_else(|| ServiceError {
            operation: OPERATION,
            code: "MissingCredentials".to_owned(),
            message: format!("assuming {arn}: the answer holds no credentials"),
        })?;
        Ok(Credentials::new(
            granted.access_key_id(),
            granted.secret_access_key(),
            Some(granted.session_token().to_owned()),
            SystemTime::try_from(*granted.expiration()).ok(),
            "fleet-optimizer-member",
        ))
    }
}

impl<T: FromClients + Send> Members for AwsMembers<T> {
    type Reach = T;

    async fn open(&self, shard: &Shard) -> Opened<T> {
        let home = self.home().await?;
        if *shard == home {
            return Ok(None);
        }
        let mut config = self
            .sdk
            .to_builder()
            .region(Region::new(shard.region().to_owned()));
        // The own account in another region needs no role.
        if shard.account_id() != home.account_id() {
            config = config
                .credentials_provider(SharedCredentialsProvider::new(self.assume(shard).await?));
        }
        let clients = Clients::counting(&config.build(), self.calls.clone());
        Ok(Some(T::from_clients(&clients, shard)))
    }
}
