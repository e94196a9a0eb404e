/**
 * Generic cell rate algorithm: one stored number per key, the theoretical arrival time (TAT) at which
 * the key's limiter would be idle again. Pure arithmetic, so every store (memory, SQLite, a Redis Lua
 * script) makes the same decisions.
 */

export type GcraDecision = { allowed: true; tat: number } | { allowed: false; retryAfterMs: number };

export interface GcraParameters {
  /** Milliseconds one recipient occupies at the sustained rate. */
  emissionMs: number;
  /** How far ahead of `now` the TAT may run: room for `burst - 1` recipients beyond the first. */
  burstToleranceMs: number;
}

export function gcraParameters(maxSendRate: number, burst = Math.max(1, Math.ceil(maxSendRate))): GcraParameters {
  const emissionMs = 1000 / maxSendRate;
  return { emissionMs, burstToleranceMs: emissionMs * (burst - 1) };
}

/**
 * Decides whether `cost` recipients may go at `now` given the stored `tat` (undefined when the key has
 * none). On success the caller stores the returned TAT; on denial it stores nothing.
 *
 * A request larger than the whole burst could never fit, so it is let through once the limiter is
 * idle instead of being refused forever; its full cost still holds back what follows.
 * Decisions are made at whole milliseconds, the clock's resolution, so floating-point drift in the
 * TAT never denies a request by a fraction of a millisecond.
 */
export function gcraDecide(
  tat: number | undefined,
  now: number,
  emissionMs: number,
  burstToleranceMs: number,
  cost: number,
): GcraDecision {
  const start = tat === undefined || tat < now ? now : tat;
  const capacityMs = burstToleranceMs + emissionMs;
  const allowAt = start + Math.min(cost * emissionMs, capacityMs) - capacityMs;
  const retryAfterMs = Math.round(allowAt - now);
  if (retryAfterMs > 0) return { allowed: false, retryAfterMs };
  return { allowed: true, tat: start + cost * emissionMs };
}
