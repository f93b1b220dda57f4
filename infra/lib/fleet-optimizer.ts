/**
 * `FleetOptimizer`: everything one environment needs (docs/construct.md): the recommendations
 * table, the three functions with their triggers, the alarms, the SNS topics, the failure
 * destinations, the dashboard, the two signing keys and least-privilege roles.
 */
import { Annotations, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FleetAlarms } from './alarms';
import { ApprovalSettings, approvalEnvironment, grantApprovers, refuseSigning, signingKey, validateApprovalSettings } from './approvals';
import { ChangeWindow, changeWindowEnvironment, validateChangeWindow } from './change-window';
import { ARCHITECTURE, FunctionCode } from './code';
import { OperatorControls, controlsEnvironment, validateControls } from './controls';
import { RightSizingPreferences, rightSizingEnvironment, validateRightSizing } from './rightsizing';
import {
  COST_OPTIMIZER_INTERVAL, ENGINE_SWEEP_INTERVAL, ENVIRONMENTS, EnvironmentName, FUNCTIONS, FunctionKey,
  APPLICATION_LOG_LEVEL, LOCK_SORT_KEY, LOG_RETENTION_DAYS, LogLevel, METRICS_NAMESPACE, OptimizationConfig, describeProblems, names, optimizationEnvironment,
  preset, tableSchema, validateApplicationName, validateLogLevel, validateMetricsNamespace, validateOptimizationConfig,
} from './config';
import { FleetDashboard } from './dashboard';
import {
  ANALYZER_SHARD_RUN, COST_EXPLORER_READ_ACTIONS, COST_SHARD_RUN, DEFAULT_MEMBER_ROLE_NAME, MemberAccountsProps, PRICE_READ_ACTIONS, ShardRun,
  ShardRunKind, centralRolePath, memberRoleArns, suppressAnyAccountMemberRole, validateMembers,
} from './members';
import { suppressFailureQueue, suppressFunctionRole, suppressScalingPolicy } from './nag';
import { OptimizationConfigProps, flattenOptimizationConfig, notificationTopics } from './original';
import { recommendationsTable } from './table';
import { SCALING_ACTIONS, TargetProps, TargetSelector, scalingStatement, targetEnvironment, targetSelector } from './target';

/**
 * Props of the construct: the original interface (environment, application, the target group,
 * `optimizationConfig` with nested thresholds, `optimizationNotificationTopics`) and today's
 * additions (the code source, dry run, controls, right-sizing, the backtests' saturation bound,
 * the change window, the metrics namespace, the approvers and the engine's approval settings of
 * `ApprovalSettings`).
 */
