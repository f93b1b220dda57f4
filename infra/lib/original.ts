/**
 * The construct's original interface (docs/construct.md, "The original props"): the optimization
 * configuration with nested `performanceThresholds` and `costThresholds`, and the notification
 * topics as one list (`optimizationNotificationTopics`). Both are mapped onto today's props here,
 * and a value given both ways is refused rather than silently picked.
 */
import * as sns from 'aws-cdk-lib/aws-sns';
import { ConfigProblem, OptimizationConfig } from './config';

/** The performance targets, as the original `optimizationConfig.performanceThresholds`. */
export interface PerformanceThresholds {
  /** CPU target, percent (20 to 90). */
  readonly cpuUtilizationTarget?: number;
  /** Memory target, percent (20 to 90). */
  readonly memoryUtilizationTarget?: number;
  /** Response time target, milliseconds (> 0). */
  readonly responseTimeTarget?: number;
  /**
   * Requests a minute one instance should serve at most (> 0), counted from the load balancer's
   * RequestCount: above it the analyzer asks for ceil(requests a minute / throughputTarget)
   * instances, within max size, and no scale-in goes below that count.
   */
  readonly throughputTarget?: number;
}

/** The cost limits, as the original `optimizationConfig.costThresholds`. */
export interface CostThresholds {
  /** Hourly run-rate above which a cost alert fires, USD (> 0). */
  readonly maxHourlyCost?: number;
  /**
   * CPU under which a group counts as under-utilized, percent (0 to 100): the analyzer's
   * scale-in and right-sizing's configurations with fewer vCPUs both need it.
   */
  readonly utilizationThreshold?: number;
}

/**
 * `optimizationConfig`: any field of the preset, flat (today's form) or inside
 * `performanceThresholds` / `costThresholds` (the original form). Each absent field keeps the
 * environment's preset.
 */
export interface OptimizationConfigProps extends Partial<OptimizationConfig> {
  readonly performanceThresholds?: PerformanceThresholds;
  readonly costThresholds?: CostThresholds;
}

const NESTED = {
  performanceThresholds: ['cpuUtilizationTarget', 'memoryUtilizationTarget', 'responseTimeTarget', 'throughputTarget'],
  costThresholds: ['maxHourlyCost', 'utilizationThreshold'],
} as const;

/** The flattened overrides, where each came from (for messages), and the conflicts. */
export interface ResolvedOverrides {
  readonly overrides: Partial<OptimizationConfig>;
  /** Field -> the prop path the user wrote (`optimizationConfig.performanceThresholds.cpuUtilizationTarget`). */
  readonly paths: Partial<Record<keyof OptimizationConfig, string>>;
  readonly problems: ConfigProblem[];
}

/** Flattens `optimizationConfig`, refusing a field given both flat and nested. */
export function flattenOptimizationConfig(config: OptimizationConfigProps | undefined): ResolvedOverrides {
  const { performanceThresholds, costThresholds, ...flat } = config ?? {};
  const overrides: Record<string, unknown> = definedOnly(flat);
  const paths: Record<string, string> = {};
  const problems: ConfigProblem[] = [];
  const groups = { performanceThresholds, costThresholds } as Record<keyof typeof NESTED, Record<string, unknown> | undefined>;
  for (const [group, fields] of Object.entries(NESTED) as [keyof typeof NESTED, readonly string[]][]) {
    const nested = groups[group];
    if (nested === undefined) continue;
    for (const [field, value] of Object.entries(nested)) {
      if (value === undefined) continue;
      const path = `optimizationConfig.${group}.${field}`;
      if (!fields.includes(field)) {
        problems.push({ field: path, value, problem: `is not a field of ${group} (${fields.join(', ')})` });
      } else if (field in overrides) {
        problems.push({
          field: path,
          value,
          problem: `optimizationConfig.${field}=${JSON.stringify(overrides[field])} is given too: give each setting once, flat or nested`,
        });
      } else {
        overrides[field] = value;
        paths[field] = path;
      }
    }
  }
  return { overrides: overrides as Partial<OptimizationConfig>, paths, problems };
}

/** The three notification roles, in the order of `optimizationNotificationTopics`. */
export interface NotificationTopics {
  readonly recommendationTopic?: sns.ITopic;
  readonly performanceAlertTopic?: sns.ITopic;
  readonly costAlertTopic?: sns.ITopic;
}

/**
 * `optimizationNotificationTopics`: one topic receives everything (recommendations, performance
 * alerts, cost alerts); three are taken in that order. Either way none is created. Refused beside
 * any of `recommendationTopic`, `performanceAlertTopic` and `costAlertTopic`.
 */
export function notificationTopics(
  list: sns.ITopic[] | undefined,
  single: NotificationTopics,
): { topics: NotificationTopics; problems: ConfigProblem[] } {
  if (list === undefined) return { topics: single, problems: [] };
  const problems: ConfigProblem[] = [];
  const named = (Object.keys(single) as (keyof NotificationTopics)[]).filter((k) => single[k] !== undefined);
  if (named.length > 0) {
    problems.push({
      field: 'optimizationNotificationTopics',
      value: list.map((t) => t.node.path),
      problem: `cannot be combined with ${named.join(', ')}: give the topics one way`,
    });
  }
  if (list.length !== 1 && list.length !== 3) {
    problems.push({
      field: 'optimizationNotificationTopics',
      value: list.map((t) => t.node.path),
      problem: `has ${list.length} topics: give one (it receives every notification) or three (recommendations, performance alerts, cost alerts, in that order)`,
    });
    return { topics: single, problems };
  }
  const [recommendationTopic, performanceAlertTopic, costAlertTopic] = list.length === 1 ? [list[0], list[0], list[0]] : list;
  return { topics: { recommendationTopic, performanceAlertTopic, costAlertTopic }, problems };
}

/** An object with the keys whose value is undefined removed, so they do not hide the preset. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
