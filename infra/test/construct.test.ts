/**
 * The construct's props: presets and overrides, refusals at synth with clear messages, the
 * target selectors (names, tag, an IAutoScalingGroup), existing topics, the code sources, the
 * change window, the backtests' bound, the scheduled actions' grants, the approvers and the
 * approval settings.
 */
import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FunctionCode } from '../lib/code';
import { ENVIRONMENTS, preset } from '../lib/config';
import { FleetOptimizer, FleetOptimizerProps } from '../lib/fleet-optimizer';
import { nagFindings } from './support';

function stackWith(props: Partial<FleetOptimizerProps>, build?: (stack: Stack) => Partial<FleetOptimizerProps>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  new FleetOptimizer(stack, 'FleetOptimizer', {
    environmentName: 'production', applicationName: 'shop', autoScalingGroupNames: ['web'],
    code: FunctionCode.placeholder(),
    ...props, ...(build ? build(stack) : {}),
  });
  Aspects.of(app).add(new AwsSolutionsChecks());
  return { stack, template: Template.fromStack(stack) };
}

/** What the engine may change on a targeted group: its desired capacity and its scheduled actions. */
const SCALING = ['autoscaling:SetDesiredCapacity', 'autoscaling:BatchPutScheduledUpdateGroupAction', 'autoscaling:BatchDeleteScheduledAction'];

const variables = (template: Template, suffix: string) => {
  const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: `shop-production-${suffix}` } }))[0];
  return fn.Properties.Environment.Variables as Record<string, unknown>;
};

test('the presets are those of shared/schema/presets.json (docs/configuration.md)', () => {
  expect(ENVIRONMENTS.map((e) => [preset(e).analysisInterval.toMinutes(), preset(e).cpuUtilizationTarget, preset(e).memoryUtilizationTarget,
    preset(e).responseTimeTarget, preset(e).throughputTarget, preset(e).maxHourlyCost, preset(e).utilizationThreshold,
    preset(e).enableAutoScalingOptimization]))
    .toEqual([[60, 70, 80, 500, 1000, 50, 60, true], [120, 75, 85, 1000, 1000, 20, 50, true], [240, 80, 90, 2000, 1000, 10, 40, false]]);
});

test('an override replaces its field only, and reaches the functions and the schedule', () => {
  const { template } = stackWith({ optimizationConfig: { cpuUtilizationTarget: 65, analysisInterval: Duration.minutes(30) } });
  expect(variables(template, 'performance-analyzer')).toMatchObject({
    FLEETOPT_CPU_UTILIZATION_TARGET: '65', FLEETOPT_ANALYSIS_INTERVAL_MINUTES: '30', FLEETOPT_MEMORY_UTILIZATION_TARGET: '80',
  });
  template.hasResourceProperties('AWS::Events::Rule', { Name: 'shop-production-analyzer-schedule', ScheduleExpression: 'rate(30 minutes)' });
});

describe('invalid values are refused at synth with a message naming the field, the value and the range', () => {
  test.each([
    [{ cpuUtilizationTarget: 95 }, 'cpuUtilizationTarget=95: must be between 20 and 90 (percent)'],
    [{ memoryUtilizationTarget: 10 }, 'memoryUtilizationTarget=10: must be between 20 and 90 (percent)'],
    [{ utilizationThreshold: 101 }, 'utilizationThreshold=101: must be between 0 and 100 (percent)'],
    [{ responseTimeTarget: 0 }, 'responseTimeTarget=0: must be a number greater than 0'],
    [{ throughputTarget: -5 }, 'throughputTarget=-5: must be a number greater than 0'],
    [{ maxHourlyCost: Number.NaN }, 'maxHourlyCost=null: must be a number greater than 0'],
    [{ analysisInterval: Duration.hours(25) }, 'analysisInterval="Duration.hours(25)": must be a whole number of minutes from 1 to 1440'],
    [{ analysisInterval: Duration.seconds(90) }, 'analysisInterval="Duration.seconds(90)": must be a whole number of minutes'],
  ])('%j', (override, message) => {
    expect(() => stackWith({ optimizationConfig: override as never })).toThrow(message);
  });

  test('every problem is reported at once', () => {
    expect(() => stackWith({ optimizationConfig: { cpuUtilizationTarget: 10, maxHourlyCost: 0 } }))
      .toThrow(/invalid configuration: cpuUtilizationTarget=10: .*; maxHourlyCost=0: /);
  });

  test('the application and environment names', () => {
    expect(() => stackWith({ applicationName: 'my app' })).toThrow("applicationName=\"my app\": must be 1 to 32 letters, digits, '-' or '_'");
    expect(() => stackWith({ environmentName: 'prod' as never })).toThrow('environmentName="prod": must be production, staging or development');
  });

  test('one target selector at most', () => {
    expect(() => stackWith({ targetTag: { key: 'team', value: 'web' } })).toThrow('give at most one of autoScalingGroup, autoScalingGroupNames and targetTag');
    expect(() => stackWith({ autoScalingGroupNames: [] })).toThrow('autoScalingGroupNames=[]');
  });
});

test('group names: one set of alarms per group, scaling on exactly those groups', () => {
  const { stack, template } = stackWith({ autoScalingGroupNames: ['web', 'api'] });
  expect(variables(template, 'optimization-engine').FLEETOPT_TARGET_GROUPS).toBe('web,api');
  for (const group of ['web', 'api']) {
    for (const kind of ['high-cpu', 'low-cpu', 'performance-degradation']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `shop-production-${kind}-${group}` });
    }
  }
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
      Sid: 'ScaleTargetGroupsOnly',
      Action: SCALING,
      Resource: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':autoscaling:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':autoScalingGroup:*:autoScalingGroupName/web']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':autoscaling:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':autoScalingGroup:*:autoScalingGroupName/api']] },
      ],
    })]) },
  });
  expect(nagFindings(stack)).toEqual([]);
});

