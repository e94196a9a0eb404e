import type { ChainableCommander, Redis } from 'ioredis';

/**
 * The suppression list's index members are "INVERTED-TIME:address" with score 0: the time subtracted from this and
 * written in 15 digits, so that ascending (lexical) order is newest first, then by address.
 */
const TIME_COMPLEMENT = 999_999_999_999_999;

export const invertedTime = (time: number): string => String(TIME_COMPLEMENT - time).padStart(15, '0');
export const memberTime = (member: string): number => TIME_COMPLEMENT - Number(member.slice(0, 15));
export const memberAddress = (member: string): string => member.slice(16);

const SUPPRESSION_MEMBER = `
local function member(time, address)
  return string.format('%015d', ${TIME_COMPLEMENT} - time) .. ':' .. address
end
local reasonIndex = { BOUNCE = KEYS[3], COMPLAINT = KEYS[4] }
local function unindex(address)
  local old = redis.call('HGET', KEYS[1], address)
  if not old then return false end
  local previous = cjson.decode(old)
  local m = member(previous[1], address)
  redis.call('ZREM', KEYS[2], m)
  redis.call('ZREM', reasonIndex[previous[2]], m)
  return true
end
`;

/**
 * The control store's Lua scripts: each is one atomic step (Redis runs a script with nothing in between), for the
 * writes that SQLite does in one statement or transaction. ioredis sends them as EVALSHA and loads a script Redis
 * does not have (after a restart), also inside pipelines.
 */
const SCRIPTS = {
  /**
   * KEYS[1] the record, KEYS[2] the account it belongs to (which must exist) or the record itself for an account,
   * KEYS[3..] sorted-set indexes; ARGV: a score per index, the record's member in them, then field/value pairs.
   */
  relaygateCreateRecord: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
if KEYS[2] ~= KEYS[1] and redis.call('EXISTS', KEYS[2]) == 0 then return 'no-account' end
local indexes = #KEYS - 2
for i = 1, indexes do redis.call('ZADD', KEYS[i + 2], ARGV[i], ARGV[indexes + 1]) end
redis.call('HSET', KEYS[1], unpack(ARGV, indexes + 2))
return 'created'`,
  /** KEYS[1] the record; ARGV field/value pairs. Replaces every field of an existing record; a deleted one stays deleted. */
  relaygateReplaceRecord: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`,
  /** KEYS[1] the credential; ARGV[1] the revocation time (JSON). */
  relaygateRevokeCredential: `
if redis.call('HGET', KEYS[1], 'revokedAt') ~= 'null' then return 0 end
redis.call('HSET', KEYS[1], 'revokedAt', ARGV[1])
return 1`,
  /** KEYS[1] the account, KEYS[2] the target's policies, KEYS[3] the account's policy targets; ARGV target member, name, value. */
  relaygatePutPolicy: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
return 1`,
  /** KEYS[1] the target's policies, KEYS[2] the account's policy targets; ARGV target member, name. */
  relaygateDeletePolicy: `
local removed = redis.call('HDEL', KEYS[1], ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) end
return removed`,
  /**
   * KEYS[1] the account's entries, KEYS[2] its by-time index, KEYS[3] and KEYS[4] the BOUNCE and COMPLAINT ones;
   * ARGV: address, time (ms), reason, value, for each entry.
   */
  relaygatePutSuppressed: `${SUPPRESSION_MEMBER}
for i = 1, #ARGV, 4 do
  local address, reason = ARGV[i], ARGV[i + 2]
  unindex(address)
  redis.call('HSET', KEYS[1], address, ARGV[i + 3])
  local m = member(tonumber(ARGV[i + 1]), address)
  redis.call('ZADD', KEYS[2], 0, m)
  redis.call('ZADD', reasonIndex[reason], 0, m)
end
return #ARGV / 4`,
  /** The keys as for relaygatePutSuppressed; ARGV the addresses. Returns how many were on the list. */
  relaygateDeleteSuppressed: `${SUPPRESSION_MEMBER}
local removed = 0
for i = 1, #ARGV do
  if unindex(ARGV[i]) then
    redis.call('HDEL', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed`,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
type ScriptArgument = string | number;

/** Makes the scripts callable on the connection (and its pipelines). */
export function defineControlScripts(redis: Redis): void {
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { lua });
}

type ScriptCommands<R> = Record<ScriptName, (keyCount: number, ...args: ScriptArgument[]) => R>;

export function runScript(redis: Redis, name: ScriptName, keys: readonly string[], args: readonly ScriptArgument[]): Promise<unknown> {
  return (redis as unknown as ScriptCommands<Promise<unknown>>)[name](keys.length, ...keys, ...args);
}

/** Adds a script call to a pipeline or MULTI. */
export function queueScript(pipeline: ChainableCommander, name: ScriptName, keys: readonly string[], args: readonly ScriptArgument[]): void {
  (pipeline as unknown as ScriptCommands<ChainableCommander>)[name](keys.length, ...keys, ...args);
}