export interface FleetOptimizerProps extends TargetProps, ApprovalSettings {
  /** `production`, `staging` or `development`: picks the environment's preset (docs/configuration.md). */
  readonly environmentName: EnvironmentName;
  /** Application name (1-32 letters, digits, '-', '_'), used in every resource name. */
  readonly applicationName: string;
  /**
   * Overrides of the environment's preset, field by field, flat or in the original nested form
   * (`performanceThresholds`, `costThresholds`); validated at synth.
   */
  readonly optimizationConfig?: OptimizationConfigProps;
  /** Existing topics; each absent one is created (`<app>-<env>-recommendations` and so on). */
  readonly recommendationTopic?: sns.ITopic;
  readonly performanceAlertTopic?: sns.ITopic;
  readonly costAlertTopic?: sns.ITopic;
  /**
   * The original form of the three above: existing topics used instead of creating any. One topic
   * receives every notification; three are recommendations, performance alerts and cost alerts,
   * in that order. Not combinable with the three single-topic props.
   */
  readonly optimizationNotificationTopics?: sns.ITopic[];
  /**
   * CloudWatch namespace of the functions' own metrics (`FLEETOPT_METRICS_NAMESPACE`); the alarms,
   * the dashboard and the PutMetricData grant follow it. Default `FleetOptimizer`.
   */
  readonly metricsNamespace?: string;
  /**
   * The functions' code. Default: cargo-lambda-cdk builds the arm64 bundles from this repository
   * at synth (`FunctionCode.fromCargo()`); tests pass `FunctionCode.placeholder()`.
   */
  readonly code?: FunctionCode;
  /** The functions' architecture; default arm64 (Graviton). The bundles must be built for it. */
  readonly architecture?: lambda.Architecture;
  /** `FLEETOPT_DRY_RUN`: the functions decide and log everything and change nothing. */
  readonly dryRun?: boolean;
  /**
   * The functions' application log level (Lambda's `AWS_LAMBDA_LOG_LEVEL`): lines below it are
   * not written. Default per environment: DEBUG in development, INFO elsewhere.
   */
  readonly logLevel?: LogLevel;
  /** `FLEETOPT_SCALING_COOLDOWN_SECONDS` of the engine; default the group's DefaultCooldown. */
  readonly scalingCooldown?: Duration;
  /**
   * When the optimization engine may apply approved scale-downs and schedules (SCHEDULED_SCALING):
   * windows that start at each time matching `cron` (five fields, UTC: minute hour day-of-month
   * month day-of-week; day-of-week 0-6 with 0 = Sunday, or SUN-SAT; `*`, lists `a,b`, ranges `a-b`
   * and steps `*\/n` / `a-b/n`) and last `durationMinutes` (1 to 1440). Scale-ups that relieve
   * pressure are exempt; instance type changes are carried out by a person, so no window applies
   * to them. The engine's `FLEETOPT_CHANGE_WINDOW_CRON` and `FLEETOPT_CHANGE_WINDOW_MINUTES`;
   * validated at synth. Default: none (approved changes are applied on the next sweep).
   */
  readonly changeWindow?: ChangeWindow;
  /** Step limits, persistence, anti-churn and minimum savings; each absent one keeps its default. */
  readonly controls?: OperatorControls;
  /**
   * The cost optimizer's right-sizing preferences (percentile, CPU and memory headroom, lookback,
   * preferred and excluded families); each absent one keeps its default. Only the cost optimizer
   * is given them.
   */
  readonly rightSizing?: RightSizingPreferences;
  /**
   * The most hours above 90 % CPU a capacity proposal's backtest may show, percent of the replayed
   * hours (`FLEETOPT_BACKTEST_MAX_SATURATED_PERCENT`, 0 to 100, decimals allowed, default 1): a
   * scale-down, a right-sizing option or a schedule that would have run more of the lookback's
   * hours saturated is not proposed. Only the analyzer and the cost optimizer are given it;
   * validated at synth.
   */
  readonly backtestMaxSaturatedPercent?: number;
  /**
   * Who may approve: each gets `kms:Sign` and `kms:GetPublicKey` on the approvals key and what
   * `fleetopt approve`, `reject`, `snooze`, `done` and `recommendations` call on the table
   * (GetItem, Query, UpdateItem). Default none: nobody is granted approval by the stack, and an
   * account administrator grants it later (docs/construct.md, "Who can approve").
   */
  readonly approvers?: iam.IPrincipal[];
  /**
   * Fleets in other accounts and regions (docs/accounts.md): the analyzer runs over each shard
   * (account x region) every analysisInterval and the cost optimizer daily, each through a Step
   * Functions Distributed Map, and the three functions assume the member role there
   * (`FleetOptimizerMember`). The functions' roles then live under the path
   * `/fleet-optimizer/<app>-<env>/`, which the member role trusts.
   * Default none: the functions' own account and region only.
   */
  readonly members?: MemberAccountsProps;
}

/** The three functions. */
export type FleetFunctions = Record<FunctionKey, lambda.Function>;

