//! CloudWatch metrics as our model sees them: queries to read, series read back, datums to
//! publish.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::ServiceError;

/// A statistic over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Statistic {
    /// Mean of the samples.
    Average,
    /// Largest sample.
    Maximum,
    /// Sum of the samples.
    Sum,
}

impl Statistic {
    /// The name CloudWatch uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::Average => "Average",
            Statistic::Maximum => "Maximum",
            Statistic::Sum => "Sum",
        }
    }
}

/// One metric to read: a GetMetricData `MetricStat` with the id its result comes back under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    /// Query id: starts with a lowercase letter, letters, digits and `_` only, unique in a
    /// request.
    pub id: String,
    /// For example `AWS/EC2`, or our own namespace, which the configuration names.
    pub namespace: Cow<'static, str>,
    /// For example `CPUUtilization`.
    pub name: &'static str,
    /// Dimension name and value pairs.
    pub dimensions: Vec<(&'static str, String)>,
    /// The statistic.
    pub statistic: Statistic,
    /// Period, seconds.
    pub period_seconds: u32,
}

/// A time range, start inclusive, end exclusive; aligned to the queries' period by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
}

/// The datapoints read for each query id, oldest first. A query with no datapoints maps to an
/// empty series (or is absent): "no data", never 0.
pub type MetricResults = HashMap<String, Vec<(DateTime<Utc>, f64)>>;

/// Marks `data` as another account's or region's: `AccountId` and `Region` dimensions on every
/// datum, so that a member's group never adds to the own account's same-named group's series
/// (the own account's metrics keep the dimensions they always had).
pub fn placed_in(data: &mut [MetricDatum], shard: &fleetopt_model::Shard) {
    for datum in data {
        datum
            .dimensions
            .push(("AccountId", shard.account_id().to_owned()));
        datum.dimensions.push(("Region", shard.region().to_owned()));
    }
}

/// One value to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDatum {
    /// Metric name, for example `PerformanceScore`.
    pub name: &'static str,
    /// Dimension name and value pairs.
    pub dimensions: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
    /// CloudWatch unit name (`None`, `Count`, `Percent`).
    pub unit: &'static str,
    /// The time it is for.
    pub timestamp: DateTime<Utc>,
}

/// Reads CloudWatch metrics.
pub trait MetricsSource {
    /// Reads every query over `window`, in as few requests as the API allows (up to 500
    /// queries each, following NextToken).
    fn read(
        &self,
        window: &TimeWindow,
        queries: &[MetricQuery],
    ) -> impl Future<Output = Result<MetricResults, ServiceError>> + Send;
}

/// Publishes our own metrics.
pub trait MetricsPublisher {
    /// Publishes every datum in `namespace`, in as few PutMetricData calls as the API allows.
    fn publish(
        &self,
        namespace: &str,
        data: &[MetricDatum],
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

/// Sends notifications.
pub trait Notifier {
    /// Publishes `message` with `subject` to the topic `topic_arn`.
    fn notify(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}
