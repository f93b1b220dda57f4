//! The fleet through DescribeAutoScalingGroups (paginated, with tag filters) and
//! DescribeTargetGroups (batched), as [`GroupInfo`]s.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_autoscaling::types::{AutoScalingGroup, Filter, ScheduledUpdateGroupActionRequest};
use chrono::{DateTime, Utc};
use fleetopt_model::{EXCLUDE_TAG, Exclusions};
use fleetopt_ports::{
    ActionFailure, ActivityStatus, FleetControl, FleetDirectory, GroupInfo, GroupSelector,
    ScalingActivity, ScheduledAction, ServiceError, TargetGroupRef,
};

use crate::error::service_error;

/// DescribeAutoScalingGroups takes at most this many names per request.
const NAMES_PER_REQUEST: usize = 100;
/// The batch scheduled-action calls take at most this many actions per request.
const ACTIONS_PER_REQUEST: usize = 50;
/// DescribeTargetGroups takes at most this many ARNs per request.
const TARGET_GROUPS_PER_REQUEST: usize = 20;

/// The fleet, read through Auto Scaling and Elastic Load Balancing v2.
#[derive(Debug, Clone)]
pub struct AwsFleetDirectory {
    autoscaling: aws_sdk_autoscaling::Client,
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
}

impl AwsFleetDirectory {
    /// A directory over these clients.
    pub fn new(
        autoscaling: aws_sdk_autoscaling::Client,
        elbv2: aws_sdk_elasticloadbalancingv2::Client,
    ) -> Self {
        Self { autoscaling, elbv2 }
    }

    async fn describe(
        &self,
        names: Option<&[String]>,
        filter: Option<Filter>,
    ) -> Result<Vec<AutoScalingGroup>, ServiceError> {
        let mut request = self
            .autoscaling
            .describe_auto_scaling_groups()
            .max_records(100)
            .set_filters(filter.map(|f| vec![f]));
        if let Some(names) = names {
            request = request.set_auto_scaling_group_names(Some(names.to_vec()));
        }
        let mut groups = Vec::new();
        let mut pages = request.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| service_error("autoscaling:DescribeAutoScalingGroups", &e))?;
            groups.extend(page.auto_scaling_groups.unwrap_or_default());
        }
        Ok(groups)
    }

    /// `targetgroup/...` and `app/...` dimension values for every target group ARN that has a
    /// load balancer.
    async fn target_groups(
        &self,
        arns: &BTreeSet<String>,
    ) -> Result<HashMap<String, TargetGroupRef>, ServiceError> {
        let arns: Vec<String> = arns.iter().cloned().collect();
        let mut refs = HashMap::new();
        for chunk in arns.chunks(TARGET_GROUPS_PER_REQUEST) {
            let output = self
                .elbv2
                .describe_target_groups()
                .set_target_group_arns(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| service_error("elasticloadbalancing:DescribeTargetGroups", &e))?;
            for tg in output.target_groups.unwrap_or_default() {
                let (Some(arn), Some(lb)) =
                    (tg.target_group_arn(), tg.load_balancer_arns().first())
                else {
                    continue;
                };
                if let (Some(target_group), Some(load_balancer)) = (
                    dimension_value(arn, "targetgroup/"),
                    dimension_value(lb, "app/"),
                ) {
                    refs.insert(
                        arn.to_owned(),
                        TargetGroupRef {
                            target_group,
                            load_balancer,
                        },
                    );
                }
            }
        }
        Ok(refs)
    }
}

/// The CloudWatch dimension value of an ELB ARN: the part from `prefix` on
/// (`arn:...:targetgroup/web/73e2d6bc24d8a067` -> `targetgroup/web/73e2d6bc24d8a067`,
/// `arn:...:loadbalancer/app/web/50dc6c495c0c9188` -> `app/web/50dc6c495c0c9188`).
fn dimension_value(arn: &str, prefix: &str) -> Option<String> {
    arn.find(prefix).map(|at| arn[at..].to_owned())
}

fn count(value: Option<i32>) -> u32 {
    value.and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
}

/// The value that occurs most often; ties go to the smallest, so the answer is stable.
fn most_common<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(v, _)| v.to_owned())
}