test('a tag selector: FLEETOPT_TARGET_TAG, scaling conditioned on the tag, SEARCH on the dashboard, no per-group alarms', () => {
  const { stack, template } = stackWith({ autoScalingGroupNames: undefined, targetTag: { key: 'team', value: 'web' } });
  expect(variables(template, 'performance-analyzer')).toMatchObject({ FLEETOPT_TARGET_TAG: 'team=web' });
  expect(variables(template, 'performance-analyzer').FLEETOPT_TARGET_GROUPS).toBeUndefined();
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
      Sid: 'ScaleTargetGroupsOnly', Action: SCALING, Resource: '*',
      Condition: { StringEquals: { 'autoscaling:ResourceTag/team': 'web' } },
    })]) },
  });
  template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
  const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
  expect(body).toContain('SEARCH(');
  expect(nagFindings(stack)).toEqual([]);
});

test('no selector: the default tag fleet-optimizer:enabled=true', () => {
  const { template } = stackWith({ autoScalingGroupNames: undefined });
  expect(variables(template, 'cost-optimizer')).toMatchObject({ FLEETOPT_TARGET_TAG: 'fleet-optimizer:enabled=true' });
});

test('existing topics are used, not created; absent ones are', () => {
  const { template } = stackWith({}, (stack) => ({
    performanceAlertTopic: sns.Topic.fromTopicArn(stack, 'Existing', 'arn:aws:sns:us-east-1:123456789012:ops-alerts'),
  }));
  template.resourceCountIs('AWS::SNS::Topic', 2);
  expect(variables(template, 'performance-analyzer').FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN).toBe('arn:aws:sns:us-east-1:123456789012:ops-alerts');
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'shop-production-high-cpu-web', AlarmActions: ['arn:aws:sns:us-east-1:123456789012:ops-alerts'] });
});

test('dry run and the engine cooldown reach the functions', () => {
  const { template } = stackWith({ dryRun: true, scalingCooldown: Duration.minutes(10) });
  expect(variables(template, 'optimization-engine')).toMatchObject({ FLEETOPT_DRY_RUN: 'true', FLEETOPT_SCALING_COOLDOWN_SECONDS: '600' });
  expect(variables(template, 'performance-analyzer').FLEETOPT_SCALING_COOLDOWN_SECONDS).toBeUndefined();
});

describe('changeWindow: when the engine may apply approved changes', () => {
  const WINDOW_VARIABLES = ['FLEETOPT_CHANGE_WINDOW_CRON', 'FLEETOPT_CHANGE_WINDOW_MINUTES'];

  test('reaches the engine only, as FLEETOPT_CHANGE_WINDOW_CRON and FLEETOPT_CHANGE_WINDOW_MINUTES', () => {
    const { stack, template } = stackWith({ changeWindow: { cron: '0 22 * * MON-FRI', durationMinutes: 120 } });
    expect(variables(template, 'optimization-engine')).toMatchObject({
      FLEETOPT_CHANGE_WINDOW_CRON: '0 22 * * MON-FRI', FLEETOPT_CHANGE_WINDOW_MINUTES: '120',
    });
    for (const fn of ['performance-analyzer', 'cost-optimizer']) {
      for (const name of WINDOW_VARIABLES) expect(variables(template, fn)[name]).toBeUndefined();
    }
    expect(nagFindings(stack)).toEqual([]);
  });

  test('absent: no function is told of a window (approved changes go on the next sweep)', () => {
    const { template } = stackWith({});
    for (const fn of ['performance-analyzer', 'optimization-engine', 'cost-optimizer']) {
      for (const name of WINDOW_VARIABLES) expect(variables(template, fn)[name]).toBeUndefined();
    }
  });

  test.each([
    ['0 2 * * SUN', 1],
    ['*/15 1-5 1,15 JAN-DEC 0-6', 1440],
    ['30 0-23/2 * * 1-5', 45],
    ['  0   3 * *\tsat  ', 60],
  ])('%j for %i minutes is accepted', (cron, durationMinutes) => {
    const { template } = stackWith({ changeWindow: { cron, durationMinutes } });
    expect(variables(template, 'optimization-engine')).toMatchObject({
      FLEETOPT_CHANGE_WINDOW_CRON: cron, FLEETOPT_CHANGE_WINDOW_MINUTES: String(durationMinutes),
    });
  });

  const FIVE_FIELDS = "must be five whitespace-separated fields, UTC (minute hour day-of-month month day-of-week), each made only of digits, letters (day and month names), '*', ',', '-' and '/'";
  test.each([
    [{ cron: '0 22 * *', durationMinutes: 60 }, `changeWindow.cron="0 22 * *": ${FIVE_FIELDS}; it has 4`],
    [{ cron: '0 22 * * 1 2026', durationMinutes: 60 }, `changeWindow.cron="0 22 * * 1 2026": ${FIVE_FIELDS}; it has 6`],
    [{ cron: '', durationMinutes: 60 }, `changeWindow.cron="": ${FIVE_FIELDS}; it has 0`],
    [{ cron: '0 22;rm * * *', durationMinutes: 60 }, `changeWindow.cron="0 22;rm * * *": ${FIVE_FIELDS}; not so: hour "22;rm"`],
    [{ cron: '0 22 ? * MON#2', durationMinutes: 60 }, `changeWindow.cron="0 22 ? * MON#2": ${FIVE_FIELDS}; not so: day-of-month "?", day-of-week "MON#2"`],
    [{ cron: 22, durationMinutes: 60 }, `changeWindow.cron=22: ${FIVE_FIELDS}`],
    [{ cron: '0 22 * * *', durationMinutes: 0 }, 'changeWindow.durationMinutes=0: must be a whole number of minutes from 1 to 1440 (24 hours)'],
    [{ cron: '0 22 * * *', durationMinutes: 1441 }, 'changeWindow.durationMinutes=1441: must be a whole number of minutes from 1 to 1440 (24 hours)'],
    [{ cron: '0 22 * * *', durationMinutes: 2.5 }, 'changeWindow.durationMinutes=2.5: must be a whole number of minutes from 1 to 1440 (24 hours)'],
    [{ cron: '0 22 * * *', durationMinutes: '60' }, 'changeWindow.durationMinutes="60": must be a whole number of minutes from 1 to 1440 (24 hours)'],
  ])('%j is refused at synth', (changeWindow, message) => {
    expect(() => stackWith({ changeWindow: changeWindow as never })).toThrow(message);
  });

  test('both problems are reported in one message', () => {
    expect(() => stackWith({ changeWindow: { cron: '0 22 * *', durationMinutes: 0 } }))
      .toThrow(/invalid configuration: changeWindow.cron="0 22 \* \*": .*; changeWindow.durationMinutes=0: /);
  });
});

