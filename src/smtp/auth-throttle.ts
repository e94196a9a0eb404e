import type { AuthThrottleConfig } from '../config/schema.js';

interface FailureRecord {
  failures: number[];
  blockedUntil: number;
}

/** Bounds the memory an address-spraying attacker can make the throttle use. */
const MAX_TRACKED_ADDRESSES = 50_000;

/**
 * Slows down and then refuses repeated failed AUTH from one address: after the free failures each
 * 535 waits a little longer, and too many failures within the window block the address for a while.
 */
export class AuthThrottle {
  private readonly records = new Map<string, FailureRecord>();

  constructor(private readonly config: AuthThrottleConfig) {}

  isBlocked(address: string, now = Date.now()): boolean {
    const record = this.records.get(address);
    return record !== undefined && record.blockedUntil > now;
  }

  /** Records a failure and returns how long to hold back the 535 reply. */
  recordFailure(address: string, now = Date.now()): { delayMs: number; blocked: boolean } {
    const windowStart = now - this.config.windowSeconds * 1000;
    const record = this.records.get(address) ?? { failures: [], blockedUntil: 0 };
    record.failures = record.failures.filter((time) => time > windowStart);
    record.failures.push(now);
    const blocked = record.failures.length >= this.config.blockAfterFailures;
    if (blocked) {
      record.blockedUntil = now + this.config.blockSeconds * 1000;
      record.failures = [];
    }
    this.records.delete(address);
    this.records.set(address, record);
    if (this.records.size > MAX_TRACKED_ADDRESSES) this.records.delete(this.records.keys().next().value as string);
    const penalised = record.failures.length - this.config.freeFailures;
    const delayMs = penalised > 0 ? Math.min(penalised * this.config.delayStepMs, this.config.maxDelayMs) : 0;
    return { delayMs, blocked };
  }

  recordSuccess(address: string): void {
    const record = this.records.get(address);
    if (record && record.blockedUntil === 0) this.records.delete(address);
  }
}
