/**
 * Fleets in other accounts (docs/accounts.md): the member role a member account holds, the
 * central functions' grants, and the two Step Functions runs over the shards, the analyzer's and
 * the cost optimizer's (their definitions, their schedules), cdk-nag clean; without `members`,
 * nothing of it.
 */
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FunctionCode } from '../lib/code';
import { FleetOptimizer, FleetOptimizerProps } from '../lib/fleet-optimizer';
import { FleetOptimizerMemberStack, MemberAccountsProps } from '../lib/members';
import { nagFindings } from './support';

const A = '111122223333';
const B = '444455556666';

function central(members?: MemberAccountsProps, extra: Partial<FleetOptimizerProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Central', { env: { account: '123456789012', region: 'us-east-1' } });
  new FleetOptimizer(stack, 'FleetOptimizer', {
    environmentName: 'production', applicationName: 'shop', targetTag: { key: 'fleet-optimizer:enabled', value: 'true' },
    code: FunctionCode.placeholder(), members, ...extra,
  });
  Aspects.of(app).add(new AwsSolutionsChecks());
  return { stack, template: Template.fromStack(stack) };
}

/** The state machine `shop-production-<name>`, its definition parsed, its tokens as `<Id.Attribute>` or `<Ref>`. */
function machine(template: Template, name: string): { properties: Record<string, any>; asl: Record<string, any> } {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine', { Properties: { StateMachineName: `shop-production-${name}` } }));
  expect(machines).toHaveLength(1);
  const body = machines[0].Properties.DefinitionString;
  // Every token of these definitions (a function's ARN, the partition, a topic) sits inside a JSON string.
  const token = (part: any) => (part['Fn::GetAtt'] ? `<${part['Fn::GetAtt'].join('.')}>` : `<${part.Ref}>`);
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : token(part))).join('');
  return { properties: machines[0].Properties, asl: JSON.parse(text) };
}

function definition(template: Template, name = 'shards'): Record<string, any> {
  return machine(template, name).asl;
}

/** The logical id of a resource of `type` whose properties match. */
function logicalId(template: Template, type: string, properties: Record<string, unknown>): string {
  const ids = Object.keys(template.findResources(type, { Properties: properties }));
  expect(ids).toHaveLength(1);
  return ids[0];
}

const functionId = (template: Template, suffix: string) => logicalId(template, 'AWS::Lambda::Function', { FunctionName: `shop-production-${suffix}` });
const topicId = (template: Template, kind: string) => logicalId(template, 'AWS::SNS::Topic', { TopicName: `shop-production-${kind}` });

/** The statements of the policies attached to the role `roleId`. */
function statementsOfRole(template: Template, roleId: string): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** The statements of every policy attached to the role of the function named `suffix`. */
function statementsOf(template: Template, suffix: string): any[] {
  const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: `shop-production-${suffix}` } }))[0];
  return statementsOfRole(template, fn.Properties.Role['Fn::GetAtt'][0]);
}

/** The statements of the role of the state machine `shop-production-<name>`. */
function machineStatements(template: Template, name: string): any[] {
  return statementsOfRole(template, machine(template, name).properties.RoleArn['Fn::GetAtt'][0]);
}