describe('scheduled actions (SCHEDULED_SCALING): the engine changes them with the scoping of SetDesiredCapacity, the cost optimizer only reads them', () => {
  const statementsOf = (template: Template, suffix: string): any[] => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: `shop-production-${suffix}` } }))[0];
    const role = fn.Properties.Role['Fn::GetAtt'][0];
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === role))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  };
  const granting = (statements: any[], action: string) => statements.filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes(action));
  const arn = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':autoscaling:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:autoScalingGroup:*:autoScalingGroupName/${name}`]] });

  test.each([
    ['group names', { autoScalingGroupNames: ['web', 'api'] }, { Resource: [arn('web'), arn('api')] }],
    ['a tag selector', { autoScalingGroupNames: undefined, targetTag: { key: 'team', value: 'web' } },
      { Resource: '*', Condition: { StringEquals: { 'autoscaling:ResourceTag/team': 'web' } } }],
  ])('%s: BatchPut and BatchDelete in the one statement that grants SetDesiredCapacity, nowhere else', (_name, props, scope) => {
    const { stack, template } = stackWith(props);
    const engine = statementsOf(template, 'optimization-engine');
    const scale = granting(engine, 'autoscaling:SetDesiredCapacity');
    expect(scale).toEqual([{ Sid: 'ScaleTargetGroupsOnly', Effect: 'Allow', Action: SCALING, ...scope }]);
    for (const action of ['autoscaling:BatchPutScheduledUpdateGroupAction', 'autoscaling:BatchDeleteScheduledAction']) {
      expect(granting(engine, action)).toEqual(scale);
      // No other function, and no other statement of the stack, may change a scheduled action.
      const everywhere = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      expect(granting(everywhere, action)).toEqual(scale);
    }
    expect(JSON.stringify(template.toJSON())).not.toContain('autoscaling:*');
    expect(nagFindings(stack)).toEqual([]);
  });

  test('DescribeScheduledActions: the engine and the cost optimizer, Resource * beside their other Describe calls; not the analyzer', () => {
    const { template } = stackWith({});
    for (const suffix of ['optimization-engine', 'cost-optimizer']) {
      const describe = granting(statementsOf(template, suffix), 'autoscaling:DescribeScheduledActions');
      expect(describe).toEqual([expect.objectContaining({ Sid: 'DescribeFleet', Resource: '*' })]);
      expect(describe[0].Action).toContain('autoscaling:DescribeAutoScalingGroups');
      expect(describe[0].Condition).toBeUndefined();
    }
    expect(granting(statementsOf(template, 'performance-analyzer'), 'autoscaling:DescribeScheduledActions')).toEqual([]);
    for (const suffix of ['performance-analyzer', 'cost-optimizer']) {
      const writes = statementsOf(template, suffix).flatMap((s) => [s.Action].flat()).filter((a: string) => /^autoscaling:(Set|Batch|Put|Delete)/.test(a));
      expect(writes).toEqual([]);
    }
  });
});

