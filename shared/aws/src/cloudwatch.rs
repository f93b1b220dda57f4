//! CloudWatch: GetMetricData in requests of at most 500 queries (following NextToken), and
//! PutMetricData in requests of at most 1,000 datums.

use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDatum as AwsDatum, MetricStat, ScanBy, StandardUnit,
};
use chrono::{DateTime, Utc};
use fleetopt_ports::{
    MetricDatum, MetricQuery, MetricResults, MetricsPublisher, MetricsSource, ServiceError,
    TimeWindow,
};
use futures::{StreamExt, TryStreamExt};

use crate::error::service_error;

/// GetMetricData accepts at most this many queries per request.
pub const QUERIES_PER_REQUEST: usize = 500;
/// PutMetricData accepts at most this many datums per request.
pub const DATUMS_PER_REQUEST: usize = 1000;

/// CloudWatch metrics, read and published.
#[derive(Debug, Clone)]
pub struct CloudWatchMetrics {
    client: aws_sdk_cloudwatch::Client,
}

impl CloudWatchMetrics {
    /// Metrics over this client.
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        Self { client }
    }
}

fn invalid(operation: &'static str, message: impl std::fmt::Display) -> ServiceError {
    ServiceError {
        operation,
        code: "InvalidRequest".to_owned(),
        message: message.to_string(),
    }
}

fn aws_time(t: DateTime<Utc>) -> AwsDateTime {
    AwsDateTime::from_secs(t.timestamp())
}

fn chrono_time(t: &AwsDateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

fn data_query(q: &MetricQuery) -> MetricDataQuery {
    let mut metric = Metric::builder()
        .namespace(q.namespace.as_ref())
        .metric_name(q.name);
    for (name, value) in &q.dimensions {
        metric = metric.dimensions(dimension(name, value));
    }
    MetricDataQuery::builder()
        .id(&q.id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric.build())
                .period(i32::try_from(q.period_seconds).unwrap_or(i32::MAX))
                .stat(q.statistic.as_str())
                .build(),
        )
        .return_data(true)
        .build()
}

/// GetMetricData requests of one read in flight at once (the API allows 50 a second).
const CONCURRENT_REQUESTS: usize = 4;

impl CloudWatchMetrics {
    /// One request of at most 500 queries, following NextToken to the end.
    async fn read_chunk(
        &self,
        window: &TimeWindow,
        chunk: &[MetricQuery],
    ) -> Result<MetricResults, ServiceError> {
        let data_queries: Vec<MetricDataQuery> = chunk.iter().map(data_query).collect();
        let mut results = MetricResults::with_capacity(chunk.len());
        let mut token: Option<String> = None;
        loop {
            let output = self
                .client
                .get_metric_data()
                .start_time(aws_time(window.start))
                .end_time(aws_time(window.end))
                .scan_by(ScanBy::TimestampAscending)
                .set_metric_data_queries(Some(data_queries.clone()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| service_error("cloudwatch:GetMetricData", &e))?;
            for result in output.metric_data_results() {
                let Some(id) = result.id() else { continue };
                let series = results.entry(id.to_owned()).or_default();
                for (t, v) in result.timestamps().iter().zip(result.values()) {
                    if let Some(t) = chrono_time(t) {
                        series.push((t, *v));
                    }
                }
            }
            match output.next_token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => return Ok(results),
            }
        }
    }
}

impl MetricsSource for CloudWatchMetrics {
    async fn read(
        &self,
        window: &TimeWindow,
        queries: &[MetricQuery],
    ) -> Result<MetricResults, ServiceError> {
        // The futures are built up front (they do nothing until polled), which keeps the stream
        // free of a borrowing closure the trait's `Send` future could not name.
        let requests: Vec<_> = queries
            .chunks(QUERIES_PER_REQUEST)
            .map(|chunk| self.read_chunk(window, chunk))
            .collect();
        let chunks: Vec<MetricResults> = futures::stream::iter(requests)
            .buffer_unordered(CONCURRENT_REQUESTS)
            .try_collect()
            .await?;
        let mut results = MetricResults::with_capacity(queries.len());
        for chunk in chunks {
            // Query ids are unique across a read, so chunks never share a key.
            results.extend(chunk);
        }
        for series in results.values_mut() {
            series.sort_by_key(|(t, _)| *t);
        }
        Ok(results)
    }
}

fn datum(d: &MetricDatum) -> AwsDatum {
    let mut datum = AwsDatum::builder()
        .metric_name(d.name)
        .value(d.value)
        .unit(StandardUnit::from(d.unit))
        .timestamp(aws_time(d.timestamp));
    for (name, value) in &d.dimensions {
        datum = datum.dimensions(dimension(name, value));
    }
    datum.build()
}

