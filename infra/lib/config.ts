/**
 * The one place for fleet-optimizer's names, presets, thresholds and validation (docs/configuration.md and docs/construct.md). The presets and the table come from `shared/schema/`, the files the Rust code
 * reads too; the validation repeats `shared/config` so a bad value fails at synth, not at the
 * function's first cold start.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';

/** The repository root (infra/lib/.. /..). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SCHEMA_DIR = path.join(REPO_ROOT, 'shared', 'schema');

/** The three deployment environments, in the order of docs/configuration.md. */
export const ENVIRONMENTS = ['production', 'staging', 'development'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** The optimization settings of docs/configuration.md. */
export interface OptimizationConfig {
  /** Whether the engine may apply SCALE_UP on its own. */
  readonly enableAutoScalingOptimization: boolean;
  /** Whether the cost optimizer runs its analyses. */
  readonly enableCostOptimization: boolean;
  /** Whether the analyzer scores and publishes. */
  readonly enablePerformanceMonitoring: boolean;
  /** How often the analyzer runs (whole minutes, 1 minute to 24 hours). */
  readonly analysisInterval: Duration;
  /** CPU target, percent (20 to 90). */
  readonly cpuUtilizationTarget: number;
  /** Memory target, percent (20 to 90). */
  readonly memoryUtilizationTarget: number;
  /** Response time target, milliseconds (> 0). */
  readonly responseTimeTarget: number;
  /**
   * Requests a minute one instance should serve at most (> 0), counted from the load balancer's
   * RequestCount: above it the analyzer asks for ceil(requests a minute / throughputTarget)
   * instances, within max size, and no scale-in goes below that count.
   */
  readonly throughputTarget: number;
  /** Hourly run-rate above which a cost alert fires, USD (> 0). */
  readonly maxHourlyCost: number;
  /**
   * CPU under which a group counts as under-utilized, percent (0 to 100): the analyzer's
   * scale-in and right-sizing's configurations with fewer vCPUs both need it.
   */
  readonly utilizationThreshold: number;
}

interface PresetFile {
  enableAutoScalingOptimization: boolean;
  enableCostOptimization: boolean;
  enablePerformanceMonitoring: boolean;
  analysisIntervalMinutes: number;
  cpuUtilizationTarget: number;
  memoryUtilizationTarget: number;
  responseTimeTargetMs: number;
  throughputTarget: number;
  maxHourlyCost: number;
  utilizationThreshold: number;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, file), 'utf8')) as T;
}

/** The preset of docs/configuration.md for `environment`, from `shared/schema/presets.json`. */
export function preset(environment: EnvironmentName): OptimizationConfig {
  const p = readJson<Record<EnvironmentName, PresetFile>>('presets.json')[environment];
  return {
    enableAutoScalingOptimization: p.enableAutoScalingOptimization,
    enableCostOptimization: p.enableCostOptimization,
    enablePerformanceMonitoring: p.enablePerformanceMonitoring,
    analysisInterval: Duration.minutes(p.analysisIntervalMinutes),
    cpuUtilizationTarget: p.cpuUtilizationTarget,
    memoryUtilizationTarget: p.memoryUtilizationTarget,
    responseTimeTarget: p.responseTimeTargetMs,
    throughputTarget: p.throughputTarget,
    maxHourlyCost: p.maxHourlyCost,
    utilizationThreshold: p.utilizationThreshold,
  };
}

/** The recommendations table as `shared/schema/recommendations-table.json` defines it. */
export interface TableSchema {
  readonly nameSuffix: string;
  readonly attributeDefinitions: { name: string; type: 'S' | 'N' | 'B' }[];
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly globalSecondaryIndexes: {
    name: string;
    partitionKey: string;
    sortKey: string;
    projection: 'ALL' | 'KEYS_ONLY';
  }[];
  readonly timeToLiveAttribute: string;
  readonly defaultTtlDays: number;
  readonly stream: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'KEYS_ONLY';
  readonly billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
}

/** The single table schema shared with the Rust code and the emulator scripts. */
export function tableSchema(): TableSchema {
  return readJson<TableSchema>('recommendations-table.json');
}

/** Default CloudWatch namespace of the functions' own metrics (docs/design.md, "What it publishes"). */
export const METRICS_NAMESPACE = 'FleetOptimizer';

/**
 * A namespace for the functions' metrics (`FLEETOPT_METRICS_NAMESPACE`): 1 to 255 of the
 * characters CloudWatch accepts, less the space (so it needs no quoting in a dashboard's SEARCH
 * expression), and not `AWS/`, which CloudWatch reserves (the functions refuse it too).
 */