test("each function's application log level follows the environment, or the logLevel prop", () => {
  const levels = (template: Template) => Object.values(template.findResources('AWS::Lambda::Function'))
    .map((fn) => fn.Properties.LoggingConfig);
  for (const config of levels(stackWith({}).template)) {
    expect(config).toEqual({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO', LogGroup: expect.anything() });
  }
  for (const config of levels(stackWith({ environmentName: 'development' }).template)) {
    expect(config.ApplicationLogLevel).toBe('DEBUG');
  }
  const quiet = levels(stackWith({ logLevel: 'ERROR' }).template);
  expect(quiet).toHaveLength(3);
  for (const config of quiet) expect(config.ApplicationLogLevel).toBe('ERROR');
  expect(() => stackWith({ logLevel: 'LOUD' as never })).toThrow(/logLevel.*LOUD.*must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL/);
});

test('operator controls reach every function as FLEETOPT_* variables; absent ones are left to the defaults', () => {
  const { template } = stackWith({
    controls: {
      maxStepPercent: 25,
      maxStepInstances: 4,
      persistenceAnalyses: { medium: 3, low: 4 },
      churnWindow: Duration.hours(12),
      minMonthlySavingsUsd: 20,
      minSavingsPercent: 10,
    },
  });
  for (const fn of ['performance-analyzer', 'optimization-engine', 'cost-optimizer']) {
    expect(variables(template, fn)).toMatchObject({
      FLEETOPT_MAX_STEP_PERCENT: '25',
      FLEETOPT_MAX_STEP_INSTANCES: '4',
      FLEETOPT_PERSISTENCE_ANALYSES: 'MEDIUM=3,LOW=4',
      FLEETOPT_CHURN_WINDOW_HOURS: '12',
      FLEETOPT_MIN_MONTHLY_SAVINGS_USD: '20',
      FLEETOPT_MIN_SAVINGS_PERCENT: '10',
    });
  }
  const plain = variables(stackWith({ controls: { persistenceAnalyses: 2 } }).template, 'optimization-engine');
  expect(plain.FLEETOPT_PERSISTENCE_ANALYSES).toBe('2');
  for (const name of ['FLEETOPT_MAX_STEP_PERCENT', 'FLEETOPT_CHURN_WINDOW_HOURS', 'FLEETOPT_MIN_SAVINGS_PERCENT']) {
    expect(plain[name]).toBeUndefined();
  }
});

test('out-of-range controls are refused at synth, all of them in one message', () => {
  expect(() => stackWith({
    controls: {
      maxStepPercent: 0,
      maxStepInstances: 2.5,
      persistenceAnalyses: { high: 30, urgent: 1 } as never,
      churnWindow: Duration.minutes(90),
      minMonthlySavingsUsd: -1,
      minSavingsPercent: 101,
    },
  })).toThrow(new RegExp([
    'controls.maxStepPercent=0: must be a whole percent from 1 to 100',
    'controls.maxStepInstances=2.5: must be a whole number of instances from 1 to 10000',
    'controls.persistenceAnalyses.urgent=1: is not a priority',
    'controls.persistenceAnalyses.high=30: must be a whole count of analyses from 1 to 24',
    'controls.churnWindow="Duration.minutes\\(90\\)": must be whole hours from 0 to 168',
    'controls.minMonthlySavingsUsd=-1: must be a number of USD, 0 or more',
    'controls.minSavingsPercent=101: must be a percent from 0 to 100',
  ].join('.*')));
});

test('right-sizing preferences reach the cost optimizer only, as FLEETOPT_RIGHTSIZING_* variables; absent ones are left to the defaults', () => {
  const { template } = stackWith({
    rightSizing: {
      cpuPercentile: 'p95',
      cpuHeadroomPercent: 30,
      memoryHeadroomPercent: 10,
      lookbackDays: 32,
      preferredFamilies: ['M7G', 'c7g', 'm7g'],
      excludedFamilies: ['t3'],
    },
  });
  expect(variables(template, 'cost-optimizer')).toMatchObject({
    FLEETOPT_RIGHTSIZING_CPU_PERCENTILE: 'p95',
    FLEETOPT_RIGHTSIZING_CPU_HEADROOM: '30',
    FLEETOPT_RIGHTSIZING_MEMORY_HEADROOM: '10',
    FLEETOPT_RIGHTSIZING_LOOKBACK_DAYS: '32',
    FLEETOPT_RIGHTSIZING_PREFERRED_FAMILIES: 'm7g,c7g',
    FLEETOPT_RIGHTSIZING_EXCLUDED_FAMILIES: 't3',
  });
  for (const fn of ['performance-analyzer', 'optimization-engine']) {
    const names = Object.keys(variables(template, fn));
    expect(names.filter((name) => name.startsWith('FLEETOPT_RIGHTSIZING_'))).toEqual([]);
  }
  // Only what is set is passed; 0 % headroom is a value, an empty family list is none.
  const plain = variables(stackWith({ rightSizing: { cpuHeadroomPercent: 0, preferredFamilies: [] } }).template, 'cost-optimizer');
  expect(plain.FLEETOPT_RIGHTSIZING_CPU_HEADROOM).toBe('0');
  for (const name of ['CPU_PERCENTILE', 'MEMORY_HEADROOM', 'LOOKBACK_DAYS', 'PREFERRED_FAMILIES', 'EXCLUDED_FAMILIES']) {
    expect(plain[`FLEETOPT_RIGHTSIZING_${name}`]).toBeUndefined();
  }
  const none = variables(stackWith({}).template, 'cost-optimizer');
  expect(Object.keys(none).filter((name) => name.startsWith('FLEETOPT_RIGHTSIZING_'))).toEqual([]);
});

test('right-sizing preferences shared/config would refuse are refused at synth, all of them in one message', () => {
  expect(() => stackWith({
    rightSizing: {
      cpuPercentile: 'p99' as never,
      cpuHeadroomPercent: -5,
      memoryHeadroomPercent: 150,
      lookbackDays: 30,
      preferredFamilies: ['m7g.large', 'c7g'],
      excludedFamilies: ['C7G', '7g'],
    },
  })).toThrow(new RegExp([
    'rightSizing.cpuPercentile="p99": must be p90, p95 or p99.5',
    'rightSizing.cpuHeadroomPercent=-5: must be between 0 and 100 \\(percent\\)',
    'rightSizing.memoryHeadroomPercent=150: must be between 0 and 100 \\(percent\\)',
    'rightSizing.lookbackDays=30: must be 14 or 32 \\(days\\)',
    'rightSizing.preferredFamilies="m7g.large": .*is an instance type, not a family',
    'rightSizing.excludedFamilies="7g": .*is not an instance family',
    'rightSizing.excludedFamilies=\\["C7G","7g"\\]: c7g also in preferredFamilies',
  ].join('.*')));
});

describe("backtestMaxSaturatedPercent: the backtests' bound, for the functions that propose capacity", () => {
  const VARIABLE = 'FLEETOPT_BACKTEST_MAX_SATURATED_PERCENT';

  test('reaches the analyzer and the cost optimizer only, as FLEETOPT_BACKTEST_MAX_SATURATED_PERCENT', () => {
    const { stack, template } = stackWith({ backtestMaxSaturatedPercent: 2.5 });
    for (const fn of ['performance-analyzer', 'cost-optimizer']) expect(variables(template, fn)[VARIABLE]).toBe('2.5');
    expect(variables(template, 'optimization-engine')[VARIABLE]).toBeUndefined();
    expect(nagFindings(stack)).toEqual([]);
  });

  test('absent: no function is told of it (the functions keep their default, 1)', () => {
    const { template } = stackWith({});
    for (const fn of ['performance-analyzer', 'optimization-engine', 'cost-optimizer']) {
      expect(variables(template, fn)[VARIABLE]).toBeUndefined();
    }
  });

  test.each([[0, '0'], [100, '100'], [0.25, '0.25']])('%p is accepted', (value, variable) => {
    const { template } = stackWith({ backtestMaxSaturatedPercent: value });
    for (const fn of ['performance-analyzer', 'cost-optimizer']) expect(variables(template, fn)[VARIABLE]).toBe(variable);
  });

  const RANGE = 'must be a number from 0 to 100 (percent of the replayed hours)';
  test.each([
    [-1, `backtestMaxSaturatedPercent=-1: ${RANGE}`],
    [100.5, `backtestMaxSaturatedPercent=100.5: ${RANGE}`],
    [Number.NaN, `backtestMaxSaturatedPercent=null: ${RANGE}`],
    [Number.POSITIVE_INFINITY, `backtestMaxSaturatedPercent=null: ${RANGE}`],
    ['1', `backtestMaxSaturatedPercent="1": ${RANGE}`],
  ])('%p is refused at synth', (value, message) => {
    expect(() => stackWith({ backtestMaxSaturatedPercent: value as never })).toThrow(message);
  });

  test('reported with the other problems, in one message', () => {
    expect(() => stackWith({ rightSizing: { cpuHeadroomPercent: -5 }, backtestMaxSaturatedPercent: 101 }))
      .toThrow(/invalid configuration: .*rightSizing.cpuHeadroomPercent=-5: .*; backtestMaxSaturatedPercent=101: must be a number from 0 to 100/);
  });
});

test('prebuilt bundles: each function takes <dir>/<binary>, still arm64 provided.al2023', () => {
  const dir = require('node:fs').mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'bundles-'));
  for (const binary of ['analyzer', 'optimization-engine', 'cost-optimizer']) {
    require('node:fs').mkdirSync(`${dir}/${binary}`);
    require('node:fs').writeFileSync(`${dir}/${binary}/bootstrap`, binary);
  }
  const { template } = stackWith({ code: FunctionCode.fromBundles(dir) });
  const codes = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Code.S3Key);
  expect(new Set(codes).size).toBe(3);
  template.allResourcesProperties('AWS::Lambda::Function', { Runtime: 'provided.al2023', Architectures: ['arm64'] });
});

