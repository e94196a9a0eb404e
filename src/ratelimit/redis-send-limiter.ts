import type { Redis } from 'ioredis';
import { assertValidRequest } from './acquire-decision.js';
import { gcraParameters } from './gcra.js';
import { LimiterUnavailableError } from './limiter-unavailable-error.js';
import { LuaScript, REDIS_NOW_LUA } from './lua-script.js';
import { BUCKETS_PER_WINDOW, QUOTA_BUCKET_MS } from './quota-window.js';
import { untilConnectAttemptEnds } from './redis-ready.js';
import type { AcquireRequest, AcquireResult, SendLimiter } from './send-limiter.js';

/** A key's data lives this long after its last charge: the 24-hour window and one bucket more. */
const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000 + QUOTA_BUCKET_MS;
/** How long a call waits for a connection attempt under way (the first command of a process). */
const CONNECT_WAIT_MS = 2000;

/**
 * The Lua both scripts share. A key's hash holds `tat` (the GCRA's theoretical arrival time), `sum` (quota recipients
 * in the buckets held), `from` (the oldest bucket held) and one field per minute bucket. While `from` is still in the
 * window, `sum` is the answer at once; after a minute boundary the buckets are counted again (and with `prune` the
 * old ones deleted), which happens at most once a minute per key. `now` is the caller's clock (ARGV[1]) or, when
 * that is empty, the server's.
 */
const WINDOW_LUA = `${REDIS_NOW_LUA}
if ARGV[1] ~= '' then now = tonumber(ARGV[1]) end
local minute = math.floor(now / ${QUOTA_BUCKET_MS})
local oldest = minute - ${BUCKETS_PER_WINDOW} + 1
local function counted(key, prune)
  local held = redis.call('HMGET', key, 'sum', 'from')
  local sum, from = tonumber(held[1]) or 0, tonumber(held[2])
  if not from or from >= oldest then return sum end
  local fields = redis.call('HGETALL', key)
  sum, from = 0, nil
  for i = 1, #fields, 2 do
    local bucket = tonumber(fields[i])
    if bucket and bucket < oldest then
      if prune then redis.call('HDEL', key, fields[i]) end
    elseif bucket then
      sum = sum + tonumber(fields[i + 1])
      if not from or bucket < from then from = bucket end
    end
  end
  if prune then
    redis.call('HSET', key, 'sum', sum)
    if from then redis.call('HSET', key, 'from', from) else redis.call('HDEL', key, 'from') end
  end
  return sum
end
`;

/**
 * SendLimiter.acquire: the quota, then the rate (gcraDecide's arithmetic on the same doubles), then both charges.
 * ARGV: now, rate recipients, quota recipients, max24HourSend, emission ms ('' when the rate is unlimited), burst
 * tolerance ms. Returns {1} allowed, {0, retryAfterMs} refused for the rate, {-1} refused for the quota.
 * The TAT is written with 17 significant digits so that it reads back as the same double.
 */
const ACQUIRE = new LuaScript(
  'relaygateAcquireSendLimit',
  `${WINDOW_LUA}
local key = KEYS[1]
local cost, charge, max24 = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if max24 ~= -1 and counted(key, true) + charge > max24 then return {-1} end
local ttl = ${KEY_LIFETIME_MS}
if ARGV[5] ~= '' then
  local emission, tolerance = tonumber(ARGV[5]), tonumber(ARGV[6])
  local start = now
  local tat = tonumber(redis.call('HGET', key, 'tat'))
  if tat and tat >= now then start = tat end
  local capacity = tolerance + emission
  local retry = math.floor(start + math.min(cost * emission, capacity) - capacity - now + 0.5)
  if retry > 0 then return {0, retry} end
  tat = start + cost * emission
  redis.call('HSET', key, 'tat', string.format('%.17g', tat))
  ttl = math.max(ttl, math.ceil(tat - now) + 1000)
end
if charge > 0 then
  if max24 == -1 then counted(key, true) end
  redis.call('HINCRBY', key, minute, charge)
  redis.call('HINCRBY', key, 'sum', charge)
  local from = tonumber(redis.call('HGET', key, 'from'))
  if not from or minute < from then redis.call('HSET', key, 'from', minute) end
end
if charge > 0 or ARGV[5] ~= '' then redis.call('PEXPIRE', key, ttl) end
return {1}`,
  1,
);

/** SendLimiter.sentLast24Hours, reading only. ARGV: now. */
const SENT_LAST_24_HOURS = new LuaScript('relaygateSentLast24Hours', `${WINDOW_LUA}\nreturn counted(KEYS[1], false)`, 1);

export interface RedisSendLimiterOptions {
  /** Prefix of the limiter's keys (cluster.keyPrefix); each limited key is the hash `<prefix>limits:<key>`. */
  keyPrefix: string;
  /**
   * 'redis' (the default): decisions use the Redis server's clock, and `now` in requests is ignored, so that nodes
   * whose clocks differ still share one timeline. 'caller': `now` (or Date.now()) is used, as the other limiters do.
   */
  clock?: 'redis' | 'caller';
  /** Disconnect `redis` on close(); otherwise its owner does. */
  ownsConnection?: boolean;
}

/**
 * Limiter shared by every node of a fleet: each acquire is one Lua script, so one round trip, that checks and charges
 * atomically. When Redis cannot be asked, acquire and sentLast24Hours reject with LimiterUnavailableError; a call cut
 * off by the command timeout may still have been charged (a refused message that counted, never the reverse).
 */
export class RedisSendLimiter implements SendLimiter {
  readonly #redis: Redis;
  readonly #keyPrefix: string;
  readonly #serverClock: boolean;
  readonly #ownsConnection: boolean;

  constructor(redis: Redis, options: RedisSendLimiterOptions) {
    this.#redis = redis;
    this.#keyPrefix = options.keyPrefix;
    this.#serverClock = (options.clock ?? 'redis') === 'redis';
    this.#ownsConnection = options.ownsConnection ?? false;
    for (const script of [ACQUIRE, SENT_LAST_24_HOURS]) script.register(redis);
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    assertValidRequest(request);
    const rate = request.maxSendRate > 0 ? gcraParameters(request.maxSendRate, request.burst) : null;
    const args = [
      this.#now(request.now),
      request.rateRecipients,
      request.quotaRecipients,
      request.max24HourSend,
      rate ? String(rate.emissionMs) : '',
      rate ? String(rate.burstToleranceMs) : '',
    ];
    const [status, retryAfterMs] = (await this.#run(ACQUIRE, request.key, args)) as [number, number?];
    if (status === 1) return { ok: true };
    return status === -1 ? { ok: false, reason: 'quota' } : { ok: false, reason: 'rate', retryAfterMs: retryAfterMs! };
  }

  async sentLast24Hours(key: string, now?: number): Promise<number> {
    return (await this.#run(SENT_LAST_24_HOURS, key, [this.#now(now)])) as number;
  }

  async close(): Promise<void> {
    if (this.#ownsConnection) this.#redis.disconnect();
  }

  #now(requested: number | undefined): string {
    return this.#serverClock ? '' : String(requested ?? Date.now());
  }

  async #run(script: LuaScript, key: string, args: ReadonlyArray<string | number>): Promise<unknown> {
    await untilConnectAttemptEnds(this.#redis, CONNECT_WAIT_MS);
    try {
      return await script.run(this.#redis, [`${this.#keyPrefix}limits:${key}`], args);
    } catch (error) {
      throw new LimiterUnavailableError(error);
    }
  }
}
