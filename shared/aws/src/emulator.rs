//! The local emulator, for tests, the demo and benchmarks (feature `emulator`): an `SdkConfig`
//! that can only reach a loopback endpoint, and seeding of Auto Scaling groups and metrics.
//! Never compiled into a function.

use aws_config::SdkConfig;
use aws_sdk_autoscaling::types::Tag;
use aws_sdk_cloudwatch::config::{Credentials, Region};
use chrono::{DateTime, Utc};
use fleetopt_ports::{MetricDatum, MetricsPublisher, ServiceError};

use crate::clients::Clients;
use crate::error::service_error;

/// Where the emulator listens: `AWS_ENDPOINT_URL`, else `.emulator/endpoint` of this checkout.
/// Panics (this is test support) when neither is there or the endpoint is not on loopback: no
/// test, demo or benchmark may reach a real account.
#[allow(clippy::expect_used)]
pub fn endpoint() -> String {
    let from_file = || {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../.emulator/endpoint"
        ))
        .ok()
    };
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .or_else(from_file)
        .expect("no emulator endpoint: run `scripts/emulator start` (scripts/test does) first")
        .trim()
        .to_owned();
    assert!(
        endpoint.starts_with("http://127.0.0.1:") || endpoint.starts_with("http://localhost:"),
        "refusing to use {endpoint}: only the local emulator on loopback"
    );
    endpoint
}

/// One request to the emulator proxy's admin API (`/_fleetopt/...`: faults, call counts, the
/// metrics generator): the status and the body. Panics (this is test support) when the proxy
/// cannot be reached or does not answer HTTP.
#[allow(clippy::expect_used)]
pub fn proxy_admin(method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let endpoint = endpoint();
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(authority).expect("the emulator proxy is up");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("a read timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("the request is sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the proxy answers");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_owned());
    (status, body)
}

/// An `SdkConfig` for the emulator, with emulator-only credentials.
pub async fn sdk_config() -> SdkConfig {
    sdk_config_as("testing").await
}

/// The same under an access key id of the caller's own: the proxy's fault rules can name it
/// (`accessKeyId`), so that only this caller's requests see them while other tests run.
pub async fn sdk_config_as(access_key: &str) -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            access_key, "testing", None, None, "emulator",
        ))
        .load()
        .await
}

/// A 12-digit account id no other test uses: moto keeps each account's resources, and the Cost
/// Explorer results queued for it, apart from every other account's.
pub fn new_account_id() -> String {
    use std::hash::BuildHasher;
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seed = (
        std::process::id(),
        COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now(),
    );
    let n = std::collections::hash_map::RandomState::new().hash_one(seed) % 1_000_000_000_000;
    format!("{n:012}")
}

/// An `SdkConfig` working in `account_id`: the temporary credentials of a role assumed there
/// through STS (moto creates whatever they create in that account), and those credentials (the
/// proxy's per-key seeds and fault rules name their access key id).
pub async fn sdk_config_in(account_id: &str) -> Result<(SdkConfig, Credentials), ServiceError> {
    use aws_sdk_cloudwatch::config::ProvideCredentials;
    let provider = aws_config::sts::AssumeRoleProvider::builder(format!(
        "arn:aws:iam::{account_id}:role/fleetopt-emulator"
    ))
    .session_name("fleetopt-emulator")
    .configure(&sdk_config().await)
    .build()
    .await;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| ServiceError {
            operation: "sts:AssumeRole",
            code: "CredentialsError".to_owned(),
            message: e.to_string(),
        })?;
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials.clone())
        .load()
        .await;
    Ok((config, credentials))
}

/// An Auto Scaling group to create in the emulator.
#[derive(Debug, Clone)]
pub struct SeedGroup {
    /// Its name.
    pub name: String,
    /// MinSize.
    pub min_size: i32,
    /// MaxSize.
    pub max_size: i32,
    /// DesiredCapacity (the emulator launches that many healthy instances).
    pub desired: i32,
    /// Tags on the group.
    pub tags: Vec<(String, String)>,
    /// Instance type of its launch configuration.
    pub instance_type: String,
    /// Load balancer target groups it registers with.
    pub target_group_arns: Vec<String>,
}

impl SeedGroup {
    /// A group of m5.large instances, `(min, desired, max)`, without tags or target groups.
    pub fn new(name: &str, (min_size, desired, max_size): (i32, i32, i32)) -> Self {
        SeedGroup {
            name: name.to_owned(),
            min_size,
            max_size,
            desired,
            tags: Vec::new(),
            instance_type: "m5.large".into(),
            target_group_arns: Vec::new(),
        }
    }