describe('a central stack with member accounts', () => {
  const { stack, template } = central({ accounts: [A, B], regions: ['us-east-1', 'eu-west-1'], maxConcurrency: 5, toleratedFailurePercentage: 20 });

  test('cdk-nag AwsSolutions: no unsuppressed finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('the hourly schedule starts the shard run; a Distributed Map invokes the analyzer per account and region', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'shop-production-shards',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'shop-production-shard-schedule',
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('ShardRunStateMachine') } })],
    });
    const asl = definition(template);
    expect(asl.QueryLanguage).toBe('JSONata');
    expect(asl.StartAt).toBe('Shards');
    expect(asl.States.Shards.Assign.shards).toEqual([
      { accountId: A, region: 'us-east-1' }, { accountId: A, region: 'eu-west-1' },
      { accountId: B, region: 'us-east-1' }, { accountId: B, region: 'eu-west-1' },
    ]);
    const map = asl.States.EachShard;
    expect(map).toMatchObject({
      Type: 'Map', Items: '{% $shards %}', MaxConcurrency: 5, ToleratedFailurePercentage: 20,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'AnalyzeShard' },
    });
    const analyze = map.ItemProcessor.States.AnalyzeShard;
    expect(analyze.Resource).toContain('lambda:invoke');
    expect(analyze.Arguments.FunctionName).toBe(`<${functionId(template, 'performance-analyzer')}.Arn>`);
    expect(analyze.Arguments.Payload).toEqual({ accountId: '{% $states.input.accountId %}', region: '{% $states.input.region %}' });
    expect(analyze.Catch).toEqual([expect.objectContaining({
      ErrorEquals: ['States.ALL'], Next: 'ShardFailed',
      Output: expect.objectContaining({ ok: false, error: '{% $states.errorOutput.Error %}' }),
    })]);
    expect(map.Output).toMatchObject({ succeeded: '{% $count($states.result[ok = true]) %}', failed: '{% $count($states.result[ok = false]) %}' });
    expect(map.Next).toBe('PublishShardMetrics');
    const published = asl.States.PublishShardMetrics.Arguments.MetricData.map((d: any) => d.MetricName);
    expect(published).toEqual(['ShardsSucceeded', 'ShardsFailed']);
    // The analyzer's run keeps its metrics' one dimension.
    for (const datum of asl.States.PublishShardMetrics.Arguments.MetricData) {
      expect(datum.Dimensions).toEqual([{ Name: 'Environment', Value: 'production' }]);
    }
    expect(asl.States.AnyShardFailed.Choices[0]).toMatchObject({ Condition: '{% $states.input.failed > 0 %}', Next: 'AlertFailedShards' });
    expect(asl.States.AlertFailedShards.Arguments).toMatchObject({
      TopicArn: `<${topicId(template, 'performance-alerts')}>`, Subject: 'fleet-optimizer shop-production: shards failed',
    });
    expect(asl.TimeoutSeconds).toBe(50 * 60);
  });

  test('the daily cost schedule starts the cost shard run; a Distributed Map invokes the cost optimizer per account and region', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'shop-production-cost-shards',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/vendedlogs/states/shop-production-cost-shards' });
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'shop-production-cost-shard-schedule',
      ScheduleExpression: 'rate(1 day)',
      State: 'ENABLED',
      Targets: [Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('CostShardRunStateMachine') },
        DeadLetterConfig: Match.anyValue(),
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
      })],
    });
    // Beside, as for the analyzer: the direct daily run still works in the central account.
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'shop-production-cost-optimizer-schedule',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(template, 'cost-optimizer'), 'Arn'] }, Input: '{}' })],
    });

    const asl = definition(template, 'cost-shards');
    expect(asl.QueryLanguage).toBe('JSONata');
    expect(asl.TimeoutSeconds).toBe(23 * 3600);
    expect(asl.StartAt).toBe('Shards');
    expect(asl.States.Shards.Assign.shards).toEqual(definition(template, 'shards').States.Shards.Assign.shards);
    expect(asl.States.Shards.Next).toBe('EachShard');
    const map = asl.States.EachShard;
    expect(map).toMatchObject({
      Type: 'Map', Items: '{% $shards %}', MaxConcurrency: 5, ToleratedFailurePercentage: 20,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'OptimizeShardCosts' },
    });
    const optimize = map.ItemProcessor.States.OptimizeShardCosts;
    expect(optimize.Resource).toContain('lambda:invoke');
    expect(optimize.Arguments).toEqual({
      FunctionName: `<${functionId(template, 'cost-optimizer')}.Arn>`,
      Payload: { accountId: '{% $states.input.accountId %}', region: '{% $states.input.region %}' },
    });
    expect(optimize.Retry).toContainEqual(expect.objectContaining({ ErrorEquals: ['Throttled', 'Lambda.TooManyRequestsException'] }));
    expect(optimize.Catch).toEqual([expect.objectContaining({
      ErrorEquals: ['States.ALL'], Next: 'ShardFailed',
      Output: expect.objectContaining({ ok: false, error: '{% $states.errorOutput.Error %}' }),
    })]);
    expect(map.Output).toMatchObject({ succeeded: '{% $count($states.result[ok = true]) %}', failed: '{% $count($states.result[ok = false]) %}' });
    expect(map.Next).toBe('PublishShardMetrics');

    // The same two metrics, told apart from the analyzer's run by a Run dimension.
    const publish = asl.States.PublishShardMetrics;
    expect(publish.Resource).toContain('aws-sdk:cloudwatch:putMetricData');
    expect(publish.Arguments.Namespace).toBe('FleetOptimizer');
    const dimensions = [{ Name: 'Environment', Value: 'production' }, { Name: 'Run', Value: 'cost-shards' }];
    expect(publish.Arguments.MetricData).toEqual([
      { MetricName: 'ShardsSucceeded', Unit: 'Count', Value: '{% $states.input.succeeded %}', Dimensions: dimensions },
      { MetricName: 'ShardsFailed', Unit: 'Count', Value: '{% $states.input.failed %}', Dimensions: dimensions },
    ]);
    expect(publish.Next).toBe('AnyShardFailed');
    expect(asl.States.AnyShardFailed).toMatchObject({
      Type: 'Choice', Choices: [{ Condition: '{% $states.input.failed > 0 %}', Next: 'AlertFailedShards' }], Default: 'Done',
    });
    // Failed shards are reported where the cost optimizer reports: the cost alerts topic.
    expect(asl.States.AlertFailedShards).toMatchObject({
      Resource: expect.stringContaining('sns:publish'),
      Arguments: {
        TopicArn: `<${topicId(template, 'cost-alerts')}>`,
        Subject: 'fleet-optimizer shop-production: cost shards failed',
        Message: expect.stringContaining('shard(s) failed'),
      },
      Next: 'Done',
    });
  });

  test('each run\'s role invokes its own function only, and publishes to its own alert topic with the topic key', () => {
    const topicKey = logicalId(template, 'AWS::KMS::Key', { Description: 'fleet-optimizer SNS topics' });
    for (const [name, suffix, topic] of [['shards', 'performance-analyzer', 'performance-alerts'], ['cost-shards', 'cost-optimizer', 'cost-alerts']]) {
      const statements = machineStatements(template, name);
      const invoke = statements.filter((s) => s.Action === 'lambda:InvokeFunction');
      const fn = { 'Fn::GetAtt': [functionId(template, suffix), 'Arn'] };
      expect(invoke).toEqual([expect.objectContaining({ Effect: 'Allow', Resource: [fn, { 'Fn::Join': ['', [fn, ':*']] }] })]);
      expect(statements.filter((s) => s.Action === 'sns:Publish')).toEqual([expect.objectContaining({ Resource: { Ref: topicId(template, topic) } })]);
      expect(statements).toContainEqual(expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: { 'Fn::GetAtt': [topicKey, 'Arn'] },
      }));
      expect(statements).toContainEqual(expect.objectContaining({ Sid: 'DenyOtherNamespaces', Effect: 'Deny', Action: 'cloudwatch:PutMetricData' }));
    }
  });

  test('the analyzer, the engine and the cost optimizer may assume the member role in the named accounts only', () => {
    const assume = (suffix: string) => statementsOf(template, suffix).filter((s) => s.Action === 'sts:AssumeRole');
    for (const suffix of ['performance-analyzer', 'optimization-engine', 'cost-optimizer']) {
      expect(assume(suffix)).toHaveLength(1);
      const resources = assume(suffix).flatMap((s) => s.Resource);
      expect(resources).toHaveLength(2);
      expect(JSON.stringify(resources)).toContain(`:iam::${A}:role/fleet-optimizer-member`);
      expect(JSON.stringify(resources)).toContain(`:iam::${B}:role/fleet-optimizer-member`);
      expect(JSON.stringify(resources)).not.toContain('*');
    }
    // All three roles live under the path the member role trusts.
    const roles = Object.values(template.findResources('AWS::IAM::Role', { Properties: { Path: '/fleet-optimizer/shop-production/' } }));
    expect(roles).toHaveLength(3);
    for (const suffix of ['performance-analyzer', 'cost-optimizer']) {
      const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: `shop-production-${suffix}` } }))[0];
      expect(fn.Properties.Environment.Variables.FLEETOPT_MEMBER_ROLE_NAME).toBe('fleet-optimizer-member');
    }
  });
});

