/**
 * Fleets in other accounts and regions (docs/accounts.md): the member role each member account
 * holds (`FleetOptimizerMember`, deployable to many accounts with StackSets), and, in the central
 * stack, the Step Functions runs that fan a function out over the shards (accounts x regions)
 * with a Distributed Map: the analyzer every analysisInterval, the cost optimizer daily.
 */
import { Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { NagSuppressions } from 'cdk-nag';
import { Construct, IConstruct } from 'constructs';
import { ConfigProblem, DEFAULT_TARGET_TAG, EnvironmentName, describeProblems, names } from './config';
import { SCALING_ACTIONS } from './target';

/** The role's name in every member account, unless the construct names another. */
export const DEFAULT_MEMBER_ROLE_NAME = 'fleet-optimizer-member';

/** Where the central functions' roles live: the member role trusts this path and no other. */
export function centralRolePath(application: string, environment: EnvironmentName): string {
  return `/fleet-optimizer/${names(application, environment).prefix}/`;
}

/** Which accounts and regions the central environment works in besides its own. */
export interface MemberAccountsProps {
  /** The member accounts (12 digits each). Give this or `organization`. */
  readonly accounts?: string[];
  /** Every ACTIVE account of the organization, listed at each run (organizations:ListAccounts). */
  readonly organization?: boolean;
  /** The regions of every member account; default the stack's own region. */
  readonly regions?: string[];
  /** The member role's name (`FLEETOPT_MEMBER_ROLE_NAME`); default `fleet-optimizer-member`. */
  readonly roleName?: string;
  /** Shards analyzed at once; default 10. */
  readonly maxConcurrency?: number;
  /** The share of shards that may fail before the run itself fails, percent; default 10. */
  readonly toleratedFailurePercentage?: number;
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** Every problem with the members' props, named as the props are. */
export function validateMembers(props: MemberAccountsProps): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const given = (props.accounts !== undefined) !== (props.organization === true);
  if (!given) {
    problems.push({ field: 'members', value: props, problem: 'give accounts or organization: true, not both and not neither' });
  }
  for (const account of props.accounts ?? []) {
    if (!ACCOUNT.test(account)) problems.push({ field: 'members.accounts', value: account, problem: 'must be a 12-digit AWS account id' });
  }
  if (props.accounts !== undefined && props.accounts.length === 0) {
    problems.push({ field: 'members.accounts', value: [], problem: 'must name at least one account' });
  }
  for (const region of props.regions ?? []) {
    if (!REGION.test(region)) problems.push({ field: 'members.regions', value: region, problem: 'must be a region name such as us-east-1' });
  }
  if (props.roleName !== undefined && !ROLE_NAME.test(props.roleName)) {
    problems.push({ field: 'members.roleName', value: props.roleName, problem: 'must be an IAM role name: 1 to 64 letters, digits or +=,.@_-' });
  }
  const whole = (field: string, value: number | undefined, min: number, max: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
      problems.push({ field, value, problem: `must be a whole number from ${min} to ${max}` });
    }
  };
  whole('members.maxConcurrency', props.maxConcurrency, 1, 1000);
  whole('members.toleratedFailurePercentage', props.toleratedFailurePercentage, 0, 100);
  return problems;
}

/** The member role's ARNs the central functions may assume: in the named accounts, or any. */
export function memberRoleArns(stack: Stack, props: MemberAccountsProps): string[] {
  const role = props.roleName ?? DEFAULT_MEMBER_ROLE_NAME;
  const accounts = props.organization ? ['*'] : props.accounts ?? [];
  return accounts.map((account) => `arn:${stack.partition}:iam::${account}:role/${role}`);
}

/**
 * With `organization: true` the member accounts are known only at run time: the central roles may
 * assume the member role's name in any account (the member role's trust policy is what admits
 * them, and only from the central environment's role path).
 */
export function suppressAnyAccountMemberRole(role: IConstruct, roleName: string): void {
  NagSuppressions.addResourceSuppressions(role, [{
    id: 'AwsSolutions-IAM5',
    reason: `sts:AssumeRole on the member role (${roleName}) in any account of the organization: the accounts are ` +
      'listed at run time; each member role trusts only this environment\'s function roles (their IAM path).',
    appliesTo: [`Resource::arn:<AWS::Partition>:iam::*:role/${roleName}`],
  }], true);
}

/**
 * What the cost optimizer reads besides the fleet and its metrics: Cost Explorer (which supports
 * no resource-level permission for these) and the prices and instance catalog. Its own role and,
 * for a shard, the member role are granted exactly these.
 */
