import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis every cluster test uses; each test works under a key prefix of its own and removes its keys after. */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** A key prefix no other test (or run) uses. */
export const testKeyPrefix = (name: string): string => `relaygate-test:${name}:${randomBytes(6).toString('hex')}:`;

/** A plain client for a test's own reads and clean-up. */
export function testRedis(): Redis {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  return redis;
}

/** Deletes every key under `prefix` (a test's keys), returning how many there were. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    if (keys.length > 0) deleted += await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