export class FleetOptimizer extends Construct {
  /** The configuration in force: the preset with the overrides. */
  public readonly config: OptimizationConfig;
  /** The namespace the functions publish their metrics to. */
  public readonly metricsNamespace: string;
  public readonly target: TargetSelector;
  public readonly table: dynamodb.Table;
  public readonly functions: FleetFunctions;
  public readonly recommendationTopic: sns.ITopic;
  public readonly performanceAlertTopic: sns.ITopic;
  public readonly costAlertTopic: sns.ITopic;
  /** Where failed asynchronous invokes, stream batches and rule deliveries go. */
  public readonly deadLetterQueue: sqs.Queue;
  public readonly alarms: FleetAlarms;
  public readonly dashboard: FleetDashboard;
  /** The key of the topics this construct creates (none when every topic is given). */
  public topicKey?: kms.Key;
  /** The approvals key (`alias/<app>-<env>-approvals`): `kms:Sign` on it is the right to approve. */
  public readonly approvalKey: kms.Key;
  public readonly approvalKeyAlias: kms.Alias;
  /** The findings key (`alias/<app>-<env>-findings`): the analyzer signs its automated scale-ups with it. */
  public readonly findingKey: kms.Key;
  public readonly findingKeyAlias: kms.Alias;
  /** The analyzer's run over the member accounts' shards (every analysisInterval), when `members` is given. */
  public shardRun?: ShardRun;
  /** The cost optimizer's daily run over the member accounts' shards, when `members` is given. */
  public costShardRun?: ShardRun;

