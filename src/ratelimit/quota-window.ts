/**
 * The rolling 24-hour quota is kept as recipient counts per minute. A bucket counts while it starts
 * after `now - 24 h`, so the window holds the current minute and the 1,439 before it.
 */

export const QUOTA_BUCKET_MS = 60_000;
export const BUCKETS_PER_WINDOW = (24 * 60 * 60 * 1000) / QUOTA_BUCKET_MS;

export function minuteOf(now: number): number {
  return Math.floor(now / QUOTA_BUCKET_MS);
}

/**
 * Buckets older than this have left the window. All newer ones count, including any ahead of `now`
 * written by a process whose clock runs fast.
 */
export function oldestCountedMinute(now: number): number {
  return minuteOf(now) - BUCKETS_PER_WINDOW + 1;
}
