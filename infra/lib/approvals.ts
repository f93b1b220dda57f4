/**
 * Approvals as verified acts (docs/construct.md, "Approvals and the signing keys"): the
 * environment's two signing keys, who may sign with each, and the engine's approval settings.
 *
 * A person approves a recommendation by signing it with the approvals key; the analyzer signs each
 * automated scale-up it writes with the findings key; the engine verifies the signature before it
 * acts on either. So `kms:Sign` on the approvals key is the right to approve: the construct gives
 * it to the `approvers` prop's principals and to no function.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ConfigProblem } from './config';

/**
 * The engine's approval settings, each optional: an absent one keeps the engine's default, so
 * the defaults live in one place (`shared/config`). Only the engine is given them.
 */
export interface ApprovalSettings {
  /**
   * `FLEETOPT_APPROVAL_MAX_AGE_HOURS`: a capacity change (SCALE_UP, SCALE_DOWN) awaiting approval,
   * or approved and not yet applied, expires after this long; whole hours from 1 to 168 (default 6).
   */
  readonly approvalMaxAge?: Duration;
  /**
   * `FLEETOPT_MANUAL_APPROVAL_MAX_AGE_DAYS`: the same for the changes a person carries out
   * (INSTANCE_TYPE_CHANGE, COST_OPTIMIZATION, PERFORMANCE_TUNING) and for schedules
   * (SCHEDULED_SCALING, held for approval like SCALE_DOWN); whole days from 1 to 90 (default 14).
   */
  readonly manualApprovalMaxAge?: Duration;
  /**
   * `FLEETOPT_IN_PROGRESS_MAX_MINUTES`: a change still IN_PROGRESS after this long is closed with a
   * performance alert; whole minutes from 10 to 1440 (default 120).
   */
  readonly inProgressMaxAge?: Duration;
  /**
   * `FLEETOPT_ROLLBACK_WORSE`: an automated change whose measured outcome is WORSE is rolled back
   * (default false: it is reported and left in place).
   */
  readonly rollBackWorseChanges?: boolean;
}

/** The ranges `shared/config` accepts, in each setting's unit. */
const RANGES = {
  approvalMaxAge: { unit: 'hours', min: 1, max: 168, note: ' (7 days)' },
  manualApprovalMaxAge: { unit: 'days', min: 1, max: 90, note: '' },
  inProgressMaxAge: { unit: 'minutes', min: 10, max: 1440, note: ' (24 hours)' },
} as const;

/** A duration in whole `unit`s, or NaN when it is not a whole number of them (or no Duration). */
function whole(value: Duration, unit: 'hours' | 'days' | 'minutes'): number {
  try {
    return { hours: () => value.toHours(), days: () => value.toDays(), minutes: () => value.toMinutes() }[unit]();
  } catch {
    return NaN;
  }
}

/** Checks the settings with the ranges `shared/config` enforces at start-up; every problem. */
export function validateApprovalSettings(settings: ApprovalSettings): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [field, range] of Object.entries(RANGES) as [keyof typeof RANGES, (typeof RANGES)[keyof typeof RANGES]][]) {
    const value = settings[field];
    if (value === undefined) continue;
    const n = whole(value, range.unit);
    if (!(Number.isInteger(n) && n >= range.min && n <= range.max)) {
      problems.push({
        field,
        value: value instanceof Duration ? value.toString() : value,
        problem: `must be whole ${range.unit} from ${range.min} to ${range.max}${range.note}`,
      });
    }
  }
  const rollBack = settings.rollBackWorseChanges;
  if (rollBack !== undefined && typeof rollBack !== 'boolean') {
    problems.push({ field: 'rollBackWorseChanges', value: rollBack, problem: 'must be true or false' });
  }
  return problems;
}