export const COST_EXPLORER_READ_ACTIONS = [
  'ce:GetCostAndUsage', 'ce:GetCostForecast',
  'ce:GetReservationPurchaseRecommendation', 'ce:GetSavingsPlansPurchaseRecommendation',
  // Only when no cost carries the application's tag: to say whether it is activated.
  'ce:ListCostAllocationTags',
];
export const PRICE_READ_ACTIONS = ['pricing:GetProducts', 'ec2:DescribeSpotPriceHistory', 'ec2:DescribeInstanceTypes'];

/** One run over the shards: how its state machine, its metrics and its alert are named. */
export interface ShardRunKind {
  /** The state machine is `<prefix>-<name>`, its log group `/aws/vendedlogs/states/<prefix>-<name>`. */
  readonly name: string;
  /** The function invoked, as the comment, the alert and the cdk-nag reason name it. */
  readonly what: string;
  /** The Distributed Map's task state, which invokes the function for one shard. */
  readonly taskName: string;
  /**
   * A `Run` dimension, besides `Environment`, on ShardsSucceeded and ShardsFailed; none for the
   * analyzer's run, whose metrics keep the dimensions they always had.
   */
  readonly runDimension?: string;
  /** The alert's subject, after `fleet-optimizer <prefix>: `. */
  readonly alertSubject: string;
  /** Below the schedule's interval, so that a run ends before the next starts. */
  readonly timeout: Duration;
}

/** The hourly (every analysisInterval) analyzer run: `<prefix>-shards`. */
export const ANALYZER_SHARD_RUN: ShardRunKind = {
  name: 'shards', what: 'the analyzer', taskName: 'AnalyzeShard', alertSubject: 'shards failed', timeout: Duration.minutes(50),
};

/** The daily cost optimizer run: `<prefix>-cost-shards`, its metrics under `Run=cost-shards`. */
export const COST_SHARD_RUN: ShardRunKind = {
  name: 'cost-shards', what: 'the cost optimizer', taskName: 'OptimizeShardCosts', runDimension: 'cost-shards',
  alertSubject: 'cost shards failed', timeout: Duration.hours(23),
};

/** What a shard run needs of the central environment. */
export interface ShardRunProps {
  readonly members: MemberAccountsProps;
  /** Which run: its names, its metrics' dimension, its alert. */
  readonly run: ShardRunKind;
  /** The function invoked once per shard with `{"accountId", "region"}`. */
  readonly function: lambda.IFunction;
  /** Where a run with failed shards is reported. */
  readonly alertTopic: sns.ITopic;
  readonly metricsNamespace: string;
  readonly environmentName: EnvironmentName;
  readonly prefix: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A run over the shards, a Step Functions state machine (JSONata), one definition for every
 * `ShardRunKind`: the shards (the accounts given, or the organization's ACTIVE accounts, page by
 * page) x the regions -> a Distributed Map invoking the function with `{"accountId", "region"}`
 * for each, MaxConcurrency shards at once, a failed shard caught and counted -> ShardsSucceeded
 * and ShardsFailed published -> an alert when any failed.
 */
export class ShardRun extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ShardRunProps) {
    super(scope, id);
    const { run } = props;
    const stack = Stack.of(this);
    const regions = props.members.regions ?? [stack.region];
    const regionList = JSON.stringify(regions);

    // The shards: accounts x regions, as a variable the map reads.
    let start: sfn.IChainable;
    let shardsReady: sfn.INextable & sfn.IChainable;
    if (props.members.organization) {
      // organizations:ListAccounts, page by page (20 accounts a page). The variables are
      // assigned before any state reads them, as Step Functions requires.
      const init = sfn.Pass.jsonata(this, 'Begin', { assign: { accounts: [], next: '' } });
      const collect = {
        accounts: "{% $append($accounts, [$states.result.Accounts[Status = 'ACTIVE'].Id]) %}",
        next: '{% $exists($states.result.NextToken) ? $states.result.NextToken : "" %}',
      };
      const list = (id: string, parameters?: Record<string, string>) => tasks.CallAwsService.jsonata(this, id, {
        service: 'organizations',
        action: 'listAccounts',
        iamResources: ['*'],
        ...(parameters ? { parameters } : {}),
        assign: collect,
      });
      const begin = list('ListAccounts');
      const more = list('ListMoreAccounts', { NextToken: '{% $next %}' });
      const product = sfn.Pass.jsonata(this, 'Shards', {
        assign: { shards: `{% [$accounts.($a := $; ${regionList}.{"accountId": $a, "region": $})] %}` },
      });
      const another = () => sfn.Condition.jsonata('{% $next != "" %}');
      init.next(begin).next(sfn.Choice.jsonata(this, 'FirstPageOnly').when(another(), more).otherwise(product));
      more.next(sfn.Choice.jsonata(this, 'MorePages').when(another(), more).otherwise(product));
      start = init;
      shardsReady = product;
    } else {
      const shards = (props.members.accounts ?? []).flatMap((accountId) => regions.map((region) => ({ accountId, region })));
      const pass = sfn.Pass.jsonata(this, 'Shards', { assign: { shards } });
      start = pass;
      shardsReady = pass;
    }

