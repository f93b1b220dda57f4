/**
 * Every environment's stack, synthesized offline without bundling: the resources, names,
 * environment, schedules and alarm thresholds of docs/configuration.md and docs/construct.md, least privilege,
 * and cdk-nag's AwsSolutions checks with no unsuppressed finding.
 */
import { Template, Match } from 'aws-cdk-lib/assertions';
import { ALARMS, ENVIRONMENTS, EnvironmentName, preset, tableSchema } from '../lib/config';
import { WIDGETS } from '../lib/dashboard';
import { FleetOptimizerStack } from '../lib/app';
import { nagFindings, synthApp } from './support';

const built = synthApp();
const byEnvironment = new Map<EnvironmentName, FleetOptimizerStack>(ENVIRONMENTS.map((e, i) => [e, built.stacks[i]]));

const FUNCTION_SUFFIXES = { analyzer: 'performance-analyzer', engine: 'optimization-engine', costOptimizer: 'cost-optimizer' };

test('the app has a sample stack and one stack per environment, named <application>-fleet-optimizer-<environment>', () => {
  expect(built.sample?.stackName).toBe('app-fleet-optimizer-sample');
  expect(built.stacks.map((s) => s.stackName)).toEqual(ENVIRONMENTS.map((e) => `app-fleet-optimizer-${e}`));
});

test('the sample stack passes the AwsSolutions checks and tags its group for the optimizer', () => {
  expect(nagFindings(built.sample!)).toEqual([]);
  Template.fromStack(built.sample!).hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
    MinSize: '1', MaxSize: '4',
    Tags: Match.arrayWith([Match.objectLike({ Key: 'fleet-optimizer:enabled', Value: 'true' })]),
    MetricsCollection: Match.anyValue(),
  });
});

