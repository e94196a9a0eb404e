import { decideAcquire } from './acquire-decision.js';
import { minuteOf, oldestCountedMinute } from './quota-window.js';
import type { AcquireRequest, AcquireResult, SendLimiter } from './send-limiter.js';

/** In-process limiter for tests and single-node use; forgets everything on restart. */
export class MemorySendLimiter implements SendLimiter {
  readonly #tats = new Map<string, number>();
  /** key → minute → quota recipients charged in that minute. */
  readonly #quotaMinutes = new Map<string, Map<number, number>>();
  #prunedAtMinute = -Infinity;

  // Everything below runs synchronously, which is what makes check-and-charge atomic here.
  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const now = request.now ?? Date.now();
    this.#pruneOncePerMinute(now);
    const decision = decideAcquire(request, now, this.#sent(request.key, now), this.#tats.get(request.key));
    if (!decision.ok) return decision;
    if (decision.tat !== undefined) this.#tats.set(request.key, decision.tat);
    if (request.quotaRecipients > 0) this.#chargeQuota(request.key, minuteOf(now), request.quotaRecipients);
    return { ok: true };
  }

  async sentLast24Hours(key: string, now = Date.now()): Promise<number> {
    return this.#sent(key, now);
  }

  async close(): Promise<void> {
    this.#tats.clear();
    this.#quotaMinutes.clear();
  }

  #sent(key: string, now: number): number {
    const oldest = oldestCountedMinute(now);
    let sent = 0;
    for (const [minute, recipients] of this.#quotaMinutes.get(key) ?? []) {
      if (minute >= oldest) sent += recipients;
    }
    return sent;
  }

  #chargeQuota(key: string, minute: number, recipients: number): void {
    let minutes = this.#quotaMinutes.get(key);
    if (!minutes) this.#quotaMinutes.set(key, (minutes = new Map()));
    minutes.set(minute, (minutes.get(minute) ?? 0) + recipients);
  }

  #pruneOncePerMinute(now: number): void {
    const minute = minuteOf(now);
    if (minute <= this.#prunedAtMinute) return;
    this.#prunedAtMinute = minute;
    const oldest = oldestCountedMinute(now);
    for (const [key, minutes] of this.#quotaMinutes) {
      for (const bucket of minutes.keys()) if (bucket < oldest) minutes.delete(bucket);
      if (minutes.size === 0) this.#quotaMinutes.delete(key);
    }
  }
}