    // The analyzer and the cost optimizer answer with the same counts (docs/responses.md).
    const invoke = tasks.LambdaInvoke.jsonata(this, run.taskName, {
      lambdaFunction: props.function,
      payload: sfn.TaskInput.fromObject({ accountId: '{% $states.input.accountId %}', region: '{% $states.input.region %}' }),
      outputs: {
        accountId: '{% $states.input.accountId %}',
        region: '{% $states.input.region %}',
        ok: true,
        groups: '{% $count($states.result.Payload.groups) %}',
        written: '{% $states.result.Payload.recommendationsWritten %}',
      },
    });
    invoke.addRetry({ errors: ['Throttled', 'Lambda.TooManyRequestsException'], interval: Duration.seconds(5), maxAttempts: 3, backoffRate: 2 });
    const failed = sfn.Pass.jsonata(this, 'ShardFailed');
    invoke.addCatch(failed, {
      errors: ['States.ALL'],
      outputs: {
        accountId: '{% $states.input.accountId %}',
        region: '{% $states.input.region %}',
        ok: false,
        error: '{% $states.errorOutput.Error %}',
        cause: '{% $states.errorOutput.Cause %}',
      },
    });

    const map = sfn.DistributedMap.jsonata(this, 'EachShard', {
      items: sfn.ProvideItems.jsonata('{% $shards %}'),
      maxConcurrency: props.members.maxConcurrency ?? 10,
      toleratedFailurePercentage: props.members.toleratedFailurePercentage ?? 10,
      label: 'shards',
      outputs: {
        succeeded: '{% $count($states.result[ok = true]) %}',
        failed: '{% $count($states.result[ok = false]) %}',
        failures: '{% [$states.result[ok = false]] %}',
      },
    });
    map.itemProcessor(invoke);

