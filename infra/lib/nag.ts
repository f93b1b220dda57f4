/**
 * The cdk-nag AwsSolutions findings this app accepts, each with its reason. Everything else is a
 * failure: the app runs the checks at every synth and the tests assert no unsuppressed finding.
 *
 * cdk-nag is pinned to one exact 2.x release in package.json: it adds and changes rules between
 * releases, and since any unsuppressed finding fails the synth, an unpinned upgrade could fail a
 * deploy; a new major may rename rules or change the suppression format. Upgrade on purpose and
 * review each new finding (docs/construct.md, "cdk-nag").
 */
import { IConstruct } from 'constructs';
import { NagPackSuppression, NagSuppressions } from 'cdk-nag';

/** Resource `*` in a function role: only for the calls that have no resource-level permissions. */
const WILDCARD_RESOURCE: NagPackSuppression = {
  id: 'AwsSolutions-IAM5',
  reason: "Resource '*' only on calls that support no resource-level permission: autoscaling:Describe* " +
    '(DescribeAutoScalingGroups, DescribeScalingActivities, DescribeScheduledActions), ' +
    'elasticloadbalancing:DescribeTargetGroups, cloudwatch:GetMetricData, ce:Get*, ce:ListCostAllocationTags, pricing:GetProducts, ' +
    'ec2:DescribeSpotPriceHistory/DescribeInstanceTypes and dynamodb:ListStreams; cloudwatch:PutMetricData is ' +
    'narrowed by its cloudwatch:namespace condition to FleetOptimizer.',
  appliesTo: ['Resource::*'],
};

/** kms:GenerateDataKey* from `ITopic.grantPublish` on an encrypted topic. */
const TOPIC_KEY: NagPackSuppression = {
  id: 'AwsSolutions-IAM5',
  reason: 'kms:GenerateDataKey* (GenerateDataKey and GenerateDataKeyWithoutPlaintext) is what publishing to a ' +
    'KMS-encrypted SNS topic needs, granted on the topics\' key only.',
  appliesTo: ['Action::kms:GenerateDataKey*'],
};

/** The engine's SetDesiredCapacity and scheduled actions on the targeted groups' ARNs (group names). */
const GROUP_ARN: NagPackSuppression = {
  id: 'AwsSolutions-IAM5',
  reason: 'autoscaling:SetDesiredCapacity, BatchPutScheduledUpdateGroupAction and BatchDeleteScheduledAction on the ' +
    "targeted groups' ARNs: an Auto Scaling group's ARN holds a generated id before the name " +
    '(autoScalingGroup:<id>:autoScalingGroupName/<name>): the wildcard stands for that id only, the name pins the group.',
  appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:\\*:autoScalingGroupName\\/.+$/' }],
};

/**
 * The engine's SetDesiredCapacity and scheduled actions for a tag selector: the groups are not
 * known at synth, so the statement names no ARN; the `autoscaling:ResourceTag/<key>` condition is
 * what limits it. Kept in a policy of its own so that this reason, and no other, covers it.
 */
const TAG_CONDITIONED_SCALING: NagPackSuppression = {
  id: 'AwsSolutions-IAM5',
  reason: 'autoscaling:SetDesiredCapacity, autoscaling:BatchPutScheduledUpdateGroupAction and ' +
    "autoscaling:BatchDeleteScheduledAction with Resource '*' only under the condition " +
    'StringEquals autoscaling:ResourceTag/<key> = <value> (the construct\'s targetTag): the tagged groups are ' +
    'chosen at run time, so no ARN can be named at synth, and Auto Scaling evaluates the tag on the group being ' +
    'scaled or scheduled. It is the only statement in this policy.',
  appliesTo: ['Resource::*'],
};

/** A function's role: the findings every function shares (the scaling grant lives elsewhere). */
export function suppressFunctionRole(role: IConstruct): void {
  NagSuppressions.addResourceSuppressions(role, [WILDCARD_RESOURCE, TOPIC_KEY], true);
}

/** The engine's scaling policy: the finding of its one statement, with the reason for its kind. */
export function suppressScalingPolicy(policy: IConstruct, byTag: boolean): void {
  NagSuppressions.addResourceSuppressions(policy, [byTag ? TAG_CONDITIONED_SCALING : GROUP_ARN]);
}

/** The failure queue is itself the dead-letter destination. */
export function suppressFailureQueue(queue: IConstruct): void {
  NagSuppressions.addResourceSuppressions(queue, [{
    id: 'AwsSolutions-SQS3',
    reason: "This queue is itself the dead-letter destination of the functions' failed asynchronous invokes, " +
      'stream batches and rule deliveries; a failure alarm watches its depth.',
  }]);
}

/** The sample group. */
export function suppressSampleGroup(group: IConstruct): void {
  NagSuppressions.addResourceSuppressions(group, [{
    id: 'AwsSolutions-AS3',
    reason: 'A sample group for the optimizer to target: its capacity changes are watched by the ' +
      "FleetOptimizer's alarms and dashboard, and scale changes the engine makes are notified on its topics.",
  }], true);
}