export function validateMetricsNamespace(namespace: string): ConfigProblem[] {
  return typeof namespace === 'string' && /^[A-Za-z0-9._\-/#:]{1,255}$/.test(namespace) && !namespace.startsWith('AWS/')
    ? []
    : [{ field: 'metricsNamespace', value: namespace, problem: "must be 1 to 255 letters, digits or . _ - / # : and must not start with the reserved 'AWS/'" }];
}

/** The tag selector the functions use when no group is named (docs/configuration.md). */
export const DEFAULT_TARGET_TAG = { key: 'fleet-optimizer:enabled', value: 'true' } as const;

/** The alarms of docs/construct.md: threshold, period and consecutive periods. */
export const ALARMS = {
  /** CPU >= 85 % for 3 consecutive 5-minute periods: the analyzer looks now. */
  highCpu: { threshold: 85, period: Duration.minutes(5), evaluationPeriods: 3 },
  /** CPU <= 20 % for 4 consecutive 15-minute periods: the cost optimizer looks now. */
  lowCpu: { threshold: 20, period: Duration.minutes(15), evaluationPeriods: 4 },
  /** PerformanceScore < 70 for 2 consecutive 30-minute periods (missing data ignored). */
  performanceDegradation: { threshold: 70, period: Duration.minutes(30), evaluationPeriods: 2 },
  /** Any function error in a 5-minute period. */
  functionErrors: { threshold: 1, period: Duration.minutes(5), evaluationPeriods: 1 },
} as const;

/** The engine's sweep (retries, completion checks, rollbacks, expiry). */
export const ENGINE_SWEEP_INTERVAL = Duration.minutes(15);
/**
 * The sort key of the engine's per-group lock items (`id` = `lock#<group>`, `timestamp` = this,
 * no `type`), which it writes into the recommendations table. No recommendation has it (theirs
 * are ISO 8601 times): the engine's stream filter drops exactly these records. It must stay the
 * value the engine writes.
 */
export const LOCK_SORT_KEY = 'lock';
/** The cost optimizer's schedule. */
export const COST_OPTIMIZER_INTERVAL = Duration.days(1);

/** The three functions: name suffix (docs/configuration.md) and Cargo binary. */
export const FUNCTIONS = {
  analyzer: {
    suffix: 'performance-analyzer',
    binary: 'analyzer',
    memorySize: 512,
    timeout: Duration.minutes(5),
    description: 'fleet-optimizer performance analyzer: metrics -> scores -> recommendations',
  },
  engine: {
    suffix: 'optimization-engine',
    binary: 'optimization-engine',
    memorySize: 256,
    timeout: Duration.minutes(2),
    description: 'fleet-optimizer optimization engine: safe scale-ups, approvals, rollback',
  },
  costOptimizer: {
    suffix: 'cost-optimizer',
    binary: 'cost-optimizer',
    memorySize: 512,
    timeout: Duration.minutes(5),
    description: 'fleet-optimizer cost optimizer: Cost Explorer and prices -> cost recommendations',
  },
} as const;
export type FunctionKey = keyof typeof FUNCTIONS;

/** The functions' application log levels. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type LogLevel = typeof LOG_LEVELS[number];

/**
 * The functions' application log level per environment (Lambda's advanced logging controls):
 * Lambda hands it to the function as `AWS_LAMBDA_LOG_LEVEL`, which the functions' logging
 * follows before `RUST_LOG`. Development logs every decision's detail; the others one line per
 * group and per action.
 */
export const APPLICATION_LOG_LEVEL: Record<EnvironmentName, LogLevel> = {
  production: 'INFO',
  staging: 'INFO',
  development: 'DEBUG',
};

/** Refuses a `logLevel` that Lambda's application log levels do not name (for callers without types). */
export function validateLogLevel(level: string | undefined): ConfigProblem[] {
  return level === undefined || (LOG_LEVELS as readonly string[]).includes(level)
    ? []
    : [{ field: 'logLevel', value: level, problem: `must be one of ${LOG_LEVELS.join(', ')}` }];
}

/** Log retention per environment, in days. */
export const LOG_RETENTION_DAYS: Record<EnvironmentName, number> = {
  production: 90,
  staging: 30,
  development: 7,
};

/** Resource names: every physical name the stack sets comes from here. */
export function names(application: string, environment: EnvironmentName) {
  const prefix = `${application}-${environment}`;
  return {
    prefix,
    table: `${prefix}-${tableSchema().nameSuffix}`,
    function: (key: FunctionKey) => `${prefix}-${FUNCTIONS[key].suffix}`,
    dashboard: `${prefix}-fleet-optimizer`,
    /** An alarm about one group; the prefix (without the group) is what EventBridge matches. */
    alarmPrefix: (kind: 'high-cpu' | 'low-cpu' | 'performance-degradation') => `${prefix}-${kind}-`,
    errorsAlarm: (key: FunctionKey) => `${prefix}-${FUNCTIONS[key].suffix}-errors`,
    topic: (kind: 'recommendations' | 'performance-alerts' | 'cost-alerts') => `${prefix}-${kind}`,
    deadLetterQueue: `${prefix}-fleet-optimizer-failures`,
    /** The approvals key's alias: `kms:Sign` on that key is the right to approve. */
    approvalKeyAlias: `alias/${prefix}-approvals`,
    /** The findings key's alias: the analyzer signs the automated scale-ups it writes with it. */
    findingKeyAlias: `alias/${prefix}-findings`,
  };
}

/** A value refused at synth, named as the prop is named. */
export interface ConfigProblem {
  readonly field: string;
  readonly value: unknown;
  readonly problem: string;
}

const UTILIZATION = { min: 20, max: 90 };

/**
 * Checks an optimization configuration as `shared/config` does at start-up: CPU and memory
 * targets 20 to 90, other percentages 0 to 100, every other target > 0, the interval whole minutes
 * from 1 to 1440. Returns every problem.
 */
export function validateOptimizationConfig(config: OptimizationConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const check = (field: keyof OptimizationConfig, value: number, ok: boolean, problem: string) => {
    if (!(typeof value === 'number' && Number.isFinite(value) && ok)) {
      problems.push({ field, value, problem });
    }
  };
  for (const field of ['cpuUtilizationTarget', 'memoryUtilizationTarget'] as const) {
    const v = config[field];
    check(field, v, v >= UTILIZATION.min && v <= UTILIZATION.max,
      `must be between ${UTILIZATION.min} and ${UTILIZATION.max} (percent)`);
  }
  const u = config.utilizationThreshold;
  check('utilizationThreshold', u, u >= 0 && u <= 100, 'must be between 0 and 100 (percent)');
  for (const field of ['responseTimeTarget', 'throughputTarget', 'maxHourlyCost'] as const) {
    check(field, config[field], config[field] > 0, 'must be a number greater than 0');
  }
  let minutes = NaN;
  try {
    minutes = config.analysisInterval.toMinutes();
  } catch {
    // Not a whole number of minutes: reported below.
  }
  if (!(Number.isInteger(minutes) && minutes >= 1 && minutes <= 24 * 60)) {
    problems.push({
      field: 'analysisInterval',
      value: config.analysisInterval.toString(),
      problem: 'must be a whole number of minutes from 1 to 1440 (24 hours)',
    });
  }
  for (const field of [
    'enableAutoScalingOptimization', 'enableCostOptimization', 'enablePerformanceMonitoring',
  ] as const) {
    if (typeof config[field] !== 'boolean') {
      problems.push({ field, value: config[field], problem: 'must be true or false' });
    }
  }
  return problems;
}

/** The application name: it becomes part of function and table names (as `shared/config`). */
export function validateApplicationName(name: string): ConfigProblem[] {
  return /^[A-Za-z0-9_-]{1,32}$/.test(name)
    ? []
    : [{ field: 'applicationName', value: name, problem: "must be 1 to 32 letters, digits, '-' or '_'" }];
}

/** Formats problems as one message naming every field, value and allowed range. */
export function describeProblems(where: string, problems: ConfigProblem[]): string {
  return `${where}: invalid configuration: ` +
    problems.map((p) => `${p.field}=${JSON.stringify(p.value)}: ${p.problem}`).join('; ');
}

/** The environment variables of docs/configuration.md for these settings. */
export function optimizationEnvironment(config: OptimizationConfig): Record<string, string> {
  return {
    FLEETOPT_ENABLE_AUTO_SCALING_OPTIMIZATION: String(config.enableAutoScalingOptimization),
    FLEETOPT_ENABLE_COST_OPTIMIZATION: String(config.enableCostOptimization),
    FLEETOPT_ENABLE_PERFORMANCE_MONITORING: String(config.enablePerformanceMonitoring),
    FLEETOPT_ANALYSIS_INTERVAL_MINUTES: String(config.analysisInterval.toMinutes()),
    FLEETOPT_CPU_UTILIZATION_TARGET: String(config.cpuUtilizationTarget),
    FLEETOPT_MEMORY_UTILIZATION_TARGET: String(config.memoryUtilizationTarget),
    FLEETOPT_RESPONSE_TIME_TARGET_MS: String(config.responseTimeTarget),
    FLEETOPT_THROUGHPUT_TARGET: String(config.throughputTarget),
    FLEETOPT_MAX_HOURLY_COST: String(config.maxHourlyCost),
    FLEETOPT_UTILIZATION_THRESHOLD: String(config.utilizationThreshold),
  };
}
