//! The Auto Scaling groups the functions work on, as our model sees them.

use std::future::Future;

use crate::ServiceError;

/// How to find the targeted groups (docs/configuration.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupSelector {
    /// These groups, by name.
    Names(Vec<String>),
    /// Every group carrying this tag.
    Tag {
        /// Tag key.
        key: String,
        /// Tag value.
        value: String,
    },
}

/// A load balancer target group in front of an Auto Scaling group, with the two CloudWatch
/// dimension values its metrics are published under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroupRef {
    /// `TargetGroup` dimension: `targetgroup/<name>/<id>`.
    pub target_group: String,
    /// `LoadBalancer` dimension: `app/<name>/<id>`.
    pub load_balancer: String,
}

/// One Auto Scaling group as DescribeAutoScalingGroups reports it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// AutoScalingGroupName.
    pub name: String,
    /// MinSize.
    pub min_size: u32,
    /// MaxSize.
    pub max_size: u32,
    /// DesiredCapacity.
    pub desired: u32,
    /// Instances whose lifecycle state is InService.
    pub in_service: u32,
    /// In-service instances whose health status is Healthy.
    pub healthy: u32,
    /// DefaultCooldown, seconds.
    pub default_cooldown_seconds: u32,
    /// HealthCheckGracePeriod, seconds: how long a new instance may be unhealthy before it
    /// counts against the group.
    pub health_check_grace_period_seconds: u32,
    /// The instance type most of its in-service instances run (`None` without instances).
    pub instance_type: Option<String>,
    /// Its availability zones.
    pub availability_zones: Vec<String>,
    /// The group's target groups that sit behind a load balancer.
    pub target_groups: Vec<TargetGroupRef>,
    /// What its `fleet-optimizer:exclude` tag rules out.
    pub exclusions: fleetopt_model::Exclusions,
}

/// Reads the targeted Auto Scaling groups.
pub trait FleetDirectory {
    /// The groups `selector` names or tags, with their target groups resolved; paginated and
    /// batched inside. Named groups that do not exist are simply absent from the result.
    fn groups(
        &self,
        selector: &GroupSelector,
    ) -> impl Future<Output = Result<Vec<GroupInfo>, ServiceError>> + Send;

    /// Every group's scheduled actions of these names (DescribeScheduledActions filtered by
    /// name, all groups at once, paginated inside).
    fn scheduled_actions(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<crate::ScheduledAction>, ServiceError>> + Send;
}
