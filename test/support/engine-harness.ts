import { buildConfig } from '../../src/config/load.js';
import { nodeIdOf } from '../../src/config/node-id.js';
import { DeliveryEngine, type DeliveryEngineDependencies } from '../../src/delivery/delivery-engine.js';
import { staticDeliverySettings } from '../../src/delivery/delivery-settings.js';
import { createLogger } from '../../src/log/logger.js';
import { generateMessageId } from '../../src/message/message-id.js';
import { formatRfc5322Date } from '../../src/message/rfc5322-date.js';
import { MessageAcceptor } from '../../src/queue/message-acceptor.js';
import { Spool } from '../../src/queue/spool.js';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { tempDir } from './gateway-process.js';

export interface QueuedTestMessage {
  from?: string;
  to: string[];
  mailFrom?: string;
  configurationSet?: string;
  body?: string;
}

export interface EngineHarness {
  dataDir: string;
  queue: SqliteQueueStore;
  engine: DeliveryEngine;
  /** Accepts a message as the submission side would (spool file, group commit, engine woken) and returns its id. */
  accept(message: QueuedTestMessage): Promise<string>;
  stop(): Promise<void>;
}

export type HarnessOptions = Partial<Omit<DeliveryEngineDependencies, 'config' | 'queue' | 'spool' | 'log'>> & {
  /** Raw configuration, as in the YAML file. */
  config: Record<string, unknown>;
};

/**
 * A delivery engine in this process on a fresh data directory, with the real queue, spool and acceptor: for behaviour
 * that depends on identities and configuration sets (given as static DeliverySettings) or on injected MTA-STS policies.
 */
export async function startEngine(options: HarnessOptions): Promise<EngineHarness> {
  const dataDir = tempDir();
  const config = buildConfig(options.config, { dataDir, hostname: 'relaygate.test' });
  const log = createLogger({ level: 'silent' });
  const queue = SqliteQueueStore.open(dataDir);
  const spool = new Spool(dataDir);
  const acceptor = new MessageAcceptor(spool, queue, log);
  const engine = new DeliveryEngine({ settings: staticDeliverySettings(), ...options, config, queue, spool, log });
  acceptor.onCommitted(() => engine.wake());
  await engine.start();
  return {
    dataDir,
    queue,
    engine,
    async accept(message) {
      const receivedAt = new Date();
      const id = generateMessageId(nodeIdOf(config), receivedAt.getTime());
      const header = Buffer.from(
        `From: ${message.from ?? 'Sender <sender@example.com>'}\r\nTo: ${message.to.join(', ')}\r\nSubject: engine test\r\n` +
          `Message-ID: <${id}@relaygate.test>\r\nDate: ${formatRfc5322Date(receivedAt)}\r\n`,
        'latin1',
      );
      const body = message.body ?? 'Hello from the engine test.\r\n';
      const file = spool.create(id, receivedAt);
      file.stream.end(body);
      await acceptor.accept(
        {
          id,
          accountId: '111122223333',
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          mailFrom: message.mailFrom ?? 'sender@example.com',
          recipients: message.to,
          header,
          body: null,
          bodyFile: file.name,
          size: header.length + 2 + Buffer.byteLength(body, 'latin1'),
          receivedAt,
          metadata: {
            sourceIp: '127.0.0.1',
            tls: true,
            heloName: 'client.test',
            ses: message.configurationSet ? { configurationSet: message.configurationSet } : {},
            configurationSet: message.configurationSet ?? null,
            tags: {},
          },
        },
        file,
      );
      return id;
    },
    async stop() {
      await engine.stop();
      queue.close();
    },
  };
}
