import { LuaScript, REDIS_NOW_LUA } from '../ratelimit/lua-script.js';

// Every script reads the Redis server's clock: lease expiries and paces are compared across nodes whose clocks differ.

/** Drops the leases (members of a sorted set scored by expiry) that have lapsed. */
const LAPSE_LUA = `${REDIS_NOW_LUA}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)`;

/**
 * Takes a connection slot: KEYS[1] the destination's leases; ARGV max connections, lease ms, lease id. 1 when taken,
 * 0 when every slot is leased. The set lives as long as its newest lease.
 */
export const TAKE_LEASE = new LuaScript(
  'relaygateTakeLease',
  `${LAPSE_LUA}
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
  1,
);

/**
 * Renews a node's leases of one destination: ARGV max connections, lease ms, lease ids. A lease that lapsed (Redis was
 * away longer than the lease) is taken again if a slot is free; returns those that could not be, whose connections go
 * on unleased until they close.
 */
export const RENEW_LEASES = new LuaScript(
  'relaygateRenewLeases',
  `${LAPSE_LUA}
local lost = {}
for i = 3, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return lost`,
  1,
);

/** Marks a node alive: KEYS[1] the nodes' sorted set; ARGV lease ms, node id. Returns the nodes alive. */
export const HEARTBEAT = new LuaScript(
  'relaygateShapingHeartbeat',
  `${LAPSE_LUA}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('ZCARD', KEYS[1])`,
  1,
);

/**
 * Reserves the next start of a message at a pace with no burst: KEYS[1] the destination's theoretical arrival time;
 * ARGV the interval between messages (ms). Returns how long to wait before sending, so that one call per message is
 * enough however many nodes share the pace.
 */
export const RESERVE_PACE = new LuaScript(
  'relaygateReservePace',
  `${REDIS_NOW_LUA}
local start = tonumber(redis.call('GET', KEYS[1])) or now
if start < now then start = now end
local tat = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.17g', tat), 'PX', math.ceil(tat - now) + 1000)
return math.ceil(start - now)`,
  1,
);

/**
 * Charges a transaction to the first warming address under its daily limit: KEYS the addresses' counters for the day in
 * order of preference; ARGV recipients, counter lifetime (s), then each address's limit. Returns the chosen position
 * (from 1), or 0 when every one is at its limit. Like the local count, it may end over the limit by one transaction.
 */
export const TAKE_WARMUP = new LuaScript(
  'relaygateTakeWarmup',
  `for i = 1, #KEYS do
  if (tonumber(redis.call('GET', KEYS[i])) or 0) < tonumber(ARGV[i + 2]) then
    redis.call('INCRBY', KEYS[i], ARGV[1])
    redis.call('EXPIRE', KEYS[i], ARGV[2])
    return i
  end
end
return 0`,
  null,
);

/** The day each address began warming up: KEYS[1] the hash of start days; ARGV address and proposed day pairs. The first node to propose a day sets it. */
export const WARMUP_STARTS = new LuaScript(
  'relaygateWarmupStarts',
  `local days = {}
for i = 1, #ARGV, 2 do
  redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
  days[#days + 1] = redis.call('HGET', KEYS[1], ARGV[i])
end
return days`,
  1,
);

export const SHAPING_SCRIPTS = [TAKE_LEASE, RENEW_LEASES, HEARTBEAT, RESERVE_PACE, TAKE_WARMUP, WARMUP_STARTS];