test("cargo-lambda-cdk's RustFunction (bundling skipped here): one asset per binary, arm64 provided.al2023", () => {
  const { template } = stackWith({ code: FunctionCode.fromCargo() });
  const codes = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Code.S3Key);
  expect(new Set(codes).size).toBe(3);
  template.allResourcesProperties('AWS::Lambda::Function', { Runtime: 'provided.al2023', Architectures: ['arm64'], Handler: 'bootstrap' });
});

test('the architecture follows the bundles: arm64 by default, x86_64 when asked', () => {
  const { template } = stackWith({ architecture: require('aws-cdk-lib/aws-lambda').Architecture.X86_64 });
  template.allResourcesProperties('AWS::Lambda::Function', { Runtime: 'provided.al2023', Architectures: ['x86_64'] });
});

describe('group names with IAM wildcards are refused: they would widen the SetDesiredCapacity grant', () => {
  test.each([['web*'], ['web-?'], ['*']])('%s', (name) => {
    expect(() => stackWith({ autoScalingGroupNames: ['api', name] }))
      .toThrow(`autoScalingGroupNames=["api","${name}"]: ["${name}"]: a group name containing '*' or '?' would widen the engine's SetDesiredCapacity grant`);
  });

  test('an existing group whose name holds one', () => {
    expect(() => stackWith({ autoScalingGroupNames: undefined }, (stack) => ({
      autoScalingGroup: require('aws-cdk-lib/aws-autoscaling').AutoScalingGroup.fromAutoScalingGroupName(stack, 'Wild', 'batch-*'),
    }))).toThrow('autoScalingGroup="batch-*": a group name containing');
  });
});

describe("the engine's scaling grant has a cdk-nag suppression of its own, with its reason", () => {
  const scalingPolicy = (template: Template) => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.PolicyDocument.Statement.some((s: any) => [s.Action].flat().includes('autoscaling:SetDesiredCapacity')));
    expect(policies).toHaveLength(1);
    return policies[0] as any;
  };

  test('a tag selector: the tag-conditioned statement alone in its policy, suppressed for Resource::* with the tag reason', () => {
    const { stack, template } = stackWith({ autoScalingGroupNames: undefined, targetTag: { key: 'team', value: 'web' } });
    const policy = scalingPolicy(template);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([{
      Sid: 'ScaleTargetGroupsOnly', Effect: 'Allow', Action: SCALING, Resource: '*',
      Condition: { StringEquals: { 'autoscaling:ResourceTag/team': 'web' } },
    }]);
    const suppressions = policy.Metadata.cdk_nag.rules_to_suppress;
    expect(suppressions).toEqual([expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] })]);
    expect(suppressions[0].reason).toContain('autoscaling:ResourceTag/<key>');
    // The role's blanket Resource::* suppression does not reach it: the policy is no child of a role.
    const policyPath = stack.node.findAll().find((c) => c.node.id === 'EngineScalingPolicy')!.node.path;
    expect(policyPath).not.toMatch(/Role\//);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('group names: the ARN statement, suppressed for the group ARN pattern only', () => {
    const { stack, template } = stackWith({ autoScalingGroupNames: ['web'] });
    const suppressions = scalingPolicy(template).Metadata.cdk_nag.rules_to_suppress;
    expect(suppressions).toHaveLength(1);
    expect(suppressions[0].applies_to).toEqual([{ regex: expect.stringContaining('autoScalingGroupName') }]);
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('metricsNamespace', () => {
  test('reaches the functions, the PutMetricData grant, the alarms and the dashboard', () => {
    const { template } = stackWith({ metricsNamespace: 'Shop/Fleet' });
    for (const fn of ['performance-analyzer', 'optimization-engine', 'cost-optimizer']) {
      expect(variables(template, fn).FLEETOPT_METRICS_NAMESPACE).toBe('Shop/Fleet');
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: 'cloudwatch:PutMetricData', Condition: { StringEquals: { 'cloudwatch:namespace': 'Shop/Fleet' } },
      })]) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'shop-production-performance-degradation-web', Namespace: 'Shop/Fleet' });
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
    expect(body).toContain('Shop/Fleet');
    expect(body).not.toContain('FleetOptimizer,');
  });

  test.each([['AWS/EC2'], [''], ['has space'], ['x'.repeat(256)]])('%j is refused', (namespace) => {
    expect(() => stackWith({ metricsNamespace: namespace })).toThrow(`metricsNamespace=${JSON.stringify(namespace)}: must be 1 to 255`);
  });
});