/** The engine's environment variables for the settings that are set (validated first). */
export function approvalEnvironment(settings: ApprovalSettings): Record<string, string> {
  const env: Record<string, string> = {};
  if (settings.approvalMaxAge !== undefined) env.FLEETOPT_APPROVAL_MAX_AGE_HOURS = String(settings.approvalMaxAge.toHours());
  if (settings.manualApprovalMaxAge !== undefined) env.FLEETOPT_MANUAL_APPROVAL_MAX_AGE_DAYS = String(settings.manualApprovalMaxAge.toDays());
  if (settings.inProgressMaxAge !== undefined) env.FLEETOPT_IN_PROGRESS_MAX_MINUTES = String(settings.inProgressMaxAge.toMinutes());
  if (settings.rollBackWorseChanges !== undefined) env.FLEETOPT_ROLLBACK_WORSE = String(settings.rollBackWorseChanges);
  return env;
}

/** A signing key and its alias. */
export interface SigningKey {
  readonly key: kms.Key;
  readonly alias: kms.Alias;
}

/**
 * An asymmetric signing key (ECC_NIST_P256, SIGN_VERIFY: it signs and verifies with
 * ECDSA_SHA_256 only) and its alias. Its policy is CDK's default, the account as administrator,
 * so IAM policies decide who uses it. KMS cannot rotate asymmetric keys, so none is asked for.
 * A retained key outlives the stack (the alias does not); otherwise deleting the stack schedules
 * the key's deletion, after the shortest waiting period KMS allows, 7 days.
 */
export function signingKey(scope: Construct, id: string, props: { aliasName: string; description: string; retain: boolean }): SigningKey {
  const key = new kms.Key(scope, id, {
    description: props.description,
    keySpec: kms.KeySpec.ECC_NIST_P256,
    keyUsage: kms.KeyUsage.SIGN_VERIFY,
    removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    pendingWindow: props.retain ? undefined : Duration.days(7),
  });
  const alias = new kms.Alias(scope, `${id}Alias`, { aliasName: props.aliasName, targetKey: key });
  return { key, alias };
}

/**
 * Refuses `kms:Sign` with `key` to `roles` in the key's own policy: an explicit deny wins over
 * any IAM policy, so no role given here can sign with the key even if its policies are widened
 * later. The roles are matched by `aws:PrincipalArn` rather than named as principals: KMS checks
 * that a named principal exists when it takes the policy, and a role created moments earlier in
 * the same deployment may not be visible to it yet. It changes nothing else: the account stays
 * the key's administrator.
 */
export function refuseSigning(key: kms.Key, sid: string, roles: iam.IRole[]): void {
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:Sign'],
    resources: ['*'],
    conditions: { ArnEquals: { 'aws:PrincipalArn': roles.map((role) => role.roleArn) } },
  }));
}

/** What `fleetopt approve`, `reject`, `snooze`, `done` and `recommendations` call on the table. */
export const APPROVER_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
/** What an approver calls on the approvals key. */
export const APPROVER_KEY_ACTIONS = ['kms:Sign', 'kms:GetPublicKey'];

/**
 * Lets each of `approvers` approve: sign with the approvals key, read the recommendations and
 * change their status. Into the principal's own IAM policy when this stack can change it (a role,
 * user or group of this app, or one imported as mutable); otherwise (a principal given by ARN, a
 * role imported as immutable, such as one IAM Identity Center manages) into the key's policy and
 * the table's resource policy, one statement each naming every such principal.
 */
export function grantApprovers(approvers: iam.IPrincipal[], approvalKey: kms.Key, table: dynamodb.Table, tableArns: { own: string[]; named: string[] }): void {
  const byResource: iam.IPrincipal[] = [];
  for (const approver of approvers) {
    const signed = approver.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ApproveWithKey', actions: APPROVER_KEY_ACTIONS, resources: [approvalKey.keyArn],
    })).statementAdded;
    const decided = approver.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DecideRecommendations', actions: APPROVER_TABLE_ACTIONS, resources: tableArns.own,
    })).statementAdded;
    if (!signed || !decided) byResource.push(approver);
  }
  if (byResource.length === 0) return;
  approvalKey.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'ApproversSign', principals: byResource, actions: APPROVER_KEY_ACTIONS, resources: ['*'],
  }));
  // The table's own ARNs, spelt out from its name: a reference would make the table depend on itself.
  table.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'ApproversDecide', principals: byResource, actions: APPROVER_TABLE_ACTIONS, resources: tableArns.named,
  }));
}
