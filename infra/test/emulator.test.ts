/**
 * Deploys the synthesized stacks into the local emulator (moto's CloudFormation behind the
 * project's proxy) and checks what exists, through each service's API: the stacks deploy, not
 * only synthesize. Reuses the emulator scripts/test started (AWS_ENDPOINT_URL); alone, starts
 * one with scripts/emulator and stops it afterwards. Everything happens in an account of its
 * own (STS AssumeRole into a fresh account id), so runs never collide.
 *
 * moto 5.2's CloudFormation skips four of the templates' resource types (see SKIPPED_BY_MOTO);
 * test/emulator_deploy.py reports them and creates the skipped alarms through the CloudWatch API
 * from the template's own properties. It also drops a few properties (a function's
 * Architectures and LoggingConfig, a table's TTL and PITR, a key's KeySpec and KeyUsage, so the
 * signing keys come out symmetric): the template tests pin those. It keeps each key's policy as
 * an object, which breaks DescribeKey: the script writes the policies back as text first.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ENVIRONMENTS, FUNCTIONS, REPO_ROOT, preset, tableSchema } from '../lib/config';
import { WIDGETS } from '../lib/dashboard';
import { INFRA, synthApp, venvPython } from './support';

/** The resource types moto 5.2.5's CloudFormation does not implement (it skips them with a warning). */
const SKIPPED_BY_MOTO = ['AWS::CloudWatch::Alarm', 'AWS::Lambda::EventInvokeConfig', 'AWS::SNS::TopicPolicy', 'AWS::SQS::QueuePolicy'];

const emulator = path.join(REPO_ROOT, 'scripts', 'emulator');
let startedHere = false;
let report: any;

beforeAll(() => {
  let endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) {
    try {
      execFileSync(emulator, ['status'], { stdio: 'ignore' });
    } catch {
      console.warn('infra emulator test: no emulator running (AWS_ENDPOINT_URL unset): starting one with scripts/emulator start');
      execFileSync(emulator, ['start'], { stdio: ['ignore', 'ignore', 'inherit'] });
      startedHere = true;
    }
    endpoint = execFileSync(emulator, ['status'], { encoding: 'utf8' }).trim();
  }
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetopt-emulator-deploy-'));
  try {
    const { sample, stacks } = synthApp({}, outdir);
    const order = [sample!, ...stacks].map((s) => s.stackName);
    const output = execFileSync(venvPython(), [path.join(INFRA, 'test', 'emulator_deploy.py'), '--assembly', outdir, '--endpoint', endpoint, ...order], {
      encoding: 'utf8',
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', PYTHONWARNINGS: 'ignore' },
      maxBuffer: 64 * 1024 * 1024,
    });
    report = JSON.parse(output);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}, 300000);

afterAll(() => {
  if (startedHere) execFileSync(emulator, ['stop'], { stdio: 'inherit' });
});

test('every stack reaches CREATE_COMPLETE, its assets uploaded; moto skips only the types it lacks', () => {
  const stacks = Object.entries(report.stacks) as [string, any][];
  expect(stacks.map(([name]) => name)).toEqual(['app-fleet-optimizer-sample', ...ENVIRONMENTS.map((e) => `app-fleet-optimizer-${e}`)]);
  for (const [name, stack] of stacks) {
    expect([name, stack.status, stack.statusReason]).toEqual([name, 'CREATE_COMPLETE', null]);
    expect(stack.skipped.every((t: string) => SKIPPED_BY_MOTO.includes(t))).toBe(true);
  }
  for (const e of ENVIRONMENTS) {
    const stack = report.stacks[`app-fleet-optimizer-${e}`];
    expect(stack.skipped).toEqual(SKIPPED_BY_MOTO);
    expect(stack.assets.filter((a: string) => a.endsWith('.zip'))).toHaveLength(1);
    // The three keys (topics, approvals, findings) whose policies moto stored as objects and the
    // script wrote back as text (emulator_deploy.py says why).
    expect(stack.keyPoliciesRewritten).toHaveLength(3);
  }
  expect(report.found.autoScalingGroups).toHaveLength(1);
});