test('with organization: true the run lists the ACTIVE accounts page by page, and the role may be assumed in any', () => {
  const { stack, template } = central({ organization: true, roleName: 'ops-fleet' });
  expect(nagFindings(stack)).toEqual([]);
  const asl = definition(template);
  expect(asl.StartAt).toBe('Begin');
  expect(asl.States.Begin.Assign).toEqual({ accounts: [], next: '' });
  expect(asl.States.Begin.Next).toBe('ListAccounts');
  expect(asl.States.ListAccounts.Resource).toContain('aws-sdk:organizations:listAccounts');
  expect(asl.States.ListMoreAccounts.Arguments).toEqual({ NextToken: '{% $next %}' });
  expect(asl.States.ListAccounts.Assign.accounts).toContain("Status = 'ACTIVE'");
  expect(asl.States.Shards.Assign.shards).toContain('["us-east-1"]');
  const cost = definition(template, 'cost-shards');
  expect(cost.StartAt).toBe('Begin');
  expect(cost.States.ListAccounts.Resource).toContain('aws-sdk:organizations:listAccounts');
  expect(cost.States.Shards.Next).toBe('EachShard');
  expect(cost.States.EachShard.ItemProcessor.States.OptimizeShardCosts.Arguments.FunctionName).toBe(`<${functionId(template, 'cost-optimizer')}.Arn>`);
  for (const suffix of ['optimization-engine', 'cost-optimizer']) {
    const assume = statementsOf(template, suffix).filter((s) => s.Action === 'sts:AssumeRole');
    expect(JSON.stringify(assume)).toContain(':iam::*:role/ops-fleet');
  }
});