fn group_info(
    group: &AutoScalingGroup,
    target_groups: &HashMap<String, TargetGroupRef>,
) -> GroupInfo {
    let in_service: Vec<_> = group
        .instances()
        .iter()
        .filter(|i| i.lifecycle_state().map(|s| s.as_str()) == Some("InService"))
        .collect();
    GroupInfo {
        name: group
            .auto_scaling_group_name()
            .unwrap_or_default()
            .to_owned(),
        min_size: count(group.min_size()),
        max_size: count(group.max_size()),
        desired: count(group.desired_capacity()),
        in_service: u32::try_from(in_service.len()).unwrap_or(u32::MAX),
        healthy: u32::try_from(
            in_service
                .iter()
                .filter(|i| i.health_status() == Some("Healthy"))
                .count(),
        )
        .unwrap_or(u32::MAX),
        default_cooldown_seconds: count(group.default_cooldown()),
        health_check_grace_period_seconds: count(group.health_check_grace_period()),
        instance_type: most_common(in_service.iter().filter_map(|i| i.instance_type())),
        availability_zones: group.availability_zones().to_vec(),
        target_groups: group
            .target_group_arns()
            .iter()
            .filter_map(|arn| target_groups.get(arn).cloned())
            .collect(),
        exclusions: Exclusions::of_tag(
            group
                .tags()
                .iter()
                .find(|t| t.key() == Some(EXCLUDE_TAG))
                .map(|t| t.value().unwrap_or_default()),
        ),
    }
}

impl FleetDirectory for AwsFleetDirectory {
    async fn groups(&self, selector: &GroupSelector) -> Result<Vec<GroupInfo>, ServiceError> {
        let groups = match selector {
            GroupSelector::Names(names) => {
                let mut groups = Vec::new();
                for chunk in names.chunks(NAMES_PER_REQUEST) {
                    groups.extend(self.describe(Some(chunk), None).await?);
                }
                groups
            }
            GroupSelector::Tag { key, value } => {
                let filter = Filter::builder()
                    .name(format!("tag:{key}"))
                    .values(value)
                    .build();
                self.describe(None, Some(filter)).await?
            }
        };
        let arns: BTreeSet<String> = groups
            .iter()
            .flat_map(|g| g.target_group_arns().iter().cloned())
            .collect();
        let target_groups = if arns.is_empty() {
            HashMap::new()
        } else {
            self.target_groups(&arns).await?
        };
        let mut infos: Vec<GroupInfo> = groups
            .iter()
            .map(|g| group_info(g, &target_groups))
            .collect();
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        infos.dedup_by(|a, b| a.name == b.name);
        Ok(infos)
    }

    async fn scheduled_actions(
        &self,
        names: &[String],
    ) -> Result<Vec<ScheduledAction>, ServiceError> {
        let mut found = Vec::new();
        for chunk in names.chunks(ACTIONS_PER_REQUEST) {
            let mut pages = self
                .autoscaling
                .describe_scheduled_actions()
                .set_scheduled_action_names(Some(chunk.to_vec()))
                .max_records(100)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| service_error("autoscaling:DescribeScheduledActions", &e))?;
                found.extend(page.scheduled_update_group_actions().iter().map(|a| {
                    ScheduledAction {
                        group: a.auto_scaling_group_name().unwrap_or_default().to_owned(),
                        name: a.scheduled_action_name().unwrap_or_default().to_owned(),
                        recurrence: a.recurrence().map(str::to_owned),
                        min_size: a.min_size().and_then(|v| u32::try_from(v).ok()),
                        max_size: a.max_size().and_then(|v| u32::try_from(v).ok()),
                        desired_capacity: a.desired_capacity().and_then(|v| u32::try_from(v).ok()),
                        end_time: time(a.end_time()),
                    }
                }));
            }
        }
        Ok(found)
    }
}