describe.each(ENVIRONMENTS)('%s', (env) => {
  const stack = byEnvironment.get(env)!;
  const template = Template.fromStack(stack);
  const p = preset(env);
  const prefix = `app-${env}`;
  const functionLogicalId = (suffix: string) => {
    const found = template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: `${prefix}-${suffix}` } });
    expect(Object.keys(found)).toHaveLength(1);
    return Object.keys(found)[0];
  };

  test('cdk-nag AwsSolutions: no unsuppressed finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('the table is built from shared/schema/recommendations-table.json, with PITR, encryption, TTL and the stream', () => {
    const schema = tableSchema();
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: `${prefix}-optimization-recommendations`,
      KeySchema: [
        { AttributeName: schema.partitionKey, KeyType: 'HASH' },
        { AttributeName: schema.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayEquals(schema.attributeDefinitions.map((a) => ({ AttributeName: a.name, AttributeType: a.type }))),
      GlobalSecondaryIndexes: schema.globalSecondaryIndexes.map((g) => ({
        IndexName: g.name,
        KeySchema: [{ AttributeName: g.partitionKey, KeyType: 'HASH' }, { AttributeName: g.sortKey, KeyType: 'RANGE' }],
        Projection: { ProjectionType: g.projection },
      })),
      BillingMode: schema.billingMode,
      TimeToLiveSpecification: { AttributeName: schema.timeToLiveAttribute, Enabled: true },
      StreamSpecification: { StreamViewType: schema.stream },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: env === 'production',
    });
  });

  test('three arm64 provided.al2023 functions named <application>-<environment>-<function>, with their log groups', () => {
    template.resourceCountIs('AWS::Lambda::Function', 3);
    for (const suffix of Object.values(FUNCTION_SUFFIXES)) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `${prefix}-${suffix}`,
        Runtime: 'provided.al2023',
        Architectures: ['arm64'],
        Handler: 'bootstrap',
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/lambda/${prefix}-${suffix}`,
        RetentionInDays: { production: 90, staging: 30, development: 7 }[env],
      });
    }
  });

  test('the functions get the environment of docs/configuration.md: the preset, the table, the group, their topics', () => {
    const expected = {
      FLEETOPT_ENVIRONMENT: env,
      FLEETOPT_APPLICATION: 'app',
      FLEETOPT_TABLE: Match.anyValue(),
      FLEETOPT_TARGET_GROUPS: Match.anyValue(),
      FLEETOPT_METRICS_NAMESPACE: 'FleetOptimizer',
      FLEETOPT_DRY_RUN: 'false',
      FLEETOPT_ENABLE_AUTO_SCALING_OPTIMIZATION: String(p.enableAutoScalingOptimization),
      FLEETOPT_ENABLE_COST_OPTIMIZATION: String(p.enableCostOptimization),
      FLEETOPT_ENABLE_PERFORMANCE_MONITORING: String(p.enablePerformanceMonitoring),
      FLEETOPT_ANALYSIS_INTERVAL_MINUTES: String(p.analysisInterval.toMinutes()),
      FLEETOPT_CPU_UTILIZATION_TARGET: String(p.cpuUtilizationTarget),
      FLEETOPT_MEMORY_UTILIZATION_TARGET: String(p.memoryUtilizationTarget),
      FLEETOPT_RESPONSE_TIME_TARGET_MS: String(p.responseTimeTarget),
      FLEETOPT_THROUGHPUT_TARGET: String(p.throughputTarget),
      FLEETOPT_MAX_HOURLY_COST: String(p.maxHourlyCost),
      FLEETOPT_UTILIZATION_THRESHOLD: String(p.utilizationThreshold),
    };
    const topics = {
      'performance-analyzer': ['FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN'],
      'optimization-engine': ['FLEETOPT_RECOMMENDATION_TOPIC_ARN', 'FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN'],
      'cost-optimizer': ['FLEETOPT_COST_ALERT_TOPIC_ARN'],
    };
    for (const [suffix, variables] of Object.entries(topics)) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `${prefix}-${suffix}`,
        Environment: { Variables: { ...expected, ...Object.fromEntries(variables.map((v) => [v, { Ref: Match.anyValue() }])) } },
      });
    }
  });

  test('schedules: the analyzer every analysisInterval, the engine sweep every 15 minutes, the cost optimizer daily', () => {
    const minutes = p.analysisInterval.toMinutes();
    const rate = minutes % 60 === 0 ? `rate(${minutes / 60} hour${minutes === 60 ? '' : 's'})` : `rate(${minutes} minutes)`;
    const target = (suffix: string, input?: string) => Match.arrayWith([Match.objectLike({
      Arn: { 'Fn::GetAtt': [functionLogicalId(suffix), 'Arn'] },
      ...(input === undefined ? {} : { Input: input }),
      DeadLetterConfig: Match.anyValue(),
      RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
    })]);
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: `${prefix}-analyzer-schedule`, ScheduleExpression: rate, State: 'ENABLED', Targets: target('performance-analyzer'),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: `${prefix}-engine-sweep`, ScheduleExpression: 'rate(15 minutes)', Targets: target('optimization-engine', '{"sweep":true}'),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: `${prefix}-cost-optimizer-schedule`, ScheduleExpression: 'rate(1 day)', Targets: target('cost-optimizer', '{}'),
    });
    expect(rate).toBe({ production: 'rate(1 hour)', staging: 'rate(2 hours)', development: 'rate(4 hours)' }[env]);
  });

  test('alarms: the exact thresholds of docs/construct.md, all notifying the performance-alert topic', () => {
    const alertTopic = Object.keys(template.findResources('AWS::SNS::Topic', { Properties: { TopicName: `${prefix}-performance-alerts` } }))[0];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`${prefix}-high-cpu-`])] }),
      Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Statistic: 'Average',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: Match.anyValue() }],
      Threshold: 85, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 3,
      AlarmActions: [{ Ref: alertTopic }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`${prefix}-low-cpu-`])] }),
      Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Statistic: 'Average',
      Threshold: 20, ComparisonOperator: 'LessThanOrEqualToThreshold', Period: 900, EvaluationPeriods: 4, DatapointsToAlarm: 4,
      AlarmActions: [{ Ref: alertTopic }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`${prefix}-performance-degradation-`])] }),
      Namespace: 'FleetOptimizer', MetricName: 'PerformanceScore', Statistic: 'Average',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: Match.anyValue() }, { Name: 'Environment', Value: env }],
      Threshold: 70, ComparisonOperator: 'LessThanThreshold', Period: 1800, EvaluationPeriods: 2, DatapointsToAlarm: 2,
      TreatMissingData: 'ignore',
      AlarmActions: [{ Ref: alertTopic }],
    });
    for (const suffix of Object.values(FUNCTION_SUFFIXES)) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `${prefix}-${suffix}-errors`,
        Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(suffix) } }],
        Threshold: ALARMS.functionErrors.threshold, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: alertTopic }],
      });
    }
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3 + 3 + 1);
  });

  test('alarm state changes route through EventBridge: high CPU and degradation to the analyzer, low CPU to the cost optimizer', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: `${prefix}-performance-alarms`,
      EventPattern: {
        'source': ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        'detail': { alarmName: [{ prefix: `${prefix}-high-cpu-` }, { prefix: `${prefix}-performance-degradation-` }], state: { value: ['ALARM'] } },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionLogicalId('performance-analyzer'), 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: `${prefix}-low-cpu-alarms`,
      EventPattern: Match.objectLike({ detail: { alarmName: [{ prefix: `${prefix}-low-cpu-` }], state: { value: ['ALARM'] } } }),
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionLogicalId('cost-optimizer'), 'Arn'] } })],
    });
  });

  test("the engine reads the table's stream: partial batch failures, bisection, bounded retries, failures to the queue, no lock items", () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionLogicalId('optimization-engine') },
      EventSourceArn: { 'Fn::GetAtt': [Match.anyValue(), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ dynamodb: { Keys: { timestamp: { S: [{ 'anything-but': ['lock'] }] } } } }) }] },
    });
  });

  test('asynchronous invokes: bounded retries and an encrypted, TLS-only failure queue', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: `${prefix}-fleet-optimizer-failures`, SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 3);
    template.allResourcesProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } },
    });
  });

  // CloudWatch acts for this account's alarms of this environment only (confused deputy).
  const alarmSource = {
    StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:alarm:${prefix}-*`]] } },
  };

  test('three topics, created and encrypted with a rotated key that only the account and the alarms may use', () => {
    for (const kind of ['recommendations', 'performance-alerts', 'cost-alerts']) {
      template.hasResourceProperties('AWS::SNS::Topic', { TopicName: `${prefix}-${kind}`, KmsMasterKeyId: Match.anyValue() });
    }
    // The topic key is the one symmetric key (the two signing keys are asymmetric).
    const keys = Object.values(template.findResources('AWS::KMS::Key')).filter((k: any) => k.Properties.KeySpec === undefined);
    expect(keys).toHaveLength(1);
    expect(keys[0].Properties.EnableKeyRotation).toBe(true);
    const statements: any[] = keys[0].Properties.KeyPolicy.Statement;
    // The account's own statement (IAM policies grant the functions), and CloudWatch's: no other principal.
    expect(statements.map((s) => s.Principal)).toEqual([
      { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
      { Service: 'cloudwatch.amazonaws.com' },
    ]);
    expect(statements[1]).toEqual({
      Sid: 'AlarmsUseKey', Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*', Condition: alarmSource,
    });
    expect(JSON.stringify(keys[0])).not.toContain('events.amazonaws.com');
  });

  test('the topic the alarms notify lets CloudWatch publish, for these alarms only; the other topics do not', () => {
    const alertTopic = Object.keys(template.findResources('AWS::SNS::Topic', { Properties: { TopicName: `${prefix}-performance-alerts` } }))[0];
    const alarmTopics = new Set(Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .flatMap((a: any) => a.Properties.AlarmActions).map((ref: any) => ref.Ref));
    expect([...alarmTopics]).toEqual([alertTopic]);
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy')) as any[];
    const publishers = policies.filter((p) => p.Properties.PolicyDocument.Statement.some((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com'));
    expect(publishers).toHaveLength(1);
    expect(publishers[0].Properties.Topics).toEqual([{ Ref: alertTopic }]);
    expect(publishers[0].Properties.PolicyDocument.Statement).toContainEqual({
      Sid: 'AlarmsPublish', Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish', Resource: { Ref: alertTopic }, Condition: alarmSource,
    });
  });

  test('the dashboard <application>-<environment>-fleet-optimizer has the seven widgets', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard', { Properties: { DashboardName: `${prefix}-fleet-optimizer` } });
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = JSON.stringify(Object.values(dashboards)[0].Properties.DashboardBody);
    for (const title of WIDGETS) expect(body).toContain(JSON.stringify(title).slice(1, -1));
    expect(body.match(/\\"title\\":/g)).toHaveLength(7);
    for (const metric of ['CPUUtilization', 'mem_used_percent', 'PerformanceScore', 'EfficiencyRating', 'CostSavingsPotential',
      'GroupInServiceInstances', 'OptimizationRecommendations', 'RealizedSavings']) {
      expect(body).toContain(metric);
    }
  });

  test('the cost widget shows the savings achieved (RealizedSavings, USD a month) on its right axis', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard', { Properties: { DashboardName: `${prefix}-fleet-optimizer` } });
    const body = JSON.parse(JSON.stringify(Object.values(dashboards)[0].Properties.DashboardBody))['Fn::Join'][1]
      .map((part: unknown) => (typeof part === 'string' ? part : 'X')).join('');
    const widget = JSON.parse(body).widgets.find((w: any) => w.properties.title === WIDGETS[4]);
    const right = widget.properties.metrics.filter((m: any[]) => JSON.stringify(m).includes('RealizedSavings'));
    expect(right.length).toBeGreaterThan(0);
    for (const m of right) expect(m[m.length - 1]).toMatchObject({ yAxis: 'right' });
    // No floor: a change that added cost is negative.
    expect(widget.properties.yAxis.right).toEqual({ label: 'USD a month achieved' });
  });

  // The logical id of the signing key behind alias/<application>-<environment>-<kind>.
  const signingKeyId = (kind: 'approvals' | 'findings'): string => {
    const aliases = Object.values(template.findResources('AWS::KMS::Alias', { Properties: { AliasName: `alias/${prefix}-${kind}` } }));
    expect(aliases).toHaveLength(1);
    return (aliases[0] as any).Properties.TargetKeyId['Fn::GetAtt'][0];
  };

  describe('the signing keys', () => {
    const resources = template.toJSON().Resources;

    test('two asymmetric ECC_NIST_P256 SIGN_VERIFY keys behind their aliases; production keeps them, the others delete them after 7 days', () => {
      const ids = (['approvals', 'findings'] as const).map(signingKeyId);
      expect(new Set(ids).size).toBe(2);
      for (const id of ids) {
        const key = resources[id];
        expect(key.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
        // KMS cannot rotate asymmetric keys (and refuses EnableKeyRotation on one).
        expect(key.Properties.EnableKeyRotation).toBeUndefined();
        expect([key.DeletionPolicy, key.Properties.PendingWindowInDays]).toEqual(env === 'production' ? ['Retain', undefined] : ['Delete', 7]);
      }
    });

    test('each key policy: the account administers; the approvals key refuses kms:Sign to every function, the findings key to all but the analyzer', () => {
      const role = (suffix: string) => Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: `${prefix}-${suffix}` } }))[0].Properties.Role;
      const refused = { approvals: ['performance-analyzer', 'optimization-engine', 'cost-optimizer'], findings: ['optimization-engine', 'cost-optimizer'] };
      for (const [kind, suffixes] of Object.entries(refused)) {
        const statements: any[] = resources[signingKeyId(kind as 'approvals' | 'findings')].Properties.KeyPolicy.Statement;
        expect(statements).toEqual([
          {
            Effect: 'Allow', Action: 'kms:*', Resource: '*',
            Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
          },
          {
            Sid: kind === 'approvals' ? 'NoFunctionApproves' : 'OnlyTheAnalyzerSigns',
            Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Sign', Resource: '*',
            Condition: { ArnEquals: { 'aws:PrincipalArn': expect.arrayContaining(suffixes.map(role)) } },
          },
        ]);
        expect(statements[1].Condition.ArnEquals['aws:PrincipalArn']).toHaveLength(suffixes.length);
      }
    });

    test('the analyzer is told of the findings key, the engine of both, the cost optimizer of neither', () => {
      const variables = (suffix: string) => Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: `${prefix}-${suffix}` } }))[0]
        .Properties.Environment.Variables;
      const arn = (kind: 'approvals' | 'findings') => ({ 'Fn::GetAtt': [signingKeyId(kind), 'Arn'] });
      expect(variables('performance-analyzer').FLEETOPT_FINDING_KEY).toEqual(arn('findings'));
      expect(variables('performance-analyzer').FLEETOPT_APPROVAL_KEY).toBeUndefined();
      expect(variables('optimization-engine')).toMatchObject({ FLEETOPT_APPROVAL_KEY: arn('approvals'), FLEETOPT_FINDING_KEY: arn('findings') });
      expect(Object.keys(variables('cost-optimizer')).filter((name) => name.endsWith('_KEY'))).toEqual([]);
      // The approval settings are left to the engine's defaults unless given.
      for (const name of ['FLEETOPT_APPROVAL_MAX_AGE_HOURS', 'FLEETOPT_MANUAL_APPROVAL_MAX_AGE_DAYS', 'FLEETOPT_IN_PROGRESS_MAX_MINUTES', 'FLEETOPT_ROLLBACK_WORSE']) {
        expect(variables('optimization-engine')[name]).toBeUndefined();
      }
    });

    test('the stack outputs both keys: ARN and alias', () => {
      expect(template.toJSON().Outputs).toMatchObject({
        ApprovalKeyArn: { Value: { 'Fn::GetAtt': [signingKeyId('approvals'), 'Arn'] } },
        ApprovalKeyAlias: { Value: `alias/${prefix}-approvals` },
        FindingKeyArn: { Value: { 'Fn::GetAtt': [signingKeyId('findings'), 'Arn'] } },
        FindingKeyAlias: { Value: `alias/${prefix}-findings` },
      });
    });
  });

  describe('least privilege', () => {
    const statementsOf = (suffix: string): any[] => {
      const fn = template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: `${prefix}-${suffix}` } });
      const role = Object.values(fn)[0].Properties.Role['Fn::GetAtt'][0];
      const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } });
      expect(template.findResources('AWS::IAM::Role', { Properties: { ManagedPolicyArns: Match.anyValue() } })).toEqual({});
      return Object.values(policies).flatMap((policy: any) => policy.Properties.PolicyDocument.Statement);
    };
    const actionsOf = (statements: any[]) => statements.flatMap((s) => [s.Action].flat()).sort();

    test('only the engine may scale and change scheduled actions, only the target group, by its ARN', () => {
      for (const suffix of ['performance-analyzer', 'cost-optimizer']) {
        expect(actionsOf(statementsOf(suffix)).filter((a) => /^autoscaling:(Set|Batch|Put|Delete)/.test(a))).toEqual([]);
      }
      const scale = statementsOf('optimization-engine').filter((s) => [s.Action].flat().some((a: string) => /^autoscaling:(Set|Batch)/.test(a)));
      expect(scale).toHaveLength(1);
      // (The app's cdk.json minimizes policies, which sorts the actions.)
      expect(scale[0].Action).toEqual(['autoscaling:BatchDeleteScheduledAction', 'autoscaling:BatchPutScheduledUpdateGroupAction', 'autoscaling:SetDesiredCapacity']);
      expect(JSON.stringify(scale[0].Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/');
      expect(scale[0].Resource).not.toBe('*');
    });

    test('PutMetricData only in the FleetOptimizer namespace; Cost Explorer read only', () => {
      for (const suffix of Object.values(FUNCTIONS_LIST)) {
        const put = statementsOf(suffix).filter((s) => [s.Action].flat().includes('cloudwatch:PutMetricData'));
        expect(put).toEqual([expect.objectContaining({ Action: 'cloudwatch:PutMetricData', Condition: { StringEquals: { 'cloudwatch:namespace': 'FleetOptimizer' } } })]);
      }
      const ce = actionsOf(statementsOf('cost-optimizer')).filter((a) => a.startsWith('ce:'));
      expect(ce).toEqual(['ce:GetCostAndUsage', 'ce:GetCostForecast', 'ce:GetReservationPurchaseRecommendation', 'ce:GetSavingsPlansPurchaseRecommendation',
        'ce:ListCostAllocationTags']);
      expect(actionsOf(statementsOf('performance-analyzer')).filter((a) => a.startsWith('ce:') || a.startsWith('pricing:'))).toEqual([]);
    });

    test('each function may do what it calls and nothing more', () => {
      const common = ['cloudwatch:PutMetricData', 'dynamodb:Query', 'dynamodb:UpdateItem',
        'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage',
        'sns:Publish', 'kms:Decrypt', 'kms:GenerateDataKey*', 'autoscaling:DescribeAutoScalingGroups', 'elasticloadbalancing:DescribeTargetGroups'];
      const expected: Record<string, string[]> = {
        'performance-analyzer': [...common, 'dynamodb:PutItem', 'cloudwatch:GetMetricData', 'kms:Sign'],
        'optimization-engine': [...common, 'autoscaling:DescribeScalingActivities', 'autoscaling:SetDesiredCapacity',
          'autoscaling:DescribeScheduledActions', 'autoscaling:BatchPutScheduledUpdateGroupAction', 'autoscaling:BatchDeleteScheduledAction',
          'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams',
          'cloudwatch:GetMetricData', 'kms:Verify', 'kms:GetPublicKey'],
        'cost-optimizer': [...common, 'autoscaling:DescribeScheduledActions', 'dynamodb:PutItem', 'cloudwatch:GetMetricData', 'ce:GetCostAndUsage', 'ce:GetCostForecast',
          'ce:GetReservationPurchaseRecommendation', 'ce:GetSavingsPlansPurchaseRecommendation', 'ce:ListCostAllocationTags',
          'pricing:GetProducts', 'ec2:DescribeSpotPriceHistory', 'ec2:DescribeInstanceTypes'],
      };
      for (const [suffix, actions] of Object.entries(expected)) {
        expect([...new Set(actionsOf(statementsOf(suffix)))].sort()).toEqual([...new Set(actions)].sort());
      }
    });

    test('the engine never writes a new item: no dynamodb:PutItem (it only queries and updates conditionally)', () => {
      expect(actionsOf(statementsOf('optimization-engine'))).not.toContain('dynamodb:PutItem');
      for (const suffix of ['performance-analyzer', 'cost-optimizer']) {
        expect(actionsOf(statementsOf(suffix))).toContain('dynamodb:PutItem');
      }
    });

    test('signatures: only the analyzer signs, with the findings key only; the engine verifies both; the cost optimizer uses neither', () => {
      const approvals = signingKeyId('approvals');
      const findings = signingKeyId('findings');
      const keyActions = (suffix: string, key: string) => statementsOf(suffix)
        .filter((s) => JSON.stringify(s.Resource).includes(`"${key}"`))
        .flatMap((s) => [s.Action].flat()).sort();
      expect(keyActions('performance-analyzer', findings)).toEqual(['kms:Sign']);
      expect(keyActions('performance-analyzer', approvals)).toEqual([]);
      for (const key of [approvals, findings]) {
        expect(keyActions('optimization-engine', key)).toEqual(['kms:GetPublicKey', 'kms:Verify']);
        expect(keyActions('cost-optimizer', key)).toEqual([]);
      }
      expect(actionsOf(statementsOf('optimization-engine')).filter((a) => a.startsWith('kms:Sign'))).toEqual([]);
      expect(actionsOf(statementsOf('cost-optimizer')).filter((a) => /^kms:(Sign|Verify|GetPublicKey)/.test(a))).toEqual([]);
      // No policy of the stack allows signing with the approvals key: no approvers are given.
      const allowsSigning = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement)
        .filter((s: any) => s.Effect === 'Allow' && [s.Action].flat().some((a: string) => a === 'kms:Sign' || a === 'kms:*')
          && JSON.stringify(s.Resource).includes(`"${approvals}"`));
      expect(allowsSigning).toEqual([]);
    });

    test('table access is the table and its two indexes, nothing wider', () => {
      for (const suffix of FUNCTIONS_LIST) {
        const table = statementsOf(suffix).find((s) => s.Sid === 'RecommendationsTable');
        expect(table.Resource).toHaveLength(3);
        const text = JSON.stringify(table.Resource);
        expect(text).toContain('/index/TypeIndex');
        expect(text).toContain('/index/PriorityIndex');
        expect(text).not.toContain('*');
      }
    });
  });
});

const FUNCTIONS_LIST = Object.values(FUNCTION_SUFFIXES);
