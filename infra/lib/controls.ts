import { Duration } from 'aws-cdk-lib';
import { ConfigProblem } from './config';

/**
 * The operator's controls (README "Operator controls"), each optional: an absent one keeps the
 * functions' default, so the defaults live in one place (`shared/config`).
 */
export interface OperatorControls {
  /** `FLEETOPT_MAX_STEP_PERCENT`: one action moves desired capacity by at most this share, 1-100 (default 50). */
  readonly maxStepPercent?: number;
  /** `FLEETOPT_MAX_STEP_INSTANCES`: one action moves desired capacity by at most this many, 1-10000 (default 10). */
  readonly maxStepInstances?: number;
  /**
   * `FLEETOPT_PERSISTENCE_ANALYSES`: consecutive analyses that must find a SCALE_UP before it is
   * applied on its own, 1-24; one count for every priority or one per priority (defaults HIGH 1,
   * MEDIUM 2, LOW 3).
   */
  readonly persistenceAnalyses?: number | { readonly high?: number; readonly medium?: number; readonly low?: number };
  /** `FLEETOPT_CHURN_WINDOW_HOURS`: no reversal of an action applied this recently unless HIGH, whole hours 0-168 (default 6). */
  readonly churnWindow?: Duration;
  /** `FLEETOPT_MIN_MONTHLY_SAVINGS_USD`: no cost recommendation saving less, USD per month, >= 0 (default 5). */
  readonly minMonthlySavingsUsd?: number;
  /** `FLEETOPT_MIN_SAVINGS_PERCENT`: no cost recommendation saving a smaller share of the cost, 0-100 (default 5). */
  readonly minSavingsPercent?: number;
}

const PERSISTENCE_MAX = 24;

const wholeIn = (v: unknown, min: number, max: number): boolean =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Checks the controls with the ranges `shared/config` enforces at start-up; every problem. */
export function validateControls(controls: OperatorControls): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const refuse = (field: string, value: unknown, problem: string) =>
    problems.push({ field: `controls.${field}`, value, problem });
  const { maxStepPercent, maxStepInstances, persistenceAnalyses, churnWindow, minMonthlySavingsUsd, minSavingsPercent } = controls;
  if (maxStepPercent !== undefined && !wholeIn(maxStepPercent, 1, 100)) {
    refuse('maxStepPercent', maxStepPercent, 'must be a whole percent from 1 to 100');
  }
  if (maxStepInstances !== undefined && !wholeIn(maxStepInstances, 1, 10_000)) {
    refuse('maxStepInstances', maxStepInstances, 'must be a whole number of instances from 1 to 10000');
  }
  if (persistenceAnalyses !== undefined) {
    const counts: [string, unknown][] = typeof persistenceAnalyses === 'number'
      ? [['persistenceAnalyses', persistenceAnalyses]]
      : Object.entries(persistenceAnalyses).map(([p, n]) => [`persistenceAnalyses.${p}`, n]);
    if (typeof persistenceAnalyses === 'object') {
      for (const [key, n] of Object.entries(persistenceAnalyses)) {
        if (!['high', 'medium', 'low'].includes(key)) {
          refuse(`persistenceAnalyses.${key}`, n, 'is not a priority: use high, medium or low');
        }
      }
    }
    for (const [field, n] of counts) {
      if (n !== undefined && !wholeIn(n, 1, PERSISTENCE_MAX)) {
        refuse(field, n, `must be a whole count of analyses from 1 to ${PERSISTENCE_MAX}`);
      }
    }
  }
  if (churnWindow !== undefined) {
    let hours = NaN;
    try {
      hours = churnWindow.toHours();
    } catch {
      // Not whole hours: reported below.
    }
    if (!wholeIn(hours, 0, 7 * 24)) {
      refuse('churnWindow', churnWindow.toString(), 'must be whole hours from 0 to 168 (7 days)');
    }
  }
  if (minMonthlySavingsUsd !== undefined && !(Number.isFinite(minMonthlySavingsUsd) && minMonthlySavingsUsd >= 0)) {
    refuse('minMonthlySavingsUsd', minMonthlySavingsUsd, 'must be a number of USD, 0 or more');
  }
  if (minSavingsPercent !== undefined && !(Number.isFinite(minSavingsPercent) && minSavingsPercent >= 0 && minSavingsPercent <= 100)) {
    refuse('minSavingsPercent', minSavingsPercent, 'must be a percent from 0 to 100');
  }
  return problems;
}

/** The functions' environment variables for the controls that are set (validated first). */
export function controlsEnvironment(controls: OperatorControls): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (name: string, value: number | undefined) => {
    if (value !== undefined) env[name] = String(value);
  };
  set('FLEETOPT_MAX_STEP_PERCENT', controls.maxStepPercent);
  set('FLEETOPT_MAX_STEP_INSTANCES', controls.maxStepInstances);
  const p = controls.persistenceAnalyses;
  if (typeof p === 'number') {
    env.FLEETOPT_PERSISTENCE_ANALYSES = String(p);
  } else if (p !== undefined) {
    const parts = (['high', 'medium', 'low'] as const)
      .filter((k) => p[k] !== undefined)
      .map((k) => `${k.toUpperCase()}=${p[k]}`);
    if (parts.length > 0) env.FLEETOPT_PERSISTENCE_ANALYSES = parts.join(',');
  }
  set('FLEETOPT_CHURN_WINDOW_HOURS', controls.churnWindow?.toHours());
  set('FLEETOPT_MIN_MONTHLY_SAVINGS_USD', controls.minMonthlySavingsUsd);
  set('FLEETOPT_MIN_SAVINGS_PERCENT', controls.minSavingsPercent);
  return env;
}
