import type { AuthThrottleConfig } from '../config/schema.js';

interface FailureRecord {
  failures: number[];
  blockedUntil: number;
}

/** Bounds the memory an attacker spraying addresses or user names can make one counter use. */
const MAX_TRACKED_KEYS = 50_000;
/** Access key ids are 20 characters; a longer user name is counted by its start, so it cannot inflate the memory used. */
const MAX_USER_NAME_CHARS = 64;

/** Failures per key within a sliding window; reaching the threshold blocks the key for a while. */
class FailureCounter {
  private readonly records = new Map<string, FailureRecord>();

  constructor(
    private readonly threshold: number,
    private readonly windowMs: number,
    private readonly blockMs: number,
  ) {}

  isBlocked(key: string, now: number): boolean {
    return this.blockedUntil(key, now) !== null;
  }

  /** When the key's block ends (ms), or null when it is not blocked. */
  blockedUntil(key: string, now: number): number | null {
    const record = this.records.get(key);
    return record !== undefined && record.blockedUntil > now ? record.blockedUntil : null;
  }

  /** Every key blocked now, with the end of its block. */
  blocks(now: number): Array<[key: string, until: number]> {
    return [...this.records].filter(([, record]) => record.blockedUntil > now).map(([key, record]) => [key, record.blockedUntil]);
  }

  /** Records a failure and returns the failures in the window (0 once the key is blocked). */
  record(key: string, now: number): { failures: number; blocked: boolean } {
    const record = this.records.get(key) ?? { failures: [], blockedUntil: 0 };
    record.failures = record.failures.filter((time) => time > now - this.windowMs);
    record.failures.push(now);
    const blocked = record.failures.length >= this.threshold;
    if (blocked) {
      record.blockedUntil = now + this.blockMs;
      record.failures = [];
    }
    // Re-inserting keeps the map in least-recently-failed order, so the oldest key goes first.
    this.records.delete(key);
    this.records.set(key, record);
    if (this.records.size > MAX_TRACKED_KEYS) this.records.delete(this.records.keys().next().value as string);
    return { failures: record.failures.length, blocked };
  }

  forget(key: string): void {
    const record = this.records.get(key);
    if (record && record.blockedUntil === 0) this.records.delete(key);
  }
}

export type AuthBlock = 'user at address' | 'user' | 'address';

/** A block in force: which counter, the key it counts (see blockKeys), and when it ends (ms since the epoch). */
export interface AuthBlockEntry {
  scope: AuthBlock;
  key: string;
  until: number;
}

/** The blocks that can refuse a user name at an address, in the order they are reported, each with its counter's key. */
function blockKeys(userName: string, address: string): Array<[AuthBlock, string]> {
  const user = userKey(userName);
  return [
    ['address', address],
    ['user', user],
    ['user at address', pairKey(user, address)],
  ];
}

/**
 * Slows down and then refuses repeated failed AUTH. Failures are counted three ways: one user name at one address
 * (delayed after the free failures, blocked first), one user name everywhere (a larger threshold: a distributed
 * guess at one credential), and one address for all user names (the largest: a whole office behind one NAT address
 * is not locked out by one user's typos, but an address that sprays user names is).
 */
export class AuthThrottle {
  private readonly counters: Record<AuthBlock, FailureCounter>;

  constructor(private readonly config: AuthThrottleConfig) {
    const windowMs = config.windowSeconds * 1000;
    const blockMs = config.blockSeconds * 1000;
    this.counters = {
      address: new FailureCounter(config.addressBlockAfterFailures, windowMs, blockMs),
      user: new FailureCounter(config.userBlockAfterFailures, windowMs, blockMs),
      'user at address': new FailureCounter(config.blockAfterFailures, windowMs, blockMs),
    };
  }

  /** Which block, if any, refuses this user name from this address. */
  blocked(userName: string, address: string, now = Date.now()): AuthBlock | null {
    return blockKeys(userName, address).find(([scope, key]) => this.counters[scope].isBlocked(key, now))?.[0] ?? null;
  }

  /** The blocks in force that concern this user name or this address. */
  blocksOf(userName: string, address: string, now = Date.now()): AuthBlockEntry[] {
    return blockKeys(userName, address).flatMap(([scope, key]) => {
      const until = this.counters[scope].blockedUntil(key, now);
      return until === null ? [] : [{ scope, key, until }];
    });
  }

  /** Every block in force. */
  allBlocks(now = Date.now()): AuthBlockEntry[] {
    return (Object.keys(this.counters) as AuthBlock[]).flatMap((scope) => this.counters[scope].blocks(now).map(([key, until]) => ({ scope, key, until })));
  }

  /** Records a failure and returns how long to hold back the 535 reply. */
  recordFailure(userName: string, address: string, now = Date.now()): { delayMs: number; blocked: AuthBlock | null } {
    const recorded = blockKeys(userName, address).map(([scope, key]) => ({ scope, ...this.counters[scope].record(key, now) }));
    const pairFailures = recorded.find(({ scope }) => scope === 'user at address')!.failures;
    const penalised = pairFailures - this.config.freeFailures;
    const delayMs = penalised > 0 ? Math.min(penalised * this.config.delayStepMs, this.config.maxDelayMs) : 0;
    return { delayMs, blocked: recorded.find((entry) => entry.blocked)?.scope ?? null };
  }

  /**
   * A success clears that user name's failures at that address only: the address's and the user name's totals
   * still count, or a client holding one valid credential could reset them between guesses at others.
   */
  recordSuccess(userName: string, address: string): void {
    this.counters['user at address'].forget(pairKey(userKey(userName), address));
  }
}

const userKey = (userName: string): string => userName.slice(0, MAX_USER_NAME_CHARS);
const pairKey = (user: string, address: string): string => `${user}\n${address}`;

const entryId = (scope: AuthBlock, key: string): string => `${scope}\n${key}`;

/**
 * The AUTH blocks of the node as a session worker knows them: the primary keeps the one AuthThrottle and tells every
 * worker each block it sets, so checking a client before AUTH needs no trip to the primary. A block set a moment ago
 * by another worker's session may not be known yet: that client gets one more attempt, which is counted and refused
 * by the primary's throttle like any failure.
 */
export class KnownAuthBlocks {
  private readonly until = new Map<string, number>();

  learn(entries: readonly AuthBlockEntry[], now = Date.now()): void {
    for (const [id, until] of this.until) if (until <= now) this.until.delete(id);
    for (const { scope, key, until } of entries) this.until.set(entryId(scope, key), until);
  }

  blocked(userName: string, address: string, now = Date.now()): AuthBlock | null {
    return blockKeys(userName, address).find(([scope, key]) => (this.until.get(entryId(scope, key)) ?? 0) > now)?.[0] ?? null;
  }
}
