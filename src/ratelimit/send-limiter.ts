/** What one message asks of a key's (usually an account's) send rate and 24-hour quota. */
export interface AcquireRequest {
  key: string;
  /** Recipients charged to the send rate; mailbox-simulator recipients are included. */
  rateRecipients: number;
  /** Recipients charged to the 24-hour quota; mailbox-simulator recipients are left out. */
  quotaRecipients: number;
  /** Recipients per second; 0 or less means unlimited. */
  maxSendRate: number;
  /** Recipients per rolling 24 hours; -1 means unlimited (SES's GetSendQuota uses -1 the same way). */
  max24HourSend: number;
  /** Recipients that may go at once before the rate applies; defaults to max(1, ceil(maxSendRate)). */
  burst?: number;
  /** Epoch milliseconds; defaults to Date.now(). A limiter on a shared clock (Redis in cluster mode) may ignore it. */
  now?: number;
}

export type LimitReason = 'rate' | 'quota';

export type AcquireDenied = { ok: false; reason: LimitReason; retryAfterMs?: number };

export type AcquireResult = { ok: true } | AcquireDenied;

/**
 * Per-key send rate (GCRA) and rolling 24-hour quota, as SES enforces them per account.
 *
 * `acquire` checks the quota first, then the rate, and charges both only if both pass, as one atomic
 * step: a denied message charges nothing. The quota rejects when `sentLast24h + quotaRecipients >
 * max24HourSend`, the stricter of the SES guide's two wordings ("would exceed" rather than "sent so far
 * is less than"), so a message may bring the count exactly to the maximum but not past it.
 * The quota is counted in one-minute buckets, so a charge stops counting up to a minute before it is
 * 24 hours old, never after. `retryAfterMs` is given for 'rate' denials only.
 * When the store cannot be reached, acquire rejects (LimiterUnavailableError) rather than decide without it.
 */
export interface SendLimiter {
  acquire(request: AcquireRequest): Promise<AcquireResult>;
  /** Quota recipients charged in the rolling 24 hours before `now` (GetSendQuota's SentLast24Hours). */
  sentLast24Hours(key: string, now?: number): Promise<number>;
  close(): Promise<void>;
}
