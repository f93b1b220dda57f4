//! The SDK clients a process uses, built once from one `SdkConfig`, all counting their calls
//! into one [`ApiCalls`].

use aws_config::SdkConfig;

use crate::calls::ApiCalls;

/// One client per service, sharing the configuration and the call counter.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Auto Scaling.
    pub autoscaling: aws_sdk_autoscaling::Client,
    /// CloudWatch.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
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
        let calls = ApiCalls::new();
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
            sns: aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(config)
                    .interceptor(calls.clone())
                    .build(),
            ),
            calls,
        }
    }
}