impl MetricsPublisher for CloudWatchMetrics {
    async fn publish(&self, namespace: &str, data: &[MetricDatum]) -> Result<(), ServiceError> {
        const OP: &str = "cloudwatch:PutMetricData";
        if let Some(bad) = data.iter().find(|d| !d.value.is_finite()) {
            return Err(invalid(
                OP,
                format!("{} has no finite value ({})", bad.name, bad.value),
            ));
        }
        for chunk in data.chunks(DATUMS_PER_REQUEST) {
            self.client
                .put_metric_data()
                .namespace(namespace)
                .set_metric_data(Some(chunk.iter().map(datum).collect()))
                .send()
                .await
                .map_err(|e| service_error(OP, &e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::Client;
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    use aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataOutput;
    use aws_sdk_cloudwatch::types::MetricDataResult;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use chrono::TimeZone;
    use fleetopt_ports::Statistic;

    fn queries(n: usize) -> Vec<MetricQuery> {
        (0..n)
            .map(|i| MetricQuery {
                id: format!("q{i}"),
                namespace: "AWS/EC2".into(),
                name: "CPUUtilization",
                dimensions: vec![("AutoScalingGroupName", format!("g{i}"))],
                statistic: Statistic::Average,
                period_seconds: 300,
            })
            .collect()
    }

    fn window() -> TimeWindow {
        let end = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        TimeWindow {
            start: end - chrono::TimeDelta::hours(1),
            end,
        }
    }

    /// Answers each request with one datapoint per query it carries.
    fn echo(
        req: &aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataInput,
    ) -> GetMetricDataOutput {
        let results = req
            .metric_data_queries()
            .iter()
            .map(|q| {
                MetricDataResult::builder()
                    .id(q.id().unwrap_or_default())
                    .timestamps(AwsDateTime::from_secs(1_795_424_400))
                    .values(42.0)
                    .build()
            })
            .collect();
        GetMetricDataOutput::builder()
            .set_metric_data_results(Some(results))
            .build()
    }

    #[tokio::test]
    async fn twelve_hundred_queries_take_three_requests_of_at_most_500() {
        let rule = mock!(Client::get_metric_data)
            .match_requests(|r| r.metric_data_queries().len() <= QUERIES_PER_REQUEST)
            .then_compute_output(echo);
        let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
        let results = CloudWatchMetrics::new(client)
            .read(&window(), &queries(1200))
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 3);
        assert_eq!(results.len(), 1200);
        assert_eq!(results["q1199"].len(), 1);
    }

    #[tokio::test]
    async fn next_tokens_are_followed_and_pages_joined() {
        let first = mock!(Client::get_metric_data)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                GetMetricDataOutput::builder()
                    .metric_data_results(
                        MetricDataResult::builder()
                            .id("q0")
                            .timestamps(AwsDateTime::from_secs(1_795_424_700))
                            .values(2.0)
                            .build(),
                    )
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(Client::get_metric_data)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(|| {
                GetMetricDataOutput::builder()
                    .metric_data_results(
                        MetricDataResult::builder()
                            .id("q0")
                            .timestamps(AwsDateTime::from_secs(1_795_424_400))
                            .values(1.0)
                            .build(),
                    )
                    .build()
            });
        let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&first, &second]);
        let results = CloudWatchMetrics::new(client)
            .read(&window(), &queries(1))
            .await
            .unwrap();
        let values: Vec<f64> = results["q0"].iter().map(|(_, v)| *v).collect();
        assert_eq!(values, vec![1.0, 2.0], "joined and sorted oldest first");
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn publishing_2500_datums_takes_three_calls() {
        let rule = mock!(Client::put_metric_data)
            .match_requests(|r| {
                r.namespace() == Some("FleetOptimizer")
                    && r.metric_data().len() <= DATUMS_PER_REQUEST
            })
            .then_output(|| PutMetricDataOutput::builder().build());
        let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
        let data: Vec<MetricDatum> = (0..2500)
            .map(|i| MetricDatum {
                name: "PerformanceScore",
                dimensions: vec![("AutoScalingGroupName", format!("g{i}"))],
                value: 80.0,
                unit: "None",
                timestamp: window().end,
            })
            .collect();
        CloudWatchMetrics::new(client)
            .publish("FleetOptimizer", &data)
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 3);
    }

    #[tokio::test]
    async fn a_non_finite_value_is_refused_before_any_call() {
        let rule =
            mock!(Client::put_metric_data).then_output(|| PutMetricDataOutput::builder().build());
        let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
        let err = CloudWatchMetrics::new(client)
            .publish(
                "FleetOptimizer",
                &[MetricDatum {
                    name: "PerformanceScore",
                    dimensions: vec![],
                    value: f64::NAN,
                    unit: "None",
                    timestamp: window().end,
                }],
            )
            .await
            .unwrap_err();
        assert!(err.message.contains("PerformanceScore"));
        assert_eq!(rule.num_calls(), 0);
    }
}
