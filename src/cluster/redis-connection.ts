import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ioredis } from './ioredis-module.js';

/** How long one command may wait for Redis before it fails (the caller decides whether to retry or refuse). */
const COMMAND_TIMEOUT_MS = 2000;

/**
 * A connection to the cluster's Redis. Commands fail at once while Redis is away instead of queueing in memory, so a
 * caller can fall back (cached policy, last known limits) or answer 451; the client reconnects by itself.
 */
export function connectRedis(url: string, log: Pick<Logger, 'warn'>, name: string): Redis {
  const redis = new (ioredis().Redis)(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let reported = false;
  // Without an error listener a refused connection would end the process; one warning per outage is enough.
  redis.on('error', (error: Error) => {
    if (!reported) log.warn({ err: error, connection: name }, 'Redis connection failed; retrying');
    reported = true;
  });
  redis.on('ready', () => {
    reported = false;
  });
  return redis;
}
