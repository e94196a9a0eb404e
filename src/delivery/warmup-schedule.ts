import type { WarmupConfig } from '../config/schema.js';

const DAY_MS = 86_400_000;

/** The UTC calendar day of a time, as YYYY-MM-DD. */
export const utcDay = (time: number): string => new Date(time).toISOString().slice(0, 10);

/** Whole days from `from` to `to` (both YYYY-MM-DD). */
export const daysBetween = (from: string, to: string): number => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);

/** The first millisecond of the UTC day after the one `time` falls in. */
export const nextUtcDay = (time: number): number => Math.floor(time / DAY_MS) * DAY_MS + DAY_MS;

/**
 * Recipients a warming address may take on day `day` of its warm-up (0 = the start day), or null once it is warm.
 * The limit grows geometrically from firstDayLimit to lastDayLimit over `days` days: the same factor every day,
 * as providers look at day-over-day growth. The SES guide gives no curve, only that it is time-based and 45 days long.
 */
export function warmupDailyLimit(day: number, config: WarmupConfig): number | null {
  if (day >= config.days) return null;
  if (day <= 0) return config.firstDayLimit;
  return Math.round(config.firstDayLimit * (config.lastDayLimit / config.firstDayLimit) ** (day / (config.days - 1)));
}