    /// With the tag `key=value`.
    pub fn tagged(mut self, key: &str, value: &str) -> Self {
        self.tags.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// Creates many groups, each in its clients' account and region, 16 at a time (benchmarks).
pub async fn create_groups<'a>(
    groups: impl IntoIterator<Item = (&'a Clients, SeedGroup)>,
) -> Result<(), ServiceError> {
    use futures::{StreamExt, TryStreamExt};
    futures::stream::iter(groups)
        .map(|(clients, group)| async move { create_group(clients, &group).await })
        .buffer_unordered(16)
        .try_collect()
        .await
}

/// Creates the group (and a launch configuration for its instance type, once).
pub async fn create_group(clients: &Clients, group: &SeedGroup) -> Result<(), ServiceError> {
    let launch_configuration = format!("fleetopt-seed-{}", group.instance_type);
    // The group's zone is the first of the client's region (moto refuses another region's).
    let region = clients
        .autoscaling
        .config()
        .region()
        .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
    let created = clients
        .autoscaling
        .create_launch_configuration()
        .launch_configuration_name(&launch_configuration)
        .image_id("ami-12345678")
        .instance_type(&group.instance_type)
        .send()
        .await;
    if let Err(e) = created {
        let e = service_error("autoscaling:CreateLaunchConfiguration", &e);
        if e.code != "AlreadyExists" {
            return Err(e);
        }
    }
    let mut request = clients
        .autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name(&group.name)
        .launch_configuration_name(&launch_configuration)
        .min_size(group.min_size)
        .max_size(group.max_size)
        .desired_capacity(group.desired)
        .set_target_group_arns(Some(group.target_group_arns.clone()))
        .availability_zones(format!("{region}a"));
    for (key, value) in &group.tags {
        request = request.tags(
            Tag::builder()
                .key(key)
                .value(value)
                .resource_id(&group.name)
                .resource_type("auto-scaling-group")
                .propagate_at_launch(false)
                .build(),
        );
    }
    request
        .send()
        .await
        .map_err(|e| service_error("autoscaling:CreateAutoScalingGroup", &e))?;
    Ok(())
}

/// Stores a series for one metric of one group (batched by the publisher).
pub async fn put_series(
    clients: &Clients,
    namespace: &str,
    name: &'static str,
    group: &str,
    points: &[(DateTime<Utc>, f64)],
) -> Result<(), ServiceError> {
    let unit = match name {
        "NetworkIn" | "NetworkOut" => "Bytes",
        _ => "Percent",
    };
    let dimensions = [("AutoScalingGroupName", group.to_owned())];
    put_datapoints(clients, (namespace, name, unit), &dimensions, points).await
}

/// Stores a series for one metric with any dimensions (batched by the publisher).
pub async fn put_datapoints(
    clients: &Clients,
    (namespace, name, unit): (&str, &'static str, &'static str),
    dimensions: &[(&'static str, String)],
    points: &[(DateTime<Utc>, f64)],
) -> Result<(), ServiceError> {
    let data: Vec<MetricDatum> = points
        .iter()
        .map(|(timestamp, value)| MetricDatum {
            name,
            dimensions: dimensions.to_vec(),
            value: *value,
            unit,
            timestamp: *timestamp,
        })
        .collect();
    clients.metrics().publish(namespace, &data).await
}

/// Stores `buckets` 5-minute buckets ending at `end`, each holding two samples whose mean is
/// `average` and whose larger one is `peak`: a load whose 5-minute Average is `average` and
/// whose Maximum is `peak`.
pub async fn put_load(
    clients: &Clients,
    (namespace, name): (&str, &'static str),
    group: &str,
    (average, peak): (f64, f64),
    end: DateTime<Utc>,
    buckets: i64,
) -> Result<(), ServiceError> {
    let mut points = Vec::new();
    for k in 0..buckets {
        let bucket = end - chrono::TimeDelta::minutes(5 * (k + 1));
        points.push((bucket + chrono::TimeDelta::seconds(30), peak));
        points.push((
            bucket + chrono::TimeDelta::seconds(90),
            2.0 * average - peak,
        ));
    }
    put_series(clients, namespace, name, group, &points).await
}

/// The signing key behind `alias` (`alias/...`), created on first use as the stack creates
/// the real ones: ECC_NIST_P256, SIGN_VERIFY. Returns the key's ARN.
pub async fn signing_key(clients: &Clients, alias: &str) -> Result<String, ServiceError> {
    if let Ok(found) = clients.kms.describe_key().key_id(alias).send().await
        && let Some(arn) = found.key_metadata.and_then(|m| m.arn)
    {
        return Ok(arn);
    }
    let created = clients
        .kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .description(format!("fleet-optimizer {alias} (emulator)"))
        .send()
        .await
        .map_err(|e| service_error("kms:CreateKey", &e))?;
    let metadata = created.key_metadata.ok_or_else(|| ServiceError {
        operation: "kms:CreateKey",
        code: "NoKeyMetadata".to_owned(),
        message: "CreateKey answered without the key".to_owned(),
    })?;
    let aliased = clients
        .kms
        .create_alias()
        .alias_name(alias)
        .target_key_id(metadata.key_id())
        .send()
        .await;
    match aliased {
        Ok(_) => {
            let id = metadata.key_id().to_owned();
            Ok(metadata.arn.unwrap_or(id))
        }
        // Another test created it in between: use theirs.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_already_exists_exception()) =>
        {
            let found = clients
                .kms
                .describe_key()
                .key_id(alias)
                .send()
                .await
                .map_err(|e| service_error("kms:DescribeKey", &e))?;
            Ok(found
                .key_metadata
                .and_then(|m| m.arn)
                .unwrap_or_else(|| alias.to_owned()))
        }
        Err(e) => Err(service_error("kms:CreateAlias", &e)),
    }
}

/// Writes an item of string attributes into `table` as it is, bypassing the model: what
/// another version of the code, or a person with table access, could leave there.
pub async fn put_raw_item(
    clients: &Clients,
    table: &str,
    attributes: &[(&str, &str)],
) -> Result<(), ServiceError> {
    let mut request = clients.dynamodb.put_item().table_name(table);
    for (name, value) in attributes {
        request = request.item(
            *name,
            aws_sdk_dynamodb::types::AttributeValue::S((*value).to_owned()),
        );
    }
    request
        .send()
        .await
        .map_err(|e| service_error("dynamodb:PutItem", &e))?;
    Ok(())
}