describe('topics an alarm notifies: CloudWatch may publish, for our alarms only', () => {
  test('a given topic of this app gets the statement, and its key too', () => {
    const { template } = stackWith({}, (stack) => {
      const key = new (require('aws-cdk-lib/aws-kms').Key)(stack, 'OpsKey', { enableKeyRotation: true });
      return { performanceAlertTopic: new sns.Topic(stack, 'Ops', { masterKey: key, enforceSSL: true }) };
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: Match.stringLikeRegexp('^Ops') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Sid: 'AlarmsPublish', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': Match.anyValue() } },
      })]) },
    });
    const keys = template.findResources('AWS::KMS::Key');
    const opsKey = Object.entries(keys).find(([id]) => id.startsWith('OpsKey'))![1] as any;
    expect(opsKey.Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
      Sid: 'AlarmsUseKey', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    }));
  });

  test('a topic imported by ARN cannot be changed: a warning says what its owner must allow', () => {
    const { stack } = stackWith({}, (s) => ({
      performanceAlertTopic: sns.Topic.fromTopicArn(s, 'Imported', 'arn:aws:sns:us-east-1:123456789012:ops-alerts'),
    }));
    const warnings = require('aws-cdk-lib/assertions').Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('allow cloudwatch.amazonaws.com sns:Publish'));
    expect(warnings).toHaveLength(1);
  });
});

test('cdk-nag is pinned to one exact 2.x release (docs/construct.md says why)', () => {
  const pkg = JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, '..', 'package.json'), 'utf8'));
  expect(pkg.dependencies['cdk-nag']).toMatch(/^2\.\d+\.\d+$/);
});

describe('the app builds the real bundles unless told to use the placeholder', () => {
  const codeKeys = (context: Record<string, unknown>) => {
    const { stacks } = require('./support').synthApp({ 'fleetopt:environments': 'development', ...context });
    return new Set(Object.values(Template.fromStack(stacks[0]).findResources('AWS::Lambda::Function')).map((f: any) => f.Properties.Code.S3Key));
  };

  test("default: cargo-lambda-cdk's RustFunction, one asset per binary (bundling skipped here)", () => {
    const { codeFromContext } = require('../lib/app');
    const app = new App();
    expect(codeFromContext(app).constructor.name).toBe('CargoCode');
    expect(codeKeys({ 'fleetopt:code': undefined }).size).toBe(3);
  });

  test('-c fleetopt:code=placeholder: the one committed placeholder for all three', () => {
    expect(codeKeys({ 'fleetopt:code': 'placeholder' }).size).toBe(1);
  });

  test('an unknown code source is refused', () => {
    const { codeFromContext } = require('../lib/app');
    expect(() => codeFromContext(new App({ context: { 'fleetopt:code': 'docker' } })))
      .toThrow('context fleetopt:code="docker": must be placeholder, cargo or bundles');
  });
});