  constructor(scope: Construct, id: string, props: FleetOptimizerProps) {
    super(scope, id);
    const where = `FleetOptimizer ${this.node.path}`;
    if (!(ENVIRONMENTS as readonly string[]).includes(props.environmentName)) {
      throw new Error(`${where}: environmentName=${JSON.stringify(props.environmentName)}: must be production, staging or development`);
    }
    const overrides = flattenOptimizationConfig(props.optimizationConfig);
    this.config = { ...preset(props.environmentName), ...overrides.overrides };
    this.metricsNamespace = props.metricsNamespace ?? METRICS_NAMESPACE;
    const given = notificationTopics(props.optimizationNotificationTopics, {
      recommendationTopic: props.recommendationTopic,
      performanceAlertTopic: props.performanceAlertTopic,
      costAlertTopic: props.costAlertTopic,
    });
    const target = targetSelector(props);
    const problems = [
      ...validateApplicationName(props.applicationName),
      ...overrides.problems,
      // A problem with a nested value is named as the user wrote it.
      ...validateOptimizationConfig(this.config).map((p) => ({ ...p, field: overrides.paths[p.field as keyof OptimizationConfig] ?? p.field })),
      ...given.problems,
      ...validateMetricsNamespace(this.metricsNamespace),
      ...validateLogLevel(props.logLevel),
      ...validateControls(props.controls ?? {}),
      ...validateRightSizing(props.rightSizing ?? {}),
      ...validateApprovalSettings(props),
      ...(props.changeWindow !== undefined ? validateChangeWindow(props.changeWindow) : []),
      ...(props.members ? validateMembers(props.members) : []),
      ...(Array.isArray(target) ? target.map((problem) => ({ field: 'target', value: undefined, problem })) : []),
    ];
    if (props.scalingCooldown !== undefined) {
      const s = props.scalingCooldown.toSeconds();
      if (!(Number.isInteger(s) && s >= 0 && s <= 86400)) {
        problems.push({ field: 'scalingCooldown', value: props.scalingCooldown.toString(), problem: 'must be whole seconds from 0 to 86400' });
      }
    }
    const saturated = props.backtestMaxSaturatedPercent;
    if (saturated !== undefined && !(typeof saturated === 'number' && Number.isFinite(saturated) && saturated >= 0 && saturated <= 100)) {
      problems.push({ field: 'backtestMaxSaturatedPercent', value: saturated, problem: 'must be a number from 0 to 100 (percent of the replayed hours)' });
    }
    if (problems.length > 0 || Array.isArray(target)) {
      throw new Error(describeProblems(where, problems));
    }
    this.target = target;

    const stack = Stack.of(this);
    const env = props.environmentName;
    const n = names(props.applicationName, env);
    const production = env === 'production';

    this.table = recommendationsTable(this, 'Recommendations', { tableName: n.table, protect: production });

    // The signing keys. Production keeps them with its table, so the signatures on the items it
    // keeps stay verifiable; elsewhere they go with the stack, as the table does.
    const approvals = signingKey(this, 'ApprovalKey', {
      aliasName: n.approvalKeyAlias,
      description: `fleet-optimizer ${n.prefix} approvals: signing with this key is approving (docs/construct.md)`,
      retain: production,
    });
    this.approvalKey = approvals.key;
    this.approvalKeyAlias = approvals.alias;
    const findings = signingKey(this, 'FindingKey', {
      aliasName: n.findingKeyAlias,
      description: `fleet-optimizer ${n.prefix} findings: the analyzer signs the automated scale-ups it writes`,
      retain: production,
    });
    this.findingKey = findings.key;
    this.findingKeyAlias = findings.alias;

    // Topics: one customer-managed key so that CloudWatch alarms (which cannot use the AWS
    // managed SNS key) can publish to the encrypted topics.
    const topic = (given: sns.ITopic | undefined, id: string, kind: Parameters<typeof n.topic>[0], displayName: string) => {
      if (given) return given;
      this.topicKey ??= this.createTopicKey(stack, n.prefix);
      return new sns.Topic(this, id, { topicName: n.topic(kind), displayName, masterKey: this.topicKey, enforceSSL: true });
    };
    this.recommendationTopic = topic(given.topics.recommendationTopic, 'RecommendationTopic', 'recommendations', 'fleet-optimizer recommendations and approvals');
    this.performanceAlertTopic = topic(given.topics.performanceAlertTopic, 'PerformanceAlertTopic', 'performance-alerts', 'fleet-optimizer performance alerts');
    this.costAlertTopic = topic(given.topics.costAlertTopic, 'CostAlertTopic', 'cost-alerts', 'fleet-optimizer cost alerts');

    this.deadLetterQueue = new sqs.Queue(this, 'FailureQueue', {
      queueName: n.deadLetterQueue,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    suppressFailureQueue(this.deadLetterQueue);

    const common: Record<string, string> = {
      ...(props.members ? { FLEETOPT_MEMBER_ROLE_NAME: props.members.roleName ?? DEFAULT_MEMBER_ROLE_NAME } : {}),
      FLEETOPT_ENVIRONMENT: env,
      FLEETOPT_APPLICATION: props.applicationName,
      FLEETOPT_TABLE: this.table.tableName,
      FLEETOPT_METRICS_NAMESPACE: this.metricsNamespace,
      FLEETOPT_DRY_RUN: String(props.dryRun ?? false),
      ...targetEnvironment(target),
      ...optimizationEnvironment(this.config),
      ...controlsEnvironment(props.controls ?? {}),
    };
    // Each function is told of (and may publish to) the topics it notifies, no others.
    const topicsOf: Record<FunctionKey, Record<string, sns.ITopic>> = {
      analyzer: { FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN: this.performanceAlertTopic },
      engine: {
        FLEETOPT_RECOMMENDATION_TOPIC_ARN: this.recommendationTopic,
        FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN: this.performanceAlertTopic,
      },
      costOptimizer: { FLEETOPT_COST_ALERT_TOPIC_ARN: this.costAlertTopic },
    };
    const code = props.code ?? FunctionCode.fromCargo();
    const make = (key: FunctionKey, id: string, extra: Record<string, string>): lambda.Function => {
      const spec = FUNCTIONS[key];
      const functionName = n.function(key);
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${functionName}: least privilege (docs/construct.md)`,
        // The member accounts' role trusts this path (docs/accounts.md).
        ...(props.members ? { path: centralRolePath(props.applicationName, env) } : {}),
      });
      const logGroup = new logs.LogGroup(this, `${id}Logs`, {
        logGroupName: `/aws/lambda/${functionName}`,
        retention: LOG_RETENTION_DAYS[env] as logs.RetentionDays,
        removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'OwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }));
      const topicEnv = Object.fromEntries(Object.entries(topicsOf[key]).map(([variable, t]) => [variable, t.topicArn]));
      const fn = code.create(this, id, spec.binary, {
        functionName,
        description: spec.description,
        memorySize: spec.memorySize,
        timeout: spec.timeout,
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        applicationLogLevelV2: lambda.ApplicationLogLevel[props.logLevel ?? APPLICATION_LOG_LEVEL[env]],
        systemLogLevelV2: lambda.SystemLogLevel.INFO,
        environment: { ...common, ...topicEnv, ...extra },
        onFailure: new destinations.SqsDestination(this.deadLetterQueue),
        retryAttempts: 2,
      }, props.architecture ?? ARCHITECTURE);
      for (const t of Object.values(topicsOf[key])) t.grantPublish(role);
      suppressFunctionRole(role);
      return fn;
    };
    const cooldown: Record<string, string> = props.scalingCooldown
      ? { FLEETOPT_SCALING_COOLDOWN_SECONDS: String(props.scalingCooldown.toSeconds()) }
      : {};
    // The analyzer signs with the findings key; the engine verifies with both.
    const findingKey = { FLEETOPT_FINDING_KEY: this.findingKey.keyArn };
    // The backtests' bound: the analyzer's scale-downs, the cost optimizer's right-sizing options
    // and schedules. The engine applies proposals and makes none, so it is not told.
    const backtest: Record<string, string> = saturated !== undefined
      ? { FLEETOPT_BACKTEST_MAX_SATURATED_PERCENT: String(saturated) }
      : {};
    this.functions = {
      analyzer: make('analyzer', 'Analyzer', { ...findingKey, ...backtest }),
      engine: make('engine', 'Engine', {
        ...cooldown,
        ...changeWindowEnvironment(props.changeWindow),
        ...approvalEnvironment(props),
        FLEETOPT_APPROVAL_KEY: this.approvalKey.keyArn,
        ...findingKey,
      }),
      costOptimizer: make('costOptimizer', 'CostOptimizer', { ...rightSizingEnvironment(props.rightSizing ?? {}), ...backtest }),
    };
    this.grantLeastPrivilege(stack, target);
    if (props.members) {
      // The analyzer and the cost optimizer read a shard and the engine scales it through the
      // member role, and may assume no other role.
      const assume = new iam.PolicyStatement({
        sid: 'AssumeMemberRole', actions: ['sts:AssumeRole'], resources: memberRoleArns(stack, props.members),
      });
      for (const fn of [this.functions.analyzer, this.functions.engine, this.functions.costOptimizer]) {
        fn.addToRolePolicy(assume);
        if (props.members.organization) suppressAnyAccountMemberRole(fn.role!, props.members.roleName ?? DEFAULT_MEMBER_ROLE_NAME);
      }
    }
    // The key policies refuse kms:Sign to every function on the approvals key and to all but the
    // analyzer on the findings key, whatever IAM policies their roles are given later.
    const roles = (...fns: lambda.Function[]) => fns.map((fn) => fn.role!);
    const { analyzer, engine, costOptimizer } = this.functions;
    refuseSigning(this.approvalKey, 'NoFunctionApproves', roles(analyzer, engine, costOptimizer));
    refuseSigning(this.findingKey, 'OnlyTheAnalyzerSigns', roles(engine, costOptimizer));
    grantApprovers(props.approvers ?? [], this.approvalKey, this.table, {
      own: this.tableArns(),
      named: this.tableArns(stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: n.table })),
    });

    // The engine reads the table's stream: partial batch failures, bisection, bounded retries,
    // and the batches that still fail kept in the failure queue. Lambda drops the records of the
    // engine's per-group lock items (sort key LOCK_SORT_KEY) before invoking it: they are not
    // recommendations. Every other record, REMOVE (TTL) included, reaches the engine as before.
    this.functions.engine.addEventSource(new DynamoEventSource(this.table, {
      filters: [lambda.FilterCriteria.filter({
        dynamodb: { Keys: { [tableSchema().sortKey]: { S: lambda.FilterRule.notEquals(LOCK_SORT_KEY) } } },
      })],
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 25,
      maxBatchingWindow: Duration.seconds(5),
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: 3,
      maxRecordAge: Duration.hours(1),
      onFailure: new SqsDlq(this.deadLetterQueue),
    }));

    // Schedules.
    const ruleTarget = (fn: lambda.IFunction, input?: events.RuleTargetInput) => new targets.LambdaFunction(fn, {
      event: input,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });
    new events.Rule(this, 'AnalyzerSchedule', {
      ruleName: `${n.prefix}-analyzer-schedule`,
      description: `Runs the analyzer every analysisInterval (${this.config.analysisInterval.toMinutes()} minutes)`,
      schedule: events.Schedule.rate(this.config.analysisInterval),
      enabled: this.config.enablePerformanceMonitoring,
      targets: [ruleTarget(this.functions.analyzer)],
    });
    // With members, each scheduled function also runs over the member accounts' shards, beside
    // its direct invocation (which works in the central account and region).
    const shardRun = (members: MemberAccountsProps, id: string, run: ShardRunKind, fn: lambda.IFunction, alertTopic: sns.ITopic, schedule: {
      ruleId: string; ruleName: string; description: string; interval: Duration; enabled: boolean;
    }): ShardRun => {
      const shards = new ShardRun(this, id, {
        members,
        run,
        function: fn,
        alertTopic,
        metricsNamespace: this.metricsNamespace,
        environmentName: env,
        prefix: n.prefix,
        removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      new events.Rule(this, schedule.ruleId, {
        ruleName: schedule.ruleName,
        description: schedule.description,
        schedule: events.Schedule.rate(schedule.interval),
        enabled: schedule.enabled,
        targets: [new targets.SfnStateMachine(shards.stateMachine, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        })],
      });
      return shards;
    };
    if (props.members) {
      this.shardRun = shardRun(props.members, 'ShardRun', ANALYZER_SHARD_RUN, this.functions.analyzer, this.performanceAlertTopic, {
        ruleId: 'ShardSchedule',
        ruleName: `${n.prefix}-shard-schedule`,
        description: `Runs the analyzer over the member accounts' shards every analysisInterval (${this.config.analysisInterval.toMinutes()} minutes)`,
        interval: this.config.analysisInterval,
        enabled: this.config.enablePerformanceMonitoring,
      });
    }
    new events.Rule(this, 'EngineSweep', {
      ruleName: `${n.prefix}-engine-sweep`,
      description: 'The optimization engine sweep: retries, completion checks, rollbacks, expiry',
      schedule: events.Schedule.rate(ENGINE_SWEEP_INTERVAL),
      targets: [ruleTarget(this.functions.engine, events.RuleTargetInput.fromObject({ sweep: true }))],
    });
    new events.Rule(this, 'CostOptimizerSchedule', {
      ruleName: `${n.prefix}-cost-optimizer-schedule`,
      description: 'Runs the cost optimizer daily',
      schedule: events.Schedule.rate(COST_OPTIMIZER_INTERVAL),
      enabled: this.config.enableCostOptimization,
      targets: [ruleTarget(this.functions.costOptimizer, events.RuleTargetInput.fromObject({}))],
    });
    if (props.members) {
      // Its failed shards are reported where the cost optimizer reports: the cost alerts topic.
      this.costShardRun = shardRun(props.members, 'CostShardRun', COST_SHARD_RUN, this.functions.costOptimizer, this.costAlertTopic, {
        ruleId: 'CostShardSchedule',
        ruleName: `${n.prefix}-cost-shard-schedule`,
        description: "Runs the cost optimizer over the member accounts' shards daily",
        interval: COST_OPTIMIZER_INTERVAL,
        enabled: this.config.enableCostOptimization,
      });
    }

    this.alarms = new FleetAlarms(this, 'Alarms', {
      names: n,
      environmentName: env,
      target,
      functions: this.functions,
      alertTopic: this.performanceAlertTopic,
      deadLetterQueue: this.deadLetterQueue,
      metricsNamespace: this.metricsNamespace,
    });
    this.allowAlarmsToPublish(stack, this.performanceAlertTopic, n.prefix);
    // Alarm state changes route to the functions through EventBridge (matched by name prefix,
    // so a rule never depends on an alarm resource).
    new events.Rule(this, 'PerformanceAlarmRule', {
      ruleName: `${n.prefix}-performance-alarms`,
      description: 'High CPU and performance degradation alarms -> the analyzer',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: {
          alarmName: events.Match.anyOf(events.Match.prefix(n.alarmPrefix('high-cpu')), events.Match.prefix(n.alarmPrefix('performance-degradation'))),
          state: { value: ['ALARM'] },
        },
      },
      targets: [ruleTarget(this.functions.analyzer)],
    });
    new events.Rule(this, 'LowCpuAlarmRule', {
      ruleName: `${n.prefix}-low-cpu-alarms`,
      description: 'Low CPU alarms -> the cost optimizer',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { alarmName: events.Match.prefix(n.alarmPrefix('low-cpu')), state: { value: ['ALARM'] } },
      },
      targets: [ruleTarget(this.functions.costOptimizer)],
    });

    this.dashboard = new FleetDashboard(this, 'Dashboard', {
      dashboardName: n.dashboard,
      environmentName: env,
      target,
      config: this.config,
      functions: this.functions,
      metricsNamespace: this.metricsNamespace,
    });
  }

  /**
   * The alarms' ARN pattern: every alarm this construct creates is named `<app>-<env>-...`, so
   * CloudWatch may act for those alarms of this account and region, and no others.
   */
  private static alarmArns(stack: Stack, prefix: string): string {
    return stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${prefix}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  /**
   * Lets CloudWatch publish the alarms' notifications to `topic` (AWS documents the alarm action
   * failing with "not authorized to perform: SNS:Publish" otherwise), for this account's alarms
   * of this environment only. A topic whose policy this stack cannot change (imported by ARN) is
   * reported instead: its owner must allow it.
   */
  private allowAlarmsToPublish(stack: Stack, topic: sns.ITopic, prefix: string): void {
    const { statementAdded } = topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AlarmsPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': FleetOptimizer.alarmArns(stack, prefix) },
      },
    }));
    if (!statementAdded) {
      Annotations.of(this).addWarningV2('fleet-optimizer:alarm-topic-policy',
        `The alarms notify ${topic.node.path}, whose policy this stack cannot change: allow cloudwatch.amazonaws.com ` +
        `sns:Publish on it (and kms:Decrypt, kms:GenerateDataKey* on its key if it is encrypted), or no alarm notification arrives`);
    }
    // A given topic encrypted with a key of this app: CloudWatch needs that key too.
    const key = topic.masterKey;
    if (key && key !== this.topicKey) {
      const { statementAdded: keyAdded } = key.addToResourcePolicy(this.alarmsUseKey(stack, prefix));
      if (!keyAdded) {
        Annotations.of(this).addWarningV2('fleet-optimizer:alarm-topic-key',
          `${topic.node.path} is encrypted with a key whose policy this stack cannot change: allow cloudwatch.amazonaws.com ` +
          'kms:Decrypt and kms:GenerateDataKey* on it, or no alarm notification arrives');
      }
    }
  }

  /** The key statement CloudWatch needs to publish to a topic encrypted with it, for our alarms only. */
  private alarmsUseKey(stack: Stack, prefix: string): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'AlarmsUseKey',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': FleetOptimizer.alarmArns(stack, prefix) },
      },
    });
  }

  /**
   * The key of the topics this construct creates, rotated. Besides the account (whose IAM
   * policies grant the functions' publishing), only CloudWatch may use it, for this environment's
   * alarms: nothing else publishes to the topics (no EventBridge rule targets them).
   */
  private createTopicKey(stack: Stack, prefix: string): kms.Key {
    const key = new kms.Key(this, 'TopicKey', {
      description: 'fleet-optimizer SNS topics',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(this.alarmsUseKey(stack, prefix));
    return key;
  }

  /** The table's ARN and its indexes' (by default the table's own reference). */
  private tableArns(tableArn: string = this.table.tableArn): string[] {
    return [tableArn, ...tableSchema().globalSecondaryIndexes.map((index) => `${tableArn}/index/${index.name}`)];
  }

  /** What each function calls, and nothing else (see shared/aws/src for the calls). */
  private grantLeastPrivilege(stack: Stack, target: TargetSelector): void {
    const tableResources = this.tableArns();
    // The analyzer and the cost optimizer write new recommendations (PutItem) and change them;
    // the engine only reads and changes them (Query, UpdateItem: claims, notes, executions, and
    // its per-group lock items, which UpdateItem creates).
    const table = (actions: string[]) => new iam.PolicyStatement({ sid: 'RecommendationsTable', actions, resources: tableResources });
    const statements = {
      writeTable: table(['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
      changeTable: table(['dynamodb:Query', 'dynamodb:UpdateItem']),
      describeFleet: (extra: string[] = []) => new iam.PolicyStatement({
        sid: 'DescribeFleet',
        actions: ['autoscaling:DescribeAutoScalingGroups', 'elasticloadbalancing:DescribeTargetGroups', ...extra],
        resources: ['*'],
      }),
      readMetrics: new iam.PolicyStatement({ sid: 'ReadMetrics', actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
      publishMetrics: new iam.PolicyStatement({
        sid: 'PublishOwnMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': this.metricsNamespace } },
      }),
    };
    const { analyzer, engine, costOptimizer } = this.functions;
    analyzer.addToRolePolicy(statements.writeTable);
    costOptimizer.addToRolePolicy(statements.writeTable);
    engine.addToRolePolicy(statements.changeTable);
    for (const fn of [analyzer, engine, costOptimizer]) fn.addToRolePolicy(statements.publishMetrics);
    analyzer.addToRolePolicy(statements.describeFleet());
    analyzer.addToRolePolicy(statements.readMetrics);

    // Besides the scaling activities, the groups' scheduled actions (SCHEDULED_SCALING).
    engine.addToRolePolicy(statements.describeFleet(['autoscaling:DescribeScalingActivities', 'autoscaling:DescribeScheduledActions']));
    // The engine reads the group's CPU and the published PerformanceScore after a change to
    // record its outcome.
    engine.addToRolePolicy(statements.readMetrics);
    // Signatures: the analyzer signs its automated scale-ups; the engine verifies those and the
    // approvals, and signs nothing. The cost optimizer uses neither key.
    analyzer.addToRolePolicy(new iam.PolicyStatement({
      sid: 'SignFindings', actions: ['kms:Sign'], resources: [this.findingKey.keyArn],
    }));
    engine.addToRolePolicy(new iam.PolicyStatement({
      sid: 'VerifySignatures',
      actions: ['kms:Verify', 'kms:GetPublicKey'],
      resources: [this.approvalKey.keyArn, this.findingKey.keyArn],
    }));
    // The scaling grant (desired capacity and scheduled actions, SCALING_ACTIONS) in a policy of
    // its own, outside the role's construct tree, so that only its own reasoned cdk-nag
    // suppression covers it (not the role's blanket Resource::* one).
    const scale = scalingStatement(stack, target, SCALING_ACTIONS);
    scale.sid = 'ScaleTargetGroupsOnly';
    const scaling = new iam.Policy(this, 'EngineScalingPolicy', { statements: [scale], roles: [engine.role!] });
    suppressScalingPolicy(scaling, target.kind === 'tag');

    // Besides the groups, their scheduled actions (SCHEDULED_SCALING).
    costOptimizer.addToRolePolicy(statements.describeFleet(['autoscaling:DescribeScheduledActions']));
    costOptimizer.addToRolePolicy(statements.readMetrics);
    // The same reads the member role grants it in a shard (members.ts).
    costOptimizer.addToRolePolicy(new iam.PolicyStatement({ sid: 'CostExplorerRead', actions: COST_EXPLORER_READ_ACTIONS, resources: ['*'] }));
    costOptimizer.addToRolePolicy(new iam.PolicyStatement({ sid: 'Prices', actions: PRICE_READ_ACTIONS, resources: ['*'] }));
  }
}