test('with cost optimization disabled the cost shard schedule is disabled too', () => {
  const { template } = central({ accounts: [A] }, { optimizationConfig: { enableCostOptimization: false } });
  for (const name of ['cost-optimizer-schedule', 'cost-shard-schedule']) {
    template.hasResourceProperties('AWS::Events::Rule', { Name: `shop-production-${name}`, State: 'DISABLED' });
  }
  template.hasResourceProperties('AWS::Events::Rule', { Name: 'shop-production-shard-schedule', State: 'ENABLED' });
});

test('without members nothing changes: no state machine, no role path, no AssumeRole', () => {
  const { template } = central(undefined);
  template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  const rules = Object.values(template.findResources('AWS::Events::Rule')).map((r) => r.Properties.Name);
  expect(rules).toContain('shop-production-cost-optimizer-schedule');
  expect(rules.filter((name) => name.includes('shard'))).toEqual([]);
  expect(Object.values(template.findResources('AWS::IAM::Role')).filter((r) => r.Properties.Path)).toEqual([]);
  for (const suffix of ['performance-analyzer', 'optimization-engine', 'cost-optimizer']) {
    expect(statementsOf(template, suffix).filter((s) => s.Action === 'sts:AssumeRole')).toEqual([]);
  }
});

test.each([
  [{}, 'members={}: give accounts or organization: true'],
  [{ accounts: [A], organization: true }, 'give accounts or organization: true, not both'],
  [{ accounts: ['1234'] }, 'members.accounts="1234": must be a 12-digit AWS account id'],
  [{ accounts: [A], regions: ['Europe'] }, 'members.regions="Europe": must be a region name'],
  [{ accounts: [A], roleName: 'a/b' }, 'members.roleName="a/b": must be an IAM role name'],
  [{ accounts: [A], maxConcurrency: 0 }, 'members.maxConcurrency=0: must be a whole number from 1 to 1000'],
])('members %j is refused at synth', (members, message) => {
  expect(() => central(members as MemberAccountsProps)).toThrow(message);
});