describe.each(ENVIRONMENTS)('%s on the emulator', (env) => {
  const prefix = `app-${env}`;

  // moto's CloudFormation drops the table's TimeToLiveSpecification and
  // PointInTimeRecoverySpecification: stacks.test.ts pins both in the template.
  test('the table: keys, GSIs, stream and billing from the schema', () => {
    const schema = tableSchema();
    const table = report.found.tables[`${prefix}-optimization-recommendations`];
    expect(table.KeySchema).toEqual([
      { AttributeName: schema.partitionKey, KeyType: 'HASH' }, { AttributeName: schema.sortKey, KeyType: 'RANGE' },
    ]);
    expect(table.GlobalSecondaryIndexes.map((g: any) => [g.IndexName, g.KeySchema.map((k: any) => k.AttributeName), g.Projection.ProjectionType]).sort())
      .toEqual(schema.globalSecondaryIndexes.map((g) => [g.name, [g.partitionKey, g.sortKey], g.projection]).sort());
    expect(table.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: schema.stream });
    expect(table.BillingModeSummary.BillingMode).toBe(schema.billingMode);
  });

  test('the three functions: names, runtime, architecture, environment, log groups', () => {
    for (const key of ['analyzer', 'engine', 'costOptimizer'] as const) {
      const suffix = FUNCTIONS[key].suffix;
      const fn = report.found.functions[`${prefix}-${suffix}`];
      expect(fn).toBeDefined();
      // moto's CloudFormation passes a function's Description, MemorySize, Timeout, VpcConfig and
      // Environment only, so Architectures reads as its default x86_64 here: stacks.test.ts pins arm64.
      expect([fn.Runtime, fn.Handler, fn.MemorySize, fn.Timeout]).toEqual(['provided.al2023', 'bootstrap', FUNCTIONS[key].memorySize, FUNCTIONS[key].timeout.toSeconds()]);
      expect(fn.Environment.Variables).toMatchObject({
        FLEETOPT_ENVIRONMENT: env,
        FLEETOPT_APPLICATION: 'app',
        FLEETOPT_TABLE: `${prefix}-optimization-recommendations`,
        FLEETOPT_TARGET_GROUPS: report.found.autoScalingGroups[0],
        FLEETOPT_CPU_UTILIZATION_TARGET: String(preset(env).cpuUtilizationTarget),
      });
      expect(report.found.logGroups[`/aws/lambda/${prefix}-${suffix}`].retentionInDays).toBe({ production: 90, staging: 30, development: 7 }[env]);
    }
    const engine = report.found.functions[`${prefix}-optimization-engine`];
    expect(engine.Environment.Variables.FLEETOPT_RECOMMENDATION_TOPIC_ARN).toMatch(new RegExp(`^arn:aws:sns:us-east-1:${report.account}:${prefix}-recommendations$`));
  });

  test("the engine's stream event source, with the filter that drops the lock items' records", () => {
    const table = report.found.tables[`${prefix}-optimization-recommendations`];
    const mapping = report.found.eventSourceMappings.find((m: any) => m.EventSourceArn === table.LatestStreamArn);
    expect(mapping).toBeDefined();
    expect(mapping.FunctionArn).toContain(`${prefix}-optimization-engine`);
    expect(mapping.FilterCriteria.Filters.map((f: any) => JSON.parse(f.Pattern)))
      .toEqual([{ dynamodb: { Keys: { timestamp: { S: [{ 'anything-but': ['lock'] }] } } } }]);
  });

  // moto 5.2.5's CloudFormation creates every AWS::KMS::Key as a symmetric ENCRYPT_DECRYPT key,
  // whatever its KeySpec and KeyUsage: stacks.test.ts pins ECC_NIST_P256 and SIGN_VERIFY.
  test('the signing keys: their aliases, the stack outputs, the functions told of them', () => {
    const outputs = report.stacks[`app-fleet-optimizer-${env}`].outputs;
    const arns: Record<string, string> = {};
    for (const [kind, output] of [['approvals', 'ApprovalKey'], ['findings', 'FindingKey']]) {
      const alias = `alias/${prefix}-${kind}`;
      expect(outputs[`${output}Alias`]).toBe(alias);
      const arn = arns[kind] = outputs[`${output}Arn`];
      const key = report.found.keys[arn];
      expect(key).toBeDefined();
      expect(report.found.aliases[alias]).toBe(key.KeyId);
      expect(key.Description).toMatch(new RegExp(`^fleet-optimizer ${prefix} ${kind}: `));
      expect([key.KeySpec, key.KeyUsage]).toEqual(['SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT']);
    }
    expect(arns.approvals).not.toBe(arns.findings);
    // The deployed key policies refuse kms:Sign to the functions' roles, by their ARNs.
    const role = (suffix: string) => report.found.functions[`${prefix}-${suffix}`].Role;
    const refused = (kind: string) => report.found.keys[arns[kind]].Policy.Statement
      .filter((st: any) => st.Effect === 'Deny' && st.Action === 'kms:Sign')
      .flatMap((st: any) => st.Condition.ArnEquals['aws:PrincipalArn']).sort();
    expect(refused('approvals')).toEqual(['performance-analyzer', 'optimization-engine', 'cost-optimizer'].map(role).sort());
    expect(refused('findings')).toEqual(['optimization-engine', 'cost-optimizer'].map(role).sort());
    expect(refused('approvals')[0]).toMatch(new RegExp(`^arn:aws:iam::${report.account}:role/`));
    const variables = (suffix: string) => report.found.functions[`${prefix}-${suffix}`].Environment.Variables;
    expect(variables('optimization-engine')).toMatchObject({ FLEETOPT_APPROVAL_KEY: arns.approvals, FLEETOPT_FINDING_KEY: arns.findings });
    expect(variables('performance-analyzer').FLEETOPT_FINDING_KEY).toBe(arns.findings);
    expect(variables('performance-analyzer').FLEETOPT_APPROVAL_KEY).toBeUndefined();
    expect(Object.keys(variables('cost-optimizer')).filter((name) => name.endsWith('_KEY'))).toEqual([]);
  });

  test('the schedules and the alarm routes, with their targets', () => {
    const rules = report.found.rules;
    const minutes = preset(env).analysisInterval.toMinutes();
    expect(rules[`${prefix}-analyzer-schedule`].ScheduleExpression).toBe(`rate(${minutes / 60} hour${minutes === 60 ? '' : 's'})`);
    expect(rules[`${prefix}-engine-sweep`].ScheduleExpression).toBe('rate(15 minutes)');
    expect(JSON.parse(rules[`${prefix}-engine-sweep`].Targets[0].Input)).toEqual({ sweep: true });
    expect(rules[`${prefix}-cost-optimizer-schedule`].ScheduleExpression).toBe('rate(1 day)');
    expect(rules[`${prefix}-performance-alarms`].Targets[0].Arn).toContain(`${prefix}-performance-analyzer`);
    expect(rules[`${prefix}-low-cpu-alarms`].Targets[0].Arn).toContain(`${prefix}-cost-optimizer`);
    expect(JSON.parse(rules[`${prefix}-performance-alarms`].EventPattern)['detail-type']).toEqual(['CloudWatch Alarm State Change']);
  });

  test('the alarms (through the API from the template) with their thresholds; the topics; the queue; the dashboard', () => {
    const group = report.found.autoScalingGroups[0];
    const alarms = report.found.alarms;
    const alertTopic = `arn:aws:sns:us-east-1:${report.account}:${prefix}-performance-alerts`;
    const high = alarms[`${prefix}-high-cpu-${group}`];
    expect([high.Threshold, high.ComparisonOperator, high.Period, high.EvaluationPeriods, high.AlarmActions])
      .toEqual([85, 'GreaterThanOrEqualToThreshold', 300, 3, [alertTopic]]);
    const low = alarms[`${prefix}-low-cpu-${group}`];
    expect([low.Threshold, low.ComparisonOperator, low.Period, low.EvaluationPeriods]).toEqual([20, 'LessThanOrEqualToThreshold', 900, 4]);
    const score = alarms[`${prefix}-performance-degradation-${group}`];
    expect([score.Namespace, score.MetricName, score.Threshold, score.ComparisonOperator, score.Period, score.EvaluationPeriods, score.TreatMissingData])
      .toEqual(['FleetOptimizer', 'PerformanceScore', 70, 'LessThanThreshold', 1800, 2, 'ignore']);
    for (const suffix of ['performance-analyzer', 'optimization-engine', 'cost-optimizer']) {
      expect(alarms[`${prefix}-${suffix}-errors`].Dimensions).toEqual([{ Name: 'FunctionName', Value: `${prefix}-${suffix}` }]);
    }
    for (const kind of ['recommendations', 'performance-alerts', 'cost-alerts']) {
      expect(report.found.topics).toContain(`arn:aws:sns:us-east-1:${report.account}:${prefix}-${kind}`);
    }
    expect(report.found.queues.some((q: string) => q.endsWith(`/${prefix}-fleet-optimizer-failures`))).toBe(true);
    const dashboard = report.found.dashboards[`${prefix}-fleet-optimizer`];
    expect(dashboard.widgets.map((w: any) => w.properties.title)).toEqual([...WIDGETS]);
  });
});

