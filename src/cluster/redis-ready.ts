import type { Redis } from 'ioredis';

/** Redis cannot be reached: for a command-line tool, which has nothing to fall back on, the end of the command. */
export class RedisUnavailableError extends Error {
  constructor(url: string, reason: string) {
    super(`cannot reach Redis at ${redactedUrl(url)}: ${reason}`);
    this.name = 'RedisUnavailableError';
  }
}

/** Resolves when the connection is ready for commands (connectRedis refuses them before); rejects at its first error or after `timeoutMs`. */
export function redisReady(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (error: Error | null) => {
      clearTimeout(timer);
      redis.off('ready', ready);
      redis.off('error', failed);
      if (error) reject(error);
      else resolve();
    };
    const ready = () => settle(null);
    const failed = (error: Error) => settle(new RedisUnavailableError(url, error.message));
    const timer = setTimeout(() => settle(new RedisUnavailableError(url, `no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    redis.once('ready', ready);
    redis.once('error', failed);
  });
}

/** The URL without its password, for messages. */
export const redactedUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');
