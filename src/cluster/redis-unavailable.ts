import { StoreUnavailableError } from '../common/store-unavailable.js';

/** Socket errors of a connection that cannot be made or was lost. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * ioredis's own texts (6.x) for a command that never reached Redis or got no answer in time: the connection is down
 * and the offline queue is off (src/cluster/redis-connection.ts), it closed, or the command timed out.
 */
const CLIENT_TEXTS = [/^Stream isn't writeable/, /^Connection is closed/, /^Command timed out/];

/** Redis's replies while it cannot serve yet or any more: loading its data, a replica without its primary, a failover. */
const SERVER_STATES = /^(LOADING|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY|BUSY)\b/;

/** Whether an error of an ioredis call means Redis could not be reached or could not answer now (rather than a wrong command). */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (NETWORK_CODES.has((error as NodeJS.ErrnoException).code ?? '')) return true;
  return CLIENT_TEXTS.some((text) => text.test(error.message)) || SERVER_STATES.test(error.message);
}

/**
 * Runs calls to Redis for `store` (the Redis control store, limiter, shaping), turning "Redis unreachable" into
 * StoreUnavailableError, which the callers above answer as a temporary failure; other errors pass unchanged.
 */
export async function callRedis<T>(store: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw isRedisUnavailable(error) ? new StoreUnavailableError(store, error) : error;
  }
}

/**
 * The same object with each of its (async) methods run through callRedis: a store whose every call is a Redis
 * round trip raises StoreUnavailableError when Redis is away, as the cache above it expects.
 */
export function raisingStoreUnavailable<T extends object>(store: string, target: T): T {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => callRedis(store, () => (value as (...a: unknown[]) => Promise<unknown>).apply(object, args));
    },
  });
}
