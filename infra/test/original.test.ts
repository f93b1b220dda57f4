/**
 * The construct's original interface: the integration example of docs/construct.md synthesizes,
 * the nested thresholds and the topic list map onto today's props, and conflicts between the two
 * forms are refused with a message naming both.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FunctionCode } from '../lib/code';
import { REPO_ROOT } from '../lib/config';
import { FleetOptimizer, FleetOptimizerProps } from '../lib/fleet-optimizer';
import { WebApplicationStack } from '../examples/integration';
import { nagFindings } from './support';

const variables = (template: Template, name: string) => {
  const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: name } }))[0];
  return fn.Properties.Environment.Variables as Record<string, unknown>;
};

describe('the integration example of docs/construct.md', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new WebApplicationStack(app, 'WebApplication', { code: FunctionCode.placeholder() });
  Aspects.of(app).add(new AwsSolutionsChecks());
  const template = Template.fromStack(stack);
  const operations = Object.keys(template.findResources('AWS::SNS::Topic')).find((id) => id.startsWith('Operations'))!;

  test('docs/construct.md quotes it as it is', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'construct.md'), 'utf8');
    const source = fs.readFileSync(path.join(REPO_ROOT, 'infra', 'examples', 'integration.ts'), 'utf8');
    const code = source.slice(source.indexOf('import '));
    expect(doc).toContain(code.trimEnd());
  });

  test('synthesizes: the group targeted by its name, the settings in force, the given topic for every notification, none created', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::Lambda::Function', 3);
    const analyzer = variables(template, 'web-app-production-performance-analyzer');
    expect(analyzer).toMatchObject({
      FLEETOPT_ENVIRONMENT: 'production',
      FLEETOPT_APPLICATION: 'web-app',
      FLEETOPT_TARGET_GROUPS: { Ref: expect.stringMatching(/^WebServers/) },
      FLEETOPT_ANALYSIS_INTERVAL_MINUTES: '60',
      FLEETOPT_CPU_UTILIZATION_TARGET: '70',
      FLEETOPT_MEMORY_UTILIZATION_TARGET: '80',
      FLEETOPT_RESPONSE_TIME_TARGET_MS: '500',
      FLEETOPT_THROUGHPUT_TARGET: '1000',
      FLEETOPT_MAX_HOURLY_COST: '50',
      FLEETOPT_UTILIZATION_THRESHOLD: '60',
      FLEETOPT_METRICS_NAMESPACE: 'WebApp/FleetOptimizer',
      FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN: { Ref: operations },
    });
    expect(variables(template, 'web-app-production-optimization-engine').FLEETOPT_RECOMMENDATION_TOPIC_ARN).toEqual({ Ref: operations });
    expect(variables(template, 'web-app-production-cost-optimizer').FLEETOPT_COST_ALERT_TOPIC_ARN).toEqual({ Ref: operations });
    template.hasResourceProperties('AWS::Events::Rule', { Name: 'web-app-production-analyzer-schedule', ScheduleExpression: 'rate(1 hour)' });
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[]) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: operations }]);
    }
    const policy = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0] as any;
    expect(policy.Properties.Topics).toEqual([{ Ref: operations }]);
    expect(policy.Properties.PolicyDocument.Statement.map((s: any) => s.Sid)).toContain('AlarmsPublish');
  });

  test("the construct's resources pass the AwsSolutions checks (the example's own VPC and group are the application's)", () => {
    const findings = nagFindings(stack);
    // The application's own resources do have findings (a VPC without flow logs, for one): the filter is live.
    expect(findings.some((f) => f.startsWith('/WebApplication/Vpc/'))).toBe(true);
    expect(findings.filter((f) => f.startsWith('/WebApplication/FleetOptimizer/'))).toEqual([]);
  });
});

function synth(props: Partial<FleetOptimizerProps>, build?: (stack: Stack) => Partial<FleetOptimizerProps>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  new FleetOptimizer(stack, 'FleetOptimizer', {
    environmentName: 'staging', applicationName: 'shop', autoScalingGroupNames: ['web'], code: FunctionCode.placeholder(),
    ...props, ...(build ? build(stack) : {}),
  });
  return Template.fromStack(stack);
}

test('the nested thresholds give the same template as the flat overrides', () => {
  const nested = synth({ optimizationConfig: {
    analysisInterval: Duration.minutes(30),
    performanceThresholds: { cpuUtilizationTarget: 65, responseTimeTarget: 800 },
    costThresholds: { maxHourlyCost: 12 },
  } });
  const flat = synth({ optimizationConfig: { analysisInterval: Duration.minutes(30), cpuUtilizationTarget: 65, responseTimeTarget: 800, maxHourlyCost: 12 } });
  expect(nested.toJSON()).toEqual(flat.toJSON());
  expect(variables(nested, 'shop-staging-performance-analyzer')).toMatchObject({
    FLEETOPT_CPU_UTILIZATION_TARGET: '65', FLEETOPT_MEMORY_UTILIZATION_TARGET: '85', FLEETOPT_RESPONSE_TIME_TARGET_MS: '800', FLEETOPT_MAX_HOURLY_COST: '12',
  });
});

describe('validated the same way, conflicts refused', () => {
  test('a nested value out of range is named as written', () => {
    expect(() => synth({ optimizationConfig: { performanceThresholds: { cpuUtilizationTarget: 95 }, costThresholds: { utilizationThreshold: -1 } } }))
      .toThrow(/optimizationConfig\.performanceThresholds\.cpuUtilizationTarget=95: must be between 20 and 90 \(percent\).*optimizationConfig\.costThresholds\.utilizationThreshold=-1: must be between 0 and 100/);
  });

  test('a setting given both flat and nested', () => {
    expect(() => synth({ optimizationConfig: { cpuUtilizationTarget: 70, performanceThresholds: { cpuUtilizationTarget: 60 } } }))
      .toThrow('optimizationConfig.performanceThresholds.cpuUtilizationTarget=60: optimizationConfig.cpuUtilizationTarget=70 is given too: give each setting once, flat or nested');
  });

  test('a field in the wrong group (plain JavaScript callers have no type check)', () => {
    expect(() => synth({ optimizationConfig: { costThresholds: { cpuUtilizationTarget: 60 } as never } }))
      .toThrow('optimizationConfig.costThresholds.cpuUtilizationTarget=60: is not a field of costThresholds (maxHourlyCost, utilizationThreshold)');
  });

  test('three topics are recommendations, performance alerts and cost alerts, in that order', () => {
    const template = synth({}, (stack) => ({
      optimizationNotificationTopics: ['Recs', 'Perf', 'Cost'].map((id) => sns.Topic.fromTopicArn(stack, id, `arn:aws:sns:us-east-1:123456789012:${id}`)),
    }));
    template.resourceCountIs('AWS::SNS::Topic', 0);
    // No topic key: the only keys are the two asymmetric signing keys.
    expect(Object.values(template.findResources('AWS::KMS::Key')).map((k: any) => k.Properties.KeySpec)).toEqual(['ECC_NIST_P256', 'ECC_NIST_P256']);
    expect(variables(template, 'shop-staging-optimization-engine')).toMatchObject({
      FLEETOPT_RECOMMENDATION_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:Recs',
      FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:Perf',
    });
    expect(variables(template, 'shop-staging-cost-optimizer').FLEETOPT_COST_ALERT_TOPIC_ARN).toBe('arn:aws:sns:us-east-1:123456789012:Cost');
  });

  test('two topics, or the list beside a single-topic prop', () => {
    expect(() => synth({}, (stack) => ({
      optimizationNotificationTopics: ['A', 'B'].map((id) => sns.Topic.fromTopicArn(stack, id, `arn:aws:sns:us-east-1:123456789012:${id}`)),
    }))).toThrow('optimizationNotificationTopics=["Test/A","Test/B"]: has 2 topics: give one (it receives every notification) or three');
    expect(() => synth({}, (stack) => ({
      optimizationNotificationTopics: [sns.Topic.fromTopicArn(stack, 'A', 'arn:aws:sns:us-east-1:123456789012:A')],
      costAlertTopic: sns.Topic.fromTopicArn(stack, 'C', 'arn:aws:sns:us-east-1:123456789012:C'),
    }))).toThrow('optimizationNotificationTopics=["Test/A"]: cannot be combined with costAlertTopic: give the topics one way');
  });

  test('an existing group and group names together', () => {
    expect(() => synth({}, (stack) => ({
      autoScalingGroup: require('aws-cdk-lib/aws-autoscaling').AutoScalingGroup.fromAutoScalingGroupName(stack, 'G', 'web'),
    }))).toThrow('give at most one of autoScalingGroup, autoScalingGroupNames and targetTag');
  });
});