describe('the member stack', () => {
  const app = new App();
  const stack = new FleetOptimizerMemberStack(app, 'Member', {
    centralAccountId: '123456789012', applicationName: 'shop', environmentName: 'production',
  });
  Aspects.of(app).add(new AwsSolutionsChecks());
  const template = Template.fromStack(stack);

  test('cdk-nag AwsSolutions: no unsuppressed finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('the role trusts only the central environment\'s function roles, by their path', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'fleet-optimizer-member',
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Action: 'sts:AssumeRole',
          Principal: { AWS: Match.anyValue() },
          Condition: { ArnLike: { 'aws:PrincipalArn': Match.objectLike({}) } },
        })],
      },
    });
    const role = Object.values(template.findResources('AWS::IAM::Role'))[0];
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain(':iam::123456789012:role/fleet-optimizer/shop-production/*');
  });

  const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);

  test('it reads, and scales and schedules only the tagged groups', () => {
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.sort()).toEqual([
      'autoscaling:BatchDeleteScheduledAction', 'autoscaling:BatchPutScheduledUpdateGroupAction',
      'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeScalingActivities', 'autoscaling:DescribeScheduledActions',
      'autoscaling:SetDesiredCapacity',
      'ce:GetCostAndUsage', 'ce:GetCostForecast', 'ce:GetReservationPurchaseRecommendation',
      'ce:GetSavingsPlansPurchaseRecommendation', 'ce:ListCostAllocationTags',
      'cloudwatch:GetMetricData', 'ec2:DescribeInstanceTypes', 'ec2:DescribeSpotPriceHistory',
      'elasticloadbalancing:DescribeTargetGroups', 'pricing:GetProducts',
    ]);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    // Every write in one statement, on the tagged groups only.
    const writes = statements.filter((s) => [s.Action].flat().some((a: string) => !/^[a-z0-9-]+:(Describe|Get|List)/.test(a)));
    expect(writes).toEqual([{
      Sid: 'ScaleTaggedGroupsOnly', Effect: 'Allow',
      Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:BatchPutScheduledUpdateGroupAction', 'autoscaling:BatchDeleteScheduledAction'],
      Resource: '*',
      Condition: { StringEquals: { 'autoscaling:ResourceTag/fleet-optimizer:enabled': 'true' } },
    }]);
    expect(statements.find((s) => s.Sid === 'Read')).toMatchObject({
      Action: expect.arrayContaining(['autoscaling:DescribeScheduledActions']), Resource: '*',
    });
  });

  test("its scaling grant is the central engine's for the same tag: the same actions, resource and condition", () => {
    const engine = statementsOf(central({ accounts: [A] }).template, 'optimization-engine').filter((s) => s.Sid === 'ScaleTargetGroupsOnly');
    const member = statements.filter((s) => s.Sid === 'ScaleTaggedGroupsOnly');
    expect(engine).toHaveLength(1);
    const scope = ({ Action, Resource, Condition }: any) => ({ Action, Resource, Condition });
    expect(member.map(scope)).toEqual(engine.map(scope));
  });

  test('its cost reads are the cost optimizer\'s own read-only grants, read-only, and nothing else', () => {
    const own = statementsOf(central({ accounts: [A] }).template, 'cost-optimizer');
    for (const sid of ['CostExplorerRead', 'Prices']) {
      const member = statements.filter((s) => s.Sid === sid);
      expect(member).toEqual([{ Sid: sid, Effect: 'Allow', Action: expect.any(Array), Resource: '*' }]);
      expect(member).toEqual(own.filter((s) => s.Sid === sid));
      expect(member[0].Action.every((a: string) => /^(ce|pricing|ec2):(Get|List|Describe)/.test(a))).toBe(true);
    }
    // Of the cost optimizer's Resource-'*' reads (DescribeScheduledActions among them), none is missing from the member role.
    expect(own.flatMap((s) => [s.Action].flat())).toContain('autoscaling:DescribeScheduledActions');
    const memberActions = new Set(statements.flatMap((s) => [s.Action].flat()));
    const ownReads = own.filter((s) => s.Resource === '*' && s.Effect === 'Allow' && !s.Condition).flatMap((s) => [s.Action].flat());
    expect(ownReads.filter((a) => !memberActions.has(a))).toEqual([]);
  });

  test('a malformed central account is refused', () => {
    expect(() => new FleetOptimizerMemberStack(new App(), 'Bad', {
      centralAccountId: '12', applicationName: 'shop', environmentName: 'production',
    })).toThrow('centralAccountId="12": must be a 12-digit AWS account id');
  });
});
