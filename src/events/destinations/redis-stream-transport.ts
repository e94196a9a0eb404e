import { ioredis } from '../../cluster/ioredis-module.js';
import type { OutboundRecord, Transport } from './transport.js';

/** How long a send waits for Redis before it fails and the dispatcher retries later. */
const COMMAND_TIMEOUT_MS = 5000;

interface RedisStreamTarget {
  stream: string;
  /** Trim the stream to about this many entries (XADD MAXLEN ~); 0 keeps everything. */
  maxLength: number;
}

/** Reads `redis://[:password@]host:6379/db?stream=KEY[&maxlen=N]`. */
export function parseRedisStreamTarget(url: URL): RedisStreamTarget {
  const stream = url.searchParams.get('stream');
  if (!stream) throw new Error('a Redis stream destination needs ?stream=KEY');
  const maxLength = Number(url.searchParams.get('maxlen') ?? 0);
  if (!Number.isSafeInteger(maxLength) || maxLength < 0) throw new Error(`maxlen must be a whole number, got "${url.searchParams.get('maxlen')}"`);
  return { stream, maxLength };
}

/**
 * Appends each record to a Redis stream (XADD) with the fields id, messageId, subject, at and body (the JSON record);
 * a batch goes in one MULTI, so it is appended whole or not at all. Consumers de-duplicate on the `id` field.
 */
export function createRedisStreamTransport(url: URL): Transport {
  const target = parseRedisStreamTarget(url);
  const connectUrl = new URL(url);
  connectUrl.search = '';
  const redis = new (ioredis().Redis)(connectUrl.toString(), {
    lazyConnect: true,
    // Fail at once while Redis is away (the dispatcher retries with backoff) rather than queueing commands in memory.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
  });
  // Connection errors come back through the failed sends; without a listener they would end the process.
  redis.on('error', () => undefined);
  const trim = target.maxLength > 0 ? (['MAXLEN', '~', String(target.maxLength)] as const) : [];

  return {
    async send(records: readonly OutboundRecord[]) {
      if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
      const batch = redis.multi();
      for (const record of records) {
        batch.xadd(target.stream, ...trim, '*', 'id', record.id, 'messageId', record.messageId, 'subject', record.subject, 'at', String(record.at), 'body', record.body);
      }
      const results = await batch.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw new Error(`Redis stream ${target.stream}: ${failed?.[0]?.message ?? 'transaction aborted'}`);
    },
    async close() {
      redis.disconnect();
    },
  };
}
