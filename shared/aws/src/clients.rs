//! The SDK clients a process uses, built once from one `SdkConfig`, all counting their calls
//! into one [`ApiCalls`].

use aws_config::SdkConfig;

use crate::calls::ApiCalls;
use crate::{
    AwsFleetDirectory, AwsMembers, AwsPrices, CloudWatchMetrics, CostExplorer,
    DynamoRecommendationStore, KmsKeys, SnsNotifier,
};

/// Where the Pricing API is called from.
pub const PRICING_REGION: &str = "us-east-1";

/// One client per service, sharing the configuration and the call counter.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Auto Scaling.
    pub autoscaling: aws_sdk_autoscaling::Client,
    /// CloudWatch.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Cost Explorer.
    pub costexplorer: aws_sdk_costexplorer::Client,
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// EC2 (spot prices, the instance catalog).
    pub ec2: aws_sdk_ec2::Client,
    /// The Pricing API, in us-east-1 (one of its three regions; it answers for all).
    pub pricing: aws_sdk_pricing::Client,
    /// KMS (approval and finding signatures).
    pub kms: aws_sdk_kms::Client,
    /// Elastic Load Balancing v2.
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    /// SNS.
    pub sns: aws_sdk_sns::Client,
    /// The calls every client above has made.
    pub calls: ApiCalls,
}

impl Clients {
    /// Builds every client from `config`, each with the call-counting interceptor.
    pub fn new(config: &SdkConfig) -> Self {
        Clients::counting(config, ApiCalls::new())
    }

    /// Builds every client from `config`, counting their calls into `calls` (a shard's clients
    /// count with the function's own).
    pub fn counting(config: &SdkConfig, calls: ApiCalls) -> Self {
        Clients {
            autoscaling: aws_sdk_autoscaling::Client::from_conf(
                aws_sdk_autoscaling::config::Builder::from(config)
                    .interceptor(calls.clone())
                    .build(),
            ),
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(config)
                    .interceptor(calls.clone())
                    .build(),
            ),
            costexplorer: aws_sdk_costexplorer::Client::from_conf(
                aws_sdk_costexplorer::config::Builder::from(config)
                    .interceptor(calls.clone())
                    .build(),
            ),
            ec2: aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(config)
                    .interceptor(calls.clone())
                    .build(),
            ),
            pricing: aws_sdk_pricing::Client::from_conf(
                aws_sdk_pricing::config::Builder::from(config)
                    .region(aws_sdk_pricing::config::Region::new(PRICING_REGION))
                    .interceptor(calls.clone())
                    .build(),
            ),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(config)
                    .interceptor(calls.clone())
                    .build(),
            ),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::from_conf(
                aws_sdk_elasticloadbalancingv2::config::Builder::from(config)
                    .interceptor(calls.clone())
                    .build(),
            ),
            kms: aws_sdk_kms::Client::from_conf(
                aws_sdk_kms::config::Builder::from(config)
                    .interceptor(calls.clone())
                    .build(),
            ),
            sns: aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(config)
                    .interceptor(calls.clone())
                    .build(),
            ),
            calls,
        }
    }
}

/// The adapters over these clients, each sharing them (and so the call counter).
impl Clients {
    /// The Auto Scaling groups, with their load balancers' target groups.
    pub fn fleet(&self) -> AwsFleetDirectory {
        AwsFleetDirectory::new(self.autoscaling.clone(), self.elbv2.clone())
    }

    /// CloudWatch, read and published.
    pub fn metrics(&self) -> CloudWatchMetrics {
        CloudWatchMetrics::new(self.cloudwatch.clone())
    }

    /// The recommendations table `table`.
    pub fn store(&self, table: impl Into<String>) -> DynamoRecommendationStore {
        DynamoRecommendationStore::new(self.dynamodb.clone(), table)
    }

    /// SNS.
    pub fn notifier(&self) -> SnsNotifier {
        SnsNotifier::new(self.sns.clone())
    }

    /// The KMS keys that sign and verify findings and approvals.
    pub fn keys(&self) -> KmsKeys {
        KmsKeys::new(self.kms.clone())
    }

    /// Cost Explorer.
    pub fn costs(&self) -> CostExplorer {
        CostExplorer::new(self.costexplorer.clone())
    }

    /// Other accounts and regions through `role_name`, from `sdk`'s credentials (the config
    /// these clients were built from).
    pub fn members<T>(&self, sdk: &SdkConfig, role_name: &str) -> AwsMembers<T> {
        AwsMembers::new(sdk, role_name, self.calls.clone())
    }

    /// The Pricing API and EC2's spot history and instance catalog.
    pub fn prices(&self) -> AwsPrices {
        AwsPrices::new(self.pricing.clone(), self.ec2.clone())
    }
}