describe('with member accounts, on the emulator', () => {
  let members: any;
  beforeAll(() => {
    const endpoint = process.env.AWS_ENDPOINT_URL ?? execFileSync(emulator, ['status'], { encoding: 'utf8' }).trim();
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetopt-emulator-members-'));
    try {
      const { stacks, member } = synthApp({
        'fleetopt:environments': 'production', 'fleetopt:targetGroupNames': 'web',
        'fleetopt:memberAccounts': '111122223333,444455556666', 'fleetopt:memberRegions': 'us-east-1,eu-west-1',
        'fleetopt:centralAccount': '123456789012',
      }, outdir);
      const order = [...stacks, member!].map((s) => s.stackName);
      members = JSON.parse(execFileSync(venvPython(), [path.join(INFRA, 'test', 'emulator_deploy.py'), '--assembly', outdir, '--endpoint', endpoint, ...order], {
        encoding: 'utf8',
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', PYTHONWARNINGS: 'ignore' },
        maxBuffer: 64 * 1024 * 1024,
      }));
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }, 300000);

  test('the central stack with its shard run and the member stack reach CREATE_COMPLETE', () => {
    const stacks = Object.entries(members.stacks) as [string, any][];
    expect(stacks.map(([name, s]) => [name, s.status, s.statusReason])).toEqual([
      ['app-fleet-optimizer-production', 'CREATE_COMPLETE', null],
      ['app-fleet-optimizer-member', 'CREATE_COMPLETE', null],
    ]);
  });

  test.each([
    ['shards', 'AnalyzeShard', 'performance-analyzer', 'shard-schedule', 'rate(1 hour)'],
    ['cost-shards', 'OptimizeShardCosts', 'cost-optimizer', 'cost-shard-schedule', 'rate(1 day)'],
  ])('the %s state machine holds the Distributed Map over the four shards invoking its function, and its schedule starts it', (name, task, fn, ruleName, rate) => {
    const machine = members.found.stateMachines[`app-production-${name}`];
    expect(machine).toBeDefined();
    const asl = JSON.parse(machine.definition);
    expect(asl.States.Shards.Assign.shards).toHaveLength(4);
    expect(asl.States.EachShard.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    expect(asl.States.EachShard.ItemProcessor.States[task].Arguments.FunctionName).toContain(`app-production-${fn}`);
    const rule = members.found.rules[`app-production-${ruleName}`];
    expect(rule.ScheduleExpression).toBe(rate);
    expect(rule.Targets.map((t: any) => t.Arn)).toEqual([machine.stateMachineArn]);
  });

  test('the member role exists, trusting the central function roles\' path; those roles live under it', () => {
    const role = members.found.roles['fleet-optimizer-member'];
    expect(JSON.stringify(role.AssumeRolePolicyDocument)).toContain('arn:aws:iam::123456789012:role/fleet-optimizer/app-production/*');
    const central = Object.values(members.found.roles).filter((r: any) => r.Path === '/fleet-optimizer/app-production/');
    expect(central).toHaveLength(3);
  });
});
