import { ConfigProblem } from './config';

/** The percentiles of hourly maxima right-sizing may size for. */
export const CPU_PERCENTILES = ['p90', 'p95', 'p99.5'] as const;
export type CpuPercentile = (typeof CPU_PERCENTILES)[number];
/** The lookback periods right-sizing may read, days. */
export const LOOKBACK_DAYS = [14, 32] as const;

/**
 * The cost optimizer's right-sizing preferences (README "Right-sizing"), each optional: an
 * absent one keeps the functions' default, so the defaults live in one place (`shared/config`).
 */
export interface RightSizingPreferences {
  /** `FLEETOPT_RIGHTSIZING_CPU_PERCENTILE`: p90, p95 or p99.5 of hourly maxima (default p99.5). */
  readonly cpuPercentile?: CpuPercentile;
  /** `FLEETOPT_RIGHTSIZING_CPU_HEADROOM`: room kept above projected CPU, percent of it, 0-100 (default 20). */
  readonly cpuHeadroomPercent?: number;
  /** `FLEETOPT_RIGHTSIZING_MEMORY_HEADROOM`: room kept above projected memory, percent of it, 0-100 (default 20). */
  readonly memoryHeadroomPercent?: number;
  /** `FLEETOPT_RIGHTSIZING_LOOKBACK_DAYS`: 14 or 32 days of hourly maxima (default 14). */
  readonly lookbackDays?: number;
  /** `FLEETOPT_RIGHTSIZING_PREFERRED_FAMILIES`: type changes only to these families (`m7g`, `c7g`). */
  readonly preferredFamilies?: readonly string[];
  /** `FLEETOPT_RIGHTSIZING_EXCLUDED_FAMILIES`: type changes never to these families. */
  readonly excludedFamilies?: readonly string[];
}

/** A family's shape, as `InstanceFamily` in `shared/scoring` accepts it (lower case). */
const FAMILY = /^[a-z][a-z0-9-]{0,19}$/;

const familyProblem = (name: string): string | undefined => {
  const family = name.trim().toLowerCase();
  if (family.includes('.')) {
    return `${JSON.stringify(name)} is an instance type, not a family: use the part before the dot (m7g, not m7g.large)`;
  }
  if (!FAMILY.test(family) || !/[0-9]/.test(family)) {
    return `${JSON.stringify(name)} is not an instance family (a letter, then letters, digits or '-', with a generation digit, at most 20 characters, such as m7g or c6in)`;
  }
  return undefined;
};

const normalized = (families: readonly string[] | undefined): string[] =>
  [...new Set((families ?? []).map((f) => f.trim().toLowerCase()))];

/** Checks the preferences with the rules `shared/config` enforces at start-up; every problem. */
export function validateRightSizing(preferences: RightSizingPreferences): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const refuse = (field: string, value: unknown, problem: string) =>
    problems.push({ field: `rightSizing.${field}`, value, problem });
  const { cpuPercentile, cpuHeadroomPercent, memoryHeadroomPercent, lookbackDays } = preferences;
  if (cpuPercentile !== undefined && !(CPU_PERCENTILES as readonly string[]).includes(cpuPercentile)) {
    refuse('cpuPercentile', cpuPercentile, 'must be p90, p95 or p99.5');
  }
  for (const [field, value] of [['cpuHeadroomPercent', cpuHeadroomPercent], ['memoryHeadroomPercent', memoryHeadroomPercent]] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 100)) {
      refuse(field, value, 'must be between 0 and 100 (percent)');
    }
  }
  if (lookbackDays !== undefined && !(LOOKBACK_DAYS as readonly number[]).includes(lookbackDays)) {
    refuse('lookbackDays', lookbackDays, 'must be 14 or 32 (days)');
  }
  for (const field of ['preferredFamilies', 'excludedFamilies'] as const) {
    const families = preferences[field];
    if (families === undefined) continue;
    for (const family of families) {
      const problem = familyProblem(family);
      if (problem !== undefined) refuse(field, family, problem);
    }
  }
  const preferred = normalized(preferences.preferredFamilies);
  const both = normalized(preferences.excludedFamilies).filter((f) => preferred.includes(f));
  if (both.length > 0) {
    refuse('excludedFamilies', preferences.excludedFamilies, `${both.join(', ')} also in preferredFamilies: a family cannot be both preferred and excluded`);
  }
  return problems;
}

/** The functions' environment variables for the preferences that are set (validated first). */
export function rightSizingEnvironment(preferences: RightSizingPreferences): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (name: string, value: string | number | undefined) => {
    if (value !== undefined) env[name] = String(value);
  };
  set('FLEETOPT_RIGHTSIZING_CPU_PERCENTILE', preferences.cpuPercentile);
  set('FLEETOPT_RIGHTSIZING_CPU_HEADROOM', preferences.cpuHeadroomPercent);
  set('FLEETOPT_RIGHTSIZING_MEMORY_HEADROOM', preferences.memoryHeadroomPercent);
  set('FLEETOPT_RIGHTSIZING_LOOKBACK_DAYS', preferences.lookbackDays);
  // An empty list is no preference, as a blank variable is unset for `shared/config`.
  const families = (name: string, list: readonly string[] | undefined) => {
    if (list !== undefined && list.length > 0) env[name] = normalized(list).join(',');
  };
  families('FLEETOPT_RIGHTSIZING_PREFERRED_FAMILIES', preferences.preferredFamilies);
  families('FLEETOPT_RIGHTSIZING_EXCLUDED_FAMILIES', preferences.excludedFamilies);
  return env;
}
