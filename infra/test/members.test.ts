/**
 * Fleets in other accounts (docs/accounts.md): the member role a member account holds, the
 * central functions' grants, and the Step Functions run over the shards (its definition, its
 * schedule), cdk-nag clean; without `members`, nothing of it.
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

/** The state machine's definition, its tokens (function ARNs) as `<token>`. */
function definition(template: Template): Record<string, any> {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  expect(machines).toHaveLength(1);
  const body = machines[0].Properties.DefinitionString;
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : '"<token>"')).join('');
  return JSON.parse(text.replace(/""<token>""/g, '"<token>"').replace(/"<token>"([^,}\]])/g, '<token>$1'));
}

/** The statements of every policy attached to the role of the function named `suffix`. */
function statementsOf(template: Template, suffix: string): any[] {
  const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: `shop-production-${suffix}` } }))[0];
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
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
    expect(analyze.Arguments.Payload).toEqual({ accountId: '{% $states.input.accountId %}', region: '{% $states.input.region %}' });
    expect(analyze.Catch).toEqual([expect.objectContaining({
      ErrorEquals: ['States.ALL'], Next: 'ShardFailed',
      Output: expect.objectContaining({ ok: false, error: '{% $states.errorOutput.Error %}' }),
    })]);
    expect(map.Output).toMatchObject({ succeeded: '{% $count($states.result[ok = true]) %}', failed: '{% $count($states.result[ok = false]) %}' });
    expect(map.Next).toBe('PublishShardMetrics');
    const published = asl.States.PublishShardMetrics.Arguments.MetricData.map((d: any) => d.MetricName);
    expect(published).toEqual(['ShardsSucceeded', 'ShardsFailed']);
    expect(asl.States.AnyShardFailed.Choices[0]).toMatchObject({ Condition: '{% $states.input.failed > 0 %}', Next: 'AlertFailedShards' });
  });

  test('the analyzer and the engine may assume the member role in the named accounts only; the cost optimizer none', () => {
    const assume = (suffix: string) => statementsOf(template, suffix).filter((s) => s.Action === 'sts:AssumeRole');
    for (const suffix of ['performance-analyzer', 'optimization-engine']) {
      const resources = assume(suffix).flatMap((s) => s.Resource);
      expect(JSON.stringify(resources)).toContain(`:iam::${A}:role/fleet-optimizer-member`);
      expect(JSON.stringify(resources)).toContain(`:iam::${B}:role/fleet-optimizer-member`);
      expect(JSON.stringify(resources)).not.toContain('*');
    }
    expect(assume('cost-optimizer')).toEqual([]);
    const roles = Object.values(template.findResources('AWS::IAM::Role', { Properties: { Path: '/fleet-optimizer/shop-production/' } }));
    expect(roles).toHaveLength(3);
    const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'shop-production-performance-analyzer' } }))[0];
    expect(fn.Properties.Environment.Variables.FLEETOPT_MEMBER_ROLE_NAME).toBe('fleet-optimizer-member');
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
  const assume = statementsOf(template, 'optimization-engine').filter((s) => s.Action === 'sts:AssumeRole');
  expect(JSON.stringify(assume)).toContain(':iam::*:role/ops-fleet');
});

test('without members nothing changes: no state machine, no role path, no AssumeRole', () => {
  const { template } = central(undefined);
  template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
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

  test('it reads, and scales only the tagged groups', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.sort()).toEqual([
      'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeScalingActivities', 'autoscaling:SetDesiredCapacity',
      'cloudwatch:GetMetricData', 'elasticloadbalancing:DescribeTargetGroups',
    ]);
    const scale = statements.find((s) => s.Action === 'autoscaling:SetDesiredCapacity');
    expect(scale.Condition).toEqual({ StringEquals: { 'autoscaling:ResourceTag/fleet-optimizer:enabled': 'true' } });
  });

  test('a malformed central account is refused', () => {
    expect(() => new FleetOptimizerMemberStack(new App(), 'Bad', {
      centralAccountId: '12', applicationName: 'shop', environmentName: 'production',
    })).toThrow('centralAccountId="12": must be a 12-digit AWS account id');
  });
});
