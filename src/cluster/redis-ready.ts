import type { Redis } from 'ioredis';
import { urlWithoutPassword } from '../common/url-without-password.js';

/** The cluster's Redis could not be reached (or refused the login): one line for the operator. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

/** Waits until the connection is ready (connected and logged in); fails after `timeoutMs` with the last connection error. */
export function redisReady(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError: Error | null = null;
    const onError = (error: Error) => (lastError = error);
    const onReady = () => {
      settle();
      resolve();
    };
    const timer = setTimeout(() => {
      settle();
      reject(new RedisUnavailableError(`cannot reach Redis at ${urlWithoutPassword(url)} within ${timeoutMs / 1000} s${lastError ? `: ${lastError.message}` : ''}`));
    }, timeoutMs);
    const settle = () => {
      clearTimeout(timer);
      redis.off('error', onError);
      redis.off('ready', onReady);
    };
    redis.on('error', onError);
    redis.on('ready', onReady);
  });
}
