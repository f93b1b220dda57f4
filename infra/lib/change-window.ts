import { ConfigProblem } from './config';

/**
 * When the optimization engine may apply approved scale-downs and schedules (SCHEDULED_SCALING):
 * windows that start at each time matching `cron` and last `durationMinutes`. Scale-ups that
 * relieve pressure are exempt; instance type changes are carried out by a person, so no window
 * applies to them. Only the engine is given it.
 */
export interface ChangeWindow {
  /**
   * `FLEETOPT_CHANGE_WINDOW_CRON`: five fields, UTC: minute hour day-of-month month day-of-week;
   * day-of-week 0-6 with 0 = Sunday, or SUN-SAT; `*`, lists `a,b`, ranges `a-b` and steps `*\/n` /
   * `a-b/n`. Each window starts at a time it matches.
   */
  readonly cron: string;
  /** `FLEETOPT_CHANGE_WINDOW_MINUTES`: how long each window lasts, whole minutes from 1 to 1440 (24 hours). */
  readonly durationMinutes: number;
}

/** The cron's five fields, in order, as its problems name them. */
export const CRON_FIELDS = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;

/** What a field may be made of: digits, letters (day and month names), `*`, `,`, `-` and `/`. */
const CRON_FIELD = /^[0-9A-Za-z*,\-/]+$/;

const CRON_RULE = 'must be five whitespace-separated fields, UTC (minute hour day-of-month month day-of-week), ' +
  "each made only of digits, letters (day and month names), '*', ',', '-' and '/'";

const DURATION = { min: 1, max: 24 * 60 };

/**
 * Checks the window's shape at synth: the cron's five fields and their characters, the duration's
 * range; every problem. What each field's values mean (ranges, names, steps) the engine checks at
 * start-up.
 */
export function validateChangeWindow(window: ChangeWindow): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { cron, durationMinutes } = window;
  if (typeof cron !== 'string') {
    problems.push({ field: 'changeWindow.cron', value: cron, problem: CRON_RULE });
  } else {
    const fields = cron.trim().split(/\s+/).filter((f) => f.length > 0);
    if (fields.length !== CRON_FIELDS.length) {
      problems.push({ field: 'changeWindow.cron', value: cron, problem: `${CRON_RULE}; it has ${fields.length}` });
    } else {
      const bad = fields.flatMap((f, i) => (CRON_FIELD.test(f) ? [] : [`${CRON_FIELDS[i]} ${JSON.stringify(f)}`]));
      if (bad.length > 0) {
        problems.push({ field: 'changeWindow.cron', value: cron, problem: `${CRON_RULE}; not so: ${bad.join(', ')}` });
      }
    }
  }
  if (!(typeof durationMinutes === 'number' && Number.isInteger(durationMinutes)
    && durationMinutes >= DURATION.min && durationMinutes <= DURATION.max)) {
    problems.push({
      field: 'changeWindow.durationMinutes',
      value: durationMinutes,
      problem: `must be a whole number of minutes from ${DURATION.min} to ${DURATION.max} (24 hours)`,
    });
  }
  return problems;
}

/** The engine's environment variables for the window, when one is set (validated first). */
export function changeWindowEnvironment(window: ChangeWindow | undefined): Record<string, string> {
  if (window === undefined) return {};
  return {
    FLEETOPT_CHANGE_WINDOW_CRON: window.cron,
    FLEETOPT_CHANGE_WINDOW_MINUTES: String(window.durationMinutes),
  };
}
