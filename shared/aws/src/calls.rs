//! Counting the AWS calls a run makes, per API, with an SDK interceptor: every client built by
//! [`crate::Clients`] reports to one [`ApiCalls`], so the count covers every adapter and never
//! depends on an adapter remembering to count. Retries of one call count once.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Calls made, keyed `service:Operation` (for example `cloudwatch:GetMetricData`).
#[derive(Debug, Clone, Default)]
pub struct ApiCalls {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl ApiCalls {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        // Plain counters stay consistent even if a holder panicked.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one call.
    pub fn record(&self, api: &str) {
        *self.counts().entry(api.to_owned()).or_insert(0) += 1;
    }

    /// The counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts().clone()
    }

    /// The counts so far, and back to zero (one Lambda invocation's worth).
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.counts())
    }
}

/// The IAM-style prefix of a service, from the SDK's service name.
fn service_prefix(service: &str) -> String {
    match service {
        "Auto Scaling" => "autoscaling".to_owned(),
        "Elastic Load Balancing v2" => "elasticloadbalancing".to_owned(),
        "Cost Explorer" => "ce".to_owned(),
        other => other.to_ascii_lowercase().replace(' ', ""),
    }
}

impl Intercept for ApiCalls {
    fn name(&self) -> &'static str {
        "fleetopt::ApiCalls"
    }

    // Before serialization, the operation's own configuration (its `Metadata`) is in the bag;
    // serialization happens once per call, before the retry loop, so retries count once.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match cfg.load::<Metadata>() {
            Some(metadata) => self.record(&format!(
                "{}:{}",
                service_prefix(metadata.service()),
                metadata.name()
            )),
            None => self.record("unknown"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_returns_the_counts_and_resets_them() {
        let calls = ApiCalls::new();
        calls.record("cloudwatch:GetMetricData");
        calls.record("cloudwatch:GetMetricData");
        calls.record("autoscaling:DescribeAutoScalingGroups");
        let taken = calls.take();
        assert_eq!(taken.get("cloudwatch:GetMetricData"), Some(&2));
        assert_eq!(taken.len(), 2);
        assert!(calls.snapshot().is_empty());
    }

    #[test]
    fn service_names_become_iam_prefixes() {
        assert_eq!(service_prefix("Auto Scaling"), "autoscaling");
        assert_eq!(service_prefix("CloudWatch"), "cloudwatch");
        assert_eq!(service_prefix("DynamoDB"), "dynamodb");
        assert_eq!(
            service_prefix("Elastic Load Balancing v2"),
            "elasticloadbalancing"
        );
        assert_eq!(service_prefix("SNS"), "sns");
        assert_eq!(service_prefix("Cost Explorer"), "ce");
        assert_eq!(service_prefix("Pricing"), "pricing");
        assert_eq!(service_prefix("EC2"), "ec2");
    }
}
