import type { DeliveryConfig } from '../config/schema.js';

/**
 * When a temporarily failed delivery is tried again. Postfix-like: the delay doubles after each failure from
 * `firstDelayMs`, clamped to `maxDelayMs`, with +-20 % jitter so a queue that failed together (an outage) does not
 * come due together. Defaults give 1, 2, 4, 8, 16, 32, 60, 60 ... minutes. A reply that names a time ("try again
 * in 30 seconds") is honoured instead. After `lifetimeMs` from acceptance the recipient bounces; a delay that would
 * end past that point is shortened so the last attempt falls on it.
 */
export interface RetryPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  lifetimeMs: number;
}

export type RetryDecision = { retry: true; nextAttemptAt: number } | { retry: false };

const JITTER = 0.2;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };
// "try again in 30 seconds", "retry after 5 min", "please try again in 1 hour".
const HINT = /\b(?:re)?try(?:\s+again)?\s+(?:in|after)\s+(\d{1,6})\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b/i;

export function retryPolicy(config: DeliveryConfig): RetryPolicy {
  return {
    firstDelayMs: config.retry.firstDelaySeconds * 1000,
    maxDelayMs: config.retry.maxDelaySeconds * 1000,
    lifetimeMs: config.queueLifetimeHours * 3_600_000,
  };
}

/** The backoff after `failures` temporary failures (1 for the first). */
export function backoffMs(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.firstDelayMs * 2 ** Math.min(failures - 1, 30), policy.maxDelayMs);
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/** The wait a reply asks for, in milliseconds, or null when it names none. */
export function retryHintMs(reply: string): number | null {
  const match = HINT.exec(reply);
  if (!match) return null;
  return Math.max(1000, Number(match[1]) * (UNIT_MS[match[2]!.charAt(0).toLowerCase()] ?? 1000));
}

export function nextRetry(
  failures: number,
  reply: string,
  now: number,
  receivedAt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): RetryDecision {
  const expiresAt = receivedAt + policy.lifetimeMs;
  if (now >= expiresAt) return { retry: false };
  const delay = retryHintMs(reply) ?? backoffMs(failures, policy, random);
  return { retry: true, nextAttemptAt: Math.min(now + delay, expiresAt) };
}