describe('approvals: who may approve, and the engine approval settings', () => {
  const engineVariables = (template: Template) => variables(template, 'optimization-engine');
  const keyOf = (template: Template, kind: 'approvals' | 'findings') => {
    const alias = Object.values(template.findResources('AWS::KMS::Alias', { Properties: { AliasName: `alias/shop-production-${kind}` } }))[0] as any;
    return alias.Properties.TargetKeyId['Fn::GetAtt'][0] as string;
  };
  // Every IAM statement of the stack that allows kms:Sign on the approvals key, with the roles,
  // users and groups its policy is attached to.
  const signersByIam = (template: Template) => {
    const key = keyOf(template, 'approvals');
    return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy: any) => policy.Properties.PolicyDocument.Statement
      .filter((s: any) => s.Effect === 'Allow' && [s.Action].flat().includes('kms:Sign') && JSON.stringify(s.Resource).includes(`"${key}"`))
      .map(() => ({ roles: policy.Properties.Roles, users: policy.Properties.Users, groups: policy.Properties.Groups })));
  };

  test('by default nobody is granted kms:Sign on the approvals key', () => {
    const { template, stack } = stackWith({});
    expect(signersByIam(template)).toEqual([]);
    const keyPolicy = template.toJSON().Resources[keyOf(template, 'approvals')].Properties.KeyPolicy.Statement;
    expect(keyPolicy.filter((s: any) => s.Effect === 'Allow').map((s: any) => s.Sid)).toEqual([undefined]);
    expect(nagFindings(stack)).toEqual([]);
  });

  test("an approver this stack can change (a role of the app) gets kms:Sign and kms:GetPublicKey and the table, in its own policy", () => {
    const { template, stack } = stackWith({}, (s) => ({
      approvers: [new iam.Role(s, 'Operators', { assumedBy: new iam.AccountRootPrincipal() })],
    }));
    const operators = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('Operators'))!;
    expect(signersByIam(template)).toEqual([{ roles: [{ Ref: operators }], users: undefined, groups: undefined }]);
    const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: operators }] } }))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const table = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0];
    expect(statements).toEqual([
      { Sid: 'ApproveWithKey', Effect: 'Allow', Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: { 'Fn::GetAtt': [keyOf(template, 'approvals'), 'Arn'] } },
      {
        Sid: 'DecideRecommendations', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        Resource: [
          { 'Fn::GetAtt': [table, 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, '/index/TypeIndex']] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, '/index/PriorityIndex']] },
        ],
      },
    ]);
    // Nothing about it in the key's policy or on the table: IAM is enough in the same account.
    expect(JSON.stringify(template.toJSON().Resources[keyOf(template, 'approvals')].Properties.KeyPolicy)).not.toContain('GetPublicKey');
    expect(template.toJSON().Resources[table].Properties.ResourcePolicy).toBeUndefined();
    // Still no function may sign with it, and the findings key is not the approvers'.
    expect(JSON.stringify(statements)).not.toContain(keyOf(template, 'findings'));
    expect(nagFindings(stack)).toEqual([]);
  });

  test('an approver given by ARN is named in the key policy and the table resource policy, with the same actions', () => {
    const arns = ['arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Operators_0123456789abcdef', 'arn:aws:iam::123456789012:user/alice'];
    const { template, stack } = stackWith({ approvers: arns.map((arn) => new iam.ArnPrincipal(arn)) });
    expect(signersByIam(template)).toEqual([]);
    const keyPolicy = template.toJSON().Resources[keyOf(template, 'approvals')].Properties.KeyPolicy.Statement;
    expect(keyPolicy).toContainEqual({
      Sid: 'ApproversSign', Effect: 'Allow', Principal: { AWS: arns }, Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: '*',
    });
    const tableArn = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:table/shop-production-optimization-recommendations${suffix}`]] });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      ResourcePolicy: { PolicyDocument: { Statement: [{
        Sid: 'ApproversDecide', Effect: 'Allow', Principal: { AWS: arns }, Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        Resource: [tableArn(''), tableArn('/index/TypeIndex'), tableArn('/index/PriorityIndex')],
      }] } },
    });
    // The findings key's policy names no approver.
    expect(JSON.stringify(template.toJSON().Resources[keyOf(template, 'findings')].Properties.KeyPolicy)).not.toContain('123456789012');
    expect(nagFindings(stack)).toEqual([]);
  });

  test('the approval settings reach the engine only, as whole hours, days and minutes; absent ones are left to the defaults', () => {
    const { template } = stackWith({
      approvalMaxAge: Duration.hours(12),
      manualApprovalMaxAge: Duration.days(30),
      inProgressMaxAge: Duration.hours(3),
      rollBackWorseChanges: true,
    });
    expect(engineVariables(template)).toMatchObject({
      FLEETOPT_APPROVAL_MAX_AGE_HOURS: '12',
      FLEETOPT_MANUAL_APPROVAL_MAX_AGE_DAYS: '30',
      FLEETOPT_IN_PROGRESS_MAX_MINUTES: '180',
      FLEETOPT_ROLLBACK_WORSE: 'true',
    });
    const names = ['FLEETOPT_APPROVAL_MAX_AGE_HOURS', 'FLEETOPT_MANUAL_APPROVAL_MAX_AGE_DAYS', 'FLEETOPT_IN_PROGRESS_MAX_MINUTES', 'FLEETOPT_ROLLBACK_WORSE'];
    for (const fn of ['performance-analyzer', 'cost-optimizer']) {
      for (const name of names) expect(variables(template, fn)[name]).toBeUndefined();
    }
    // false is a value, and is passed.
    const some = engineVariables(stackWith({ rollBackWorseChanges: false, approvalMaxAge: Duration.days(7) }).template);
    expect(some).toMatchObject({ FLEETOPT_ROLLBACK_WORSE: 'false', FLEETOPT_APPROVAL_MAX_AGE_HOURS: '168' });
    expect([some.FLEETOPT_MANUAL_APPROVAL_MAX_AGE_DAYS, some.FLEETOPT_IN_PROGRESS_MAX_MINUTES]).toEqual([undefined, undefined]);
  });

  test('the bounds themselves are accepted', () => {
    for (const props of [
      { approvalMaxAge: Duration.hours(1), manualApprovalMaxAge: Duration.days(1), inProgressMaxAge: Duration.minutes(10) },
      { approvalMaxAge: Duration.hours(168), manualApprovalMaxAge: Duration.days(90), inProgressMaxAge: Duration.minutes(1440) },
    ]) {
      expect(() => stackWith(props)).not.toThrow();
    }
  });

  test.each([
    [{ approvalMaxAge: Duration.hours(0) }, 'approvalMaxAge="Duration.hours(0)": must be whole hours from 1 to 168 (7 days)'],
    [{ approvalMaxAge: Duration.hours(169) }, 'approvalMaxAge="Duration.hours(169)": must be whole hours from 1 to 168 (7 days)'],
    [{ approvalMaxAge: Duration.minutes(90) }, 'approvalMaxAge="Duration.minutes(90)": must be whole hours from 1 to 168 (7 days)'],
    [{ manualApprovalMaxAge: Duration.days(91) }, 'manualApprovalMaxAge="Duration.days(91)": must be whole days from 1 to 90'],
    [{ manualApprovalMaxAge: Duration.hours(36) }, 'manualApprovalMaxAge="Duration.hours(36)": must be whole days from 1 to 90'],
    [{ inProgressMaxAge: Duration.minutes(9) }, 'inProgressMaxAge="Duration.minutes(9)": must be whole minutes from 10 to 1440 (24 hours)'],
    [{ inProgressMaxAge: Duration.hours(25) }, 'inProgressMaxAge="Duration.hours(25)": must be whole minutes from 10 to 1440 (24 hours)'],
    [{ inProgressMaxAge: Duration.seconds(630) }, 'inProgressMaxAge="Duration.seconds(630)": must be whole minutes from 10 to 1440 (24 hours)'],
    [{ rollBackWorseChanges: 'yes' }, 'rollBackWorseChanges="yes": must be true or false'],
  ])('%j is refused', (props, message) => {
    expect(() => stackWith(props as never)).toThrow(message);
  });

  test('every out-of-range approval setting is reported in one message', () => {
    expect(() => stackWith({ approvalMaxAge: Duration.days(8), inProgressMaxAge: Duration.minutes(5) }))
      .toThrow(/invalid configuration: approvalMaxAge="Duration.days\(8\)": .*; inProgressMaxAge="Duration.minutes\(5\)": /);
  });
});

describe("the engine's stream filter drops the lock items' records and nothing else", () => {
  // The subset of Lambda's filter pattern syntax the construct uses: nested objects, and a leaf
  // list of exact values or { 'anything-but': [...] }; a pattern matches when every leaf does.
  const matches = (pattern: any, record: any): boolean => Object.entries(pattern).every(([field, rule]) => {
    const value = record?.[field];
    if (!Array.isArray(rule)) return matches(rule, value);
    return value !== undefined && typeof value !== 'object' && rule.some((r: any) =>
      (r !== null && typeof r === 'object' && 'anything-but' in r) ? !r['anything-but'].includes(value) : r === value);
  });
  const { template } = stackWith({});
  const filters: any[] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))[0].Properties.FilterCriteria.Filters;
  const delivered = (record: any) => filters.some((f) => matches(JSON.parse(f.Pattern), record));
  const item = (id: string, timestamp: string, extra: object = {}) => ({ id: { S: id }, timestamp: { S: timestamp }, ...extra });
  const record = (eventName: string, keys: any, images: { NewImage?: any; OldImage?: any }) => ({
    eventName, eventSource: 'aws:dynamodb', dynamodb: { Keys: keys, ...images, SequenceNumber: '1', StreamViewType: 'NEW_AND_OLD_IMAGES' },
  });
  const recommendation = item('rec-1', '2026-12-01T10:00:00Z', { type: { S: 'SCALE_UP' }, status: { S: 'PENDING' } });
  const keys = { id: recommendation.id, timestamp: recommendation.timestamp };
  const lock = item('lock#web', 'lock', { owner: { S: 'engine' } });
  const lockKeys = { id: lock.id, timestamp: lock.timestamp };

  test.each([
    ['a new recommendation', record('INSERT', keys, { NewImage: recommendation })],
    ['a status change', record('MODIFY', keys, { OldImage: recommendation, NewImage: { ...recommendation, status: { S: 'APPROVED' } } })],
    ['a recommendation removed by TTL', record('REMOVE', keys, { OldImage: recommendation })],
    ['an item without a type, which fails alone as before', record('INSERT', { id: { S: 'odd' }, timestamp: { S: '2026-12-01T10:00:00Z' } }, { NewImage: item('odd', '2026-12-01T10:00:00Z') })],
  ])('%s reaches the engine', (_name, r) => {
    expect(delivered(r)).toBe(true);
  });

  test.each([
    ['taken', record('INSERT', lockKeys, { NewImage: lock })],
    ['renewed', record('MODIFY', lockKeys, { OldImage: lock, NewImage: { ...lock, owner: { S: 'sweep' } } })],
    ['removed', record('REMOVE', lockKeys, { OldImage: lock })],
  ])('a lock item %s does not', (_name, r) => {
    expect(delivered(r)).toBe(false);
  });
});

describe('context fleetopt:approvers', () => {
  test('names IAM roles and users by ARN in the approvals key policy and the table policy of every environment', () => {
    const arns = ['arn:aws:iam::123456789012:role/ops', 'arn:aws:iam::123456789012:user/alice'];
    const { stacks } = require('./support').synthApp({ 'fleetopt:approvers': arns.join(', ') });
    expect(stacks).toHaveLength(3);
    for (const s of stacks) {
      const template = Template.fromStack(s);
      const keys = Object.values(template.findResources('AWS::KMS::Key')) as any[];
      const signers = keys.flatMap((k) => k.Properties.KeyPolicy.Statement).filter((st: any) => st.Sid === 'ApproversSign');
      // (The app's cdk.json minimizes policies, which sorts the actions.)
      expect(signers.map((st: any) => [st.Principal, [...st.Action].sort()])).toEqual([[{ AWS: arns }, ['kms:GetPublicKey', 'kms:Sign']]]);
      template.hasResourceProperties('AWS::DynamoDB::Table', { ResourcePolicy: { PolicyDocument: { Statement: [Match.objectLike({ Principal: { AWS: arns } })] } } });
      expect(nagFindings(s)).toEqual([]);
    }
  });

  test.each([['ops'], ['arn:aws:iam::123456789012:group/ops'], ['arn:aws:sts::123456789012:assumed-role/ops/me']])('%j is refused', (arn) => {
    expect(() => require('./support').synthApp({ 'fleetopt:approvers': arn }))
      .toThrow(`context fleetopt:approvers: ${JSON.stringify(arn)} is not an IAM role or user ARN`);
  });
});
