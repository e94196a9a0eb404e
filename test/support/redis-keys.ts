import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the cluster-mode tests use (.ci/run starts one on the default port). */
export const TEST_REDIS_URL = process.env.RELAYGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** A key prefix no other test or run uses. */
export const uniqueKeyPrefix = (name: string): string => `relaygate-test:${name}:${randomUUID()}:`;

/** Runs `action` with a fresh connection to the test Redis. */
export async function withTestRedis<T>(action: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 5000, commandTimeout: 10_000, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    return await action(redis);
  } finally {
    redis.disconnect();
  }
}

/** The keys under the prefix, sorted. */
export const keysUnder = (prefix: string): Promise<string[]> => withTestRedis(async (redis) => (await redis.keys(`${prefix}*`)).sort());

/** Deletes every key under the prefix; returns how many there were. */
export const deleteKeysUnder = (prefix: string): Promise<number> =>
  withTestRedis(async (redis) => {
    const keys = await redis.keys(`${prefix}*`);
    return keys.length === 0 ? 0 : redis.unlink(...keys);
  });
