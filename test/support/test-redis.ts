import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { connectRedis } from '../../src/cluster/redis-connection.js';
import { createLogger } from '../../src/log/logger.js';

/** The machine's Redis; tests keep to a key prefix of their own and delete it afterwards. */
export const TEST_REDIS_URL = process.env.RELAYGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const quiet = createLogger({ level: 'silent' });

/** Keys under a prefix no other test uses, and connections made as the gateway makes them (connectRedis). */
export interface TestKeySpace {
  /** Ends with ':' like cluster.keyPrefix. */
  readonly prefix: string;
  /** A connection for the test's own reads and writes (commands wait while it connects). */
  readonly admin: Redis;
  /** A new connection (each its own socket, as another node's would be); closed by cleanUp. */
  connect(url?: string): Redis;
  /** Every key under the prefix. */
  keys(): Promise<string[]>;
  /** Closes the connections and deletes every key under the prefix. */
  cleanUp(): Promise<void>;
}

export function testKeySpace(label: string): TestKeySpace {
  const prefix = `relaygate-test:${label}:${randomUUID()}:`;
  const connections: Redis[] = [];
  const admin = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  admin.on('error', () => undefined);
  const keys = async () => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found;
  };
  return {
    prefix,
    admin,
    connect(url = TEST_REDIS_URL) {
      const redis = connectRedis(url, quiet, `test-${label}`);
      connections.push(redis);
      return redis;
    },
    keys,
    async cleanUp() {
      for (const redis of connections.splice(0)) redis.disconnect();
      const found = await keys();
      if (found.length > 0) await admin.del(...found);
      await admin.quit();
    },
  };
}

/** A loopback port where nothing listens (bound, then released): connections to it are refused. */
export async function refusedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `redis://127.0.0.1:${port}/0`;
}

/** Counts the commands a connection writes (an EVALSHA is one, a pipeline of three is three), to show round trips. */
export function countCommands(redis: Redis): { readonly sent: number; reset(): void } {
  let sent = 0;
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    sent++;
    return original(...args);
  }) as Redis['sendCommand'];
  return {
    get sent() {
      return sent;
    },
    reset() {
      sent = 0;
    },
  };
}

/** A key prefix no other test (or run) uses. */
export const testKeyPrefix = (name: string): string => `relaygate-test:${name}:${randomUUID()}:`;

/** A plain client for a test's own reads and clean-up. */
export function testRedis(): Redis {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  return redis;
}

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
