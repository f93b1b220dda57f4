/** Which Auto Scaling groups a FleetOptimizer works on, and what that means for IAM and alarms. */
import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DEFAULT_TARGET_TAG } from './config';

/** The resolved selector: group names (known at synth or deploy) or a tag. */
export type TargetSelector =
  | { readonly kind: 'names'; readonly names: string[] }
  | { readonly kind: 'tag'; readonly key: string; readonly value: string };

/** Props: at most one of the three; none means the default tag `fleet-optimizer:enabled=true`. */
export interface TargetProps {
  /** The group to optimize. */
  readonly autoScalingGroup?: autoscaling.IAutoScalingGroup;
  /** Groups to optimize, by name. */
  readonly autoScalingGroupNames?: string[];
  /** Every group carrying this tag. */
  readonly targetTag?: { readonly key: string; readonly value: string };
}

/** The selector, or the problems with the props. */
export function targetSelector(props: TargetProps): TargetSelector | string[] {
  const given = [props.autoScalingGroup, props.autoScalingGroupNames, props.targetTag].filter((x) => x !== undefined);
  if (given.length > 1) {
    return ['give at most one of autoScalingGroup, autoScalingGroupNames and targetTag'];
  }
  if (props.autoScalingGroup) {
    const name = props.autoScalingGroup.autoScalingGroupName;
    if (hasWildcard(name)) {
      return [`autoScalingGroup=${JSON.stringify(name)}: ${WILDCARD_PROBLEM}`];
    }
    return { kind: 'names', names: [name] };
  }
  if (props.autoScalingGroupNames) {
    const names = props.autoScalingGroupNames;
    const bad = names.filter((n) => n.length === 0 || n.length > 255 || n.includes(','));
    if (names.length === 0 || bad.length > 0) {
      return [`autoScalingGroupNames=${JSON.stringify(names)}: must be one or more Auto Scaling group names, none empty, longer than 255 characters or containing ','`];
    }
    const wild = names.filter(hasWildcard);
    if (wild.length > 0) {
      return [`autoScalingGroupNames=${JSON.stringify(names)}: ${JSON.stringify(wild)}: ${WILDCARD_PROBLEM}`];
    }
    return { kind: 'names', names };
  }
  const tag = props.targetTag ?? DEFAULT_TARGET_TAG;
  if (tag.key.trim().length === 0 || tag.key.includes('=')) {
    return [`targetTag=${JSON.stringify(tag)}: the key must be non-empty and contain no '='`];
  }
  return { kind: 'tag', key: tag.key, value: tag.value };
}

/**
 * A group name becomes part of the ARN in the engine's SetDesiredCapacity grant (and its scheduled
 * actions'), where IAM reads `*` and `?` as wildcards: `web*` would let the engine scale every
 * group whose name starts with `web`. Such names are refused (names known only at deploy, tokens,
 * cannot be checked here).
 */
const WILDCARD_PROBLEM = "a group name containing '*' or '?' would widen the engine's SetDesiredCapacity grant to other groups (IAM reads them as wildcards): name each group exactly";

function hasWildcard(name: string): boolean {
  return !Token.isUnresolved(name) && /[*?]/.test(name);
}

/** The functions' `FLEETOPT_TARGET_GROUPS` or `FLEETOPT_TARGET_TAG`. */
export function targetEnvironment(target: TargetSelector): Record<string, string> {
  return target.kind === 'names'
    ? { FLEETOPT_TARGET_GROUPS: target.names.join(',') }
    : { FLEETOPT_TARGET_TAG: `${target.key}=${target.value}` };
}

/**
 * What the engine changes on a targeted group, and nothing else: its desired capacity, and the
 * scheduled actions of an approved SCHEDULED_SCALING (created or replaced, and removed). All three
 * take the group's ARN and its `autoscaling:ResourceTag/<key>`, so one statement scopes them alike;
 * the member role grants the same on the tagged groups (members.ts).
 */
export const SCALING_ACTIONS = [
  'autoscaling:SetDesiredCapacity',
  'autoscaling:BatchPutScheduledUpdateGroupAction',
  'autoscaling:BatchDeleteScheduledAction',
];

/**
 * The statement allowing the scaling actions on the targeted groups only: their ARNs by name (the
 * ARN's middle part is a generated id, hence its wildcard), or, for a tag selector, any group
 * carrying the tag (`autoscaling:ResourceTag/<key>`).
 */
export function scalingStatement(stack: Stack, target: TargetSelector, actions: string[]): iam.PolicyStatement {
  if (target.kind === 'names') {
    return new iam.PolicyStatement({
      actions,
      resources: target.names.map((name) => Arn.format({
        service: 'autoscaling',
        resource: 'autoScalingGroup',
        resourceName: `*:autoScalingGroupName/${name}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }, stack)),
    });
  }
  return new iam.PolicyStatement({
    actions,
    resources: ['*'],
    conditions: { StringEquals: { [`autoscaling:ResourceTag/${target.key}`]: target.value } },
  });
}