fn time(value: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    value.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

impl FleetControl for AwsFleetDirectory {
    async fn last_activity(&self, group: &str) -> Result<Option<ScalingActivity>, ServiceError> {
        // Activities come newest first; one record is the last one.
        let output = self
            .autoscaling
            .describe_scaling_activities()
            .auto_scaling_group_name(group)
            .max_records(1)
            .send()
            .await
            .map_err(|e| service_error("autoscaling:DescribeScalingActivities", &e))?;
        Ok(output.activities().first().map(|a| {
            let status = a.status_code().map_or(ActivityStatus::InProgress, |c| {
                ActivityStatus::from_code(c.as_str())
            });
            let description = match (status, a.status_message()) {
                (ActivityStatus::Failed | ActivityStatus::Cancelled, Some(message)) => message,
                _ => a.description().unwrap_or_default(),
            };
            ScalingActivity {
                id: a.activity_id().unwrap_or_default().to_owned(),
                status,
                // An activity always has a start; the epoch stands in for a missing one, which
                // makes any cooldown since it long over rather than never over.
                start: time(a.start_time()).unwrap_or_default(),
                end: time(a.end_time()),
                description: description.to_owned(),
            }
        }))
    }

    async fn set_desired_capacity(
        &self,
        group: &str,
        desired: u32,
        honor_cooldown: bool,
    ) -> Result<(), ServiceError> {
        let desired = i32::try_from(desired).map_err(|_| ServiceError {
            operation: "autoscaling:SetDesiredCapacity",
            code: "ValidationError".to_owned(),
            message: format!("desired capacity {desired} is out of range"),
        })?;
        self.autoscaling
            .set_desired_capacity()
            .auto_scaling_group_name(group)
            .desired_capacity(desired)
            .honor_cooldown(honor_cooldown)
            .send()
            .await
            .map_err(|e| service_error("autoscaling:SetDesiredCapacity", &e))?;
        Ok(())
    }

    async fn put_scheduled_actions(
        &self,
        group: &str,
        actions: &[ScheduledAction],
    ) -> Result<Vec<ActionFailure>, ServiceError> {
        let size = |v: Option<u32>| v.and_then(|v| i32::try_from(v).ok());
        let mut failed = Vec::new();
        for chunk in actions.chunks(ACTIONS_PER_REQUEST) {
            let requests = chunk
                .iter()
                .map(|a| {
                    ScheduledUpdateGroupActionRequest::builder()
                        .scheduled_action_name(&a.name)
                        .set_recurrence(a.recurrence.clone())
                        .set_min_size(size(a.min_size))
                        .set_max_size(size(a.max_size))
                        .set_desired_capacity(size(a.desired_capacity))
                        .set_end_time(
                            a.end_time
                                .map(|t| aws_smithy_types::DateTime::from_secs(t.timestamp())),
                        )
                        .time_zone("Etc/UTC")
                        .build()
                })
                .collect();
            let output = self
                .autoscaling
                .batch_put_scheduled_update_group_action()
                .auto_scaling_group_name(group)
                .set_scheduled_update_group_actions(Some(requests))
                .send()
                .await
                .map_err(|e| service_error("autoscaling:BatchPutScheduledUpdateGroupAction", &e))?;
            failed.extend(failures(output.failed_scheduled_update_group_actions()));
        }
        Ok(failed)
    }

    async fn delete_scheduled_actions(
        &self,
        group: &str,
        names: &[String],
    ) -> Result<Vec<ActionFailure>, ServiceError> {
        let mut failed = Vec::new();
        for chunk in names.chunks(ACTIONS_PER_REQUEST) {
            let output = self
                .autoscaling
                .batch_delete_scheduled_action()
                .auto_scaling_group_name(group)
                .set_scheduled_action_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| service_error("autoscaling:BatchDeleteScheduledAction", &e))?;
            failed.extend(failures(output.failed_scheduled_actions()));
        }
        Ok(failed)
    }
}