    const dimensions = [
      { Name: 'Environment', Value: props.environmentName },
      ...(run.runDimension ? [{ Name: 'Run', Value: run.runDimension }] : []),
    ];
    const publish = tasks.CallAwsService.jsonata(this, 'PublishShardMetrics', {
      service: 'cloudwatch',
      action: 'putMetricData',
      iamResources: ['*'],
      iamAction: 'cloudwatch:PutMetricData',
      parameters: {
        Namespace: props.metricsNamespace,
        MetricData: [
          { MetricName: 'ShardsSucceeded', Unit: 'Count', Value: '{% $states.input.succeeded %}', Dimensions: dimensions },
          { MetricName: 'ShardsFailed', Unit: 'Count', Value: '{% $states.input.failed %}', Dimensions: dimensions },
        ],
      },
      outputs: '{% $states.input %}',
    });
    const alert = tasks.SnsPublish.jsonata(this, 'AlertFailedShards', {
      topic: props.alertTopic,
      subject: `fleet-optimizer ${props.prefix}: ${run.alertSubject}`,
      message: sfn.TaskInput.fromText('{% $string($states.input.failed) & " shard(s) failed, " & $string($states.input.succeeded) & " succeeded: " & $string($states.input.failures) %}'),
    });
    const done = new sfn.Succeed(this, 'Done');
    shardsReady.next(map).next(publish).next(
      sfn.Choice.jsonata(this, 'AnyShardFailed')
        .when(sfn.Condition.jsonata('{% $states.input.failed > 0 %}'), alert.next(done))
        .otherwise(done),
    );

    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${props.prefix}-${run.name}`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: `${props.prefix}-${run.name}`,
      comment: `fleet-optimizer: ${run.what} over every member account and region (docs/accounts.md)`,
      queryLanguage: sfn.QueryLanguage.JSONATA,
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      timeout: run.timeout,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // PutMetricData only in the functions' namespace.
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({
      sid: 'DenyOtherNamespaces',
      effect: iam.Effect.DENY,
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringNotEquals: { 'cloudwatch:namespace': props.metricsNamespace } },
    }));
    // Publishing to an encrypted topic needs its key too (kms:GenerateDataKey*, kms:Decrypt):
    // sns:Publish alone is refused, and the alert would be lost.
    props.alertTopic.grantPublish(this.stateMachine);
    NagSuppressions.addResourceSuppressions(this.stateMachine, [{
      id: 'AwsSolutions-IAM5',
      reason: "Resource '*' only for cloudwatch:PutMetricData (denied outside the functions' namespace) and " +
        'organizations:ListAccounts, which support no resource-level permission; the Distributed Map starts its own ' +
        `child executions and invokes ${run.what}'s versions (<arn>:*); kms:GenerateDataKey* on the alert topic's key ` +
        'is what publishing to an encrypted topic needs.',
    }], true);
  }
}

/** Props of the member role. */
export interface FleetOptimizerMemberProps {
  /** The account that runs the functions (the central stack's). */
  readonly centralAccountId: string;
  /** The central stack's application and environment: the functions' role path is trusted. */
  readonly applicationName: string;
  readonly environmentName: EnvironmentName;
  /** The role's name; default `fleet-optimizer-member` (the central stack's `members.roleName`). */
  readonly roleName?: string;
  /**
   * The groups the engine may scale and schedule here: those carrying this tag; default
   * `fleet-optimizer:enabled=true`.
   */
  readonly targetTag?: { readonly key: string; readonly value: string };
}

/**
 * The member role: what the central functions do in this account, and nothing more. Reads
 * (groups, scaling activities, scheduled actions, target groups, metrics; for the cost optimizer
 * Cost Explorer, the prices and the instance catalog), and SetDesiredCapacity and the scheduled
 * actions' BatchPutScheduledUpdateGroupAction and BatchDeleteScheduledAction only on groups
 * carrying the target tag. Only the central environment's function roles (their IAM path: the
 * analyzer's, the engine's and the cost optimizer's) may assume it.
 */
export class FleetOptimizerMember extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: FleetOptimizerMemberProps) {
    super(scope, id);
    const problems: ConfigProblem[] = [];
    if (!ACCOUNT.test(props.centralAccountId)) {
      problems.push({ field: 'centralAccountId', value: props.centralAccountId, problem: 'must be a 12-digit AWS account id' });
    }
    if (props.roleName !== undefined && !ROLE_NAME.test(props.roleName)) {
      problems.push({ field: 'roleName', value: props.roleName, problem: 'must be an IAM role name: 1 to 64 letters, digits or +=,.@_-' });
    }
    const tag = props.targetTag ?? DEFAULT_TARGET_TAG;
    if (tag.key.trim().length === 0) problems.push({ field: 'targetTag', value: tag, problem: 'the key must be non-empty' });
    if (problems.length > 0) throw new Error(describeProblems(`FleetOptimizerMember ${this.node.path}`, problems));

    const stack = Stack.of(this);
    const path = centralRolePath(props.applicationName, props.environmentName);
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName ?? DEFAULT_MEMBER_ROLE_NAME,
      description: `fleet-optimizer member role: ${props.applicationName}-${props.environmentName} in ${props.centralAccountId} reads and scales tagged groups here`,
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.AccountPrincipal(props.centralAccountId).withConditions({
        ArnLike: { 'aws:PrincipalArn': `arn:${stack.partition}:iam::${props.centralAccountId}:role${path}*` },
      }),
    });
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'Read',
      actions: [
        'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeScalingActivities', 'autoscaling:DescribeScheduledActions',
        'elasticloadbalancing:DescribeTargetGroups', 'cloudwatch:GetMetricData',
      ],
      resources: ['*'],
    }));
    // The cost optimizer's reads, as its own role has them (none of them writes).
    this.role.addToPolicy(new iam.PolicyStatement({ sid: 'CostExplorerRead', actions: COST_EXPLORER_READ_ACTIONS, resources: ['*'] }));
    this.role.addToPolicy(new iam.PolicyStatement({ sid: 'Prices', actions: PRICE_READ_ACTIONS, resources: ['*'] }));
    // What the engine changes on a group, as in its own account (SCALING_ACTIONS, target.ts).
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'ScaleTaggedGroupsOnly',
      actions: SCALING_ACTIONS,
      resources: ['*'],
      conditions: { StringEquals: { [`autoscaling:ResourceTag/${tag.key}`]: tag.value } },
    }));
    NagSuppressions.addResourceSuppressions(this.role, [{
      id: 'AwsSolutions-IAM5',
      reason: "Resource '*' only on calls without resource-level permissions (autoscaling:Describe*, " +
        'elasticloadbalancing:DescribeTargetGroups, cloudwatch:GetMetricData, the cost optimizer\'s read-only ce:Get*, ' +
        'ce:ListCostAllocationTags, pricing:GetProducts and ec2:DescribeSpotPriceHistory/DescribeInstanceTypes) and on autoscaling:SetDesiredCapacity, ' +
        'autoscaling:BatchPutScheduledUpdateGroupAction and autoscaling:BatchDeleteScheduledAction ' +
        'under the condition autoscaling:ResourceTag/<key> = <value>: the tagged groups are chosen at run time.',
      appliesTo: ['Resource::*'],
    }], true);
  }
}

/** A stack holding only the member role: what StackSets deploys to every member account. */
export class FleetOptimizerMemberStack extends Stack {
  public readonly member: FleetOptimizerMember;

  constructor(scope: Construct, id: string, props: StackProps & FleetOptimizerMemberProps) {
    super(scope, id, props);
    this.member = new FleetOptimizerMember(this, 'Member', props);
  }
}