fn failures(
    failed: &[aws_sdk_autoscaling::types::FailedScheduledUpdateGroupActionRequest],
) -> Vec<ActionFailure> {
    failed
        .iter()
        .map(|f| ActionFailure {
            name: f.scheduled_action_name().unwrap_or_default().to_owned(),
            code: f.error_code().unwrap_or_default().to_owned(),
            message: f.error_message().unwrap_or_default().to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_autoscaling::Client;
    use aws_sdk_autoscaling::operation::describe_scaling_activities::DescribeScalingActivitiesOutput;
    use aws_sdk_autoscaling::operation::set_desired_capacity::SetDesiredCapacityError;
    use aws_sdk_autoscaling::types::error::ScalingActivityInProgressFault;
    use aws_sdk_autoscaling::types::{Activity, ScalingActivityStatusCode};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn directory(autoscaling: Client) -> AwsFleetDirectory {
        // Never called by these tests.
        let elbv2 = aws_sdk_elasticloadbalancingv2::Client::from_conf(
            aws_sdk_elasticloadbalancingv2::Config::builder()
                .behavior_version(aws_sdk_elasticloadbalancingv2::config::BehaviorVersion::latest())
                .region(aws_sdk_elasticloadbalancingv2::config::Region::new(
                    "us-east-1",
                ))
                .build(),
        );
        AwsFleetDirectory::new(autoscaling, elbv2)
    }

    #[tokio::test]
    async fn the_last_activity_is_one_record_and_a_failure_says_why() {
        let rule = mock!(Client::describe_scaling_activities)
            .match_requests(|r| {
                r.max_records() == Some(1) && r.auto_scaling_group_name() == Some("web")
            })
            .then_output(|| {
                DescribeScalingActivitiesOutput::builder()
                    .activities(
                        Activity::builder()
                            .activity_id("a-1")
                            .auto_scaling_group_name("web")
                            .cause("user request")
                            .description("Launching a new EC2 instance")
                            .status_code(ScalingActivityStatusCode::Failed)
                            .status_message("We currently do not have sufficient m5.large capacity")
                            .start_time(aws_smithy_types::DateTime::from_secs(1_795_424_400))
                            .end_time(aws_smithy_types::DateTime::from_secs(1_795_424_460))
                            .build(),
                    )
                    .build()
            });
        let client = mock_client!(aws_sdk_autoscaling, RuleMode::MatchAny, [&rule]);
        let activity = directory(client)
            .last_activity("web")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(activity.status, ActivityStatus::Failed);
        assert_eq!(
            activity.description,
            "We currently do not have sufficient m5.large capacity"
        );
        assert_eq!(activity.end.map(|t| t.timestamp()), Some(1_795_424_460));
        assert_eq!(
            ActivityStatus::from_code("WaitingForInstanceWarmup"),
            ActivityStatus::InProgress
        );
    }

    #[tokio::test]
    async fn a_refusal_during_an_activity_keeps_its_aws_code() {
        let rule = mock!(Client::set_desired_capacity)
            .match_requests(|r| r.honor_cooldown() == Some(true) && r.desired_capacity() == Some(6))
            .then_error(|| {
                SetDesiredCapacityError::ScalingActivityInProgressFault(
                    ScalingActivityInProgressFault::builder()
                        .message("Scaling activity is in progress")
                        .meta(
                            aws_smithy_types::error::ErrorMetadata::builder()
                                .code("ScalingActivityInProgress")
                                .message("Scaling activity is in progress")
                                .build(),
                        )
                        .build(),
                )
            });
        let client = mock_client!(aws_sdk_autoscaling, RuleMode::MatchAny, [&rule]);
        let err = directory(client)
            .set_desired_capacity("web", 6, true)
            .await
            .unwrap_err();
        assert_eq!(err.code, fleetopt_ports::SCALING_ACTIVITY_IN_PROGRESS);
        assert_eq!(err.operation, "autoscaling:SetDesiredCapacity");
    }

    #[test]
    fn dimension_values_are_the_arn_suffixes_cloudwatch_uses() {
        assert_eq!(
            dimension_value(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067",
                "targetgroup/"
            ),
            Some("targetgroup/web/73e2d6bc24d8a067".to_owned())
        );
        assert_eq!(
            dimension_value(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188",
                "app/"
            ),
            Some("app/web/50dc6c495c0c9188".to_owned())
        );
        assert_eq!(
            dimension_value(
                "arn:aws:elasticloadbalancing:x:loadbalancer/net/n/1",
                "app/"
            ),
            None
        );
    }
}
