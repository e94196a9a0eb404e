import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type ChannelModel } from 'amqplib';
import { Redis } from 'ioredis';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../../support/gateway-process.js';
import { appendEvents, bounceEvent, deliveryEvent, sendEvent, testMessage } from '../../support/mail-events.js';
import { provisionCredential } from '../../support/provision.js';

const ACCOUNT = '111122223333';
const AMQP_URL = process.env.RELAYGATE_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env.RELAYGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

async function until<T>(probe: () => Promise<T | null>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = await probe();
    if (found !== null) return found;
    if (Date.now() > deadline) throw new Error(`${what} within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('RabbitMQ and Redis stream event destinations, through the gateway', () => {
  const queueName = `relaygate-test-${randomUUID()}`;
  const stream = `relaygate-test:${randomUUID()}`;
  const redis = new Redis(REDIS_URL);
  let broker: ChannelModel;
  let gateway: GatewayProcess;
  const message = testMessage('1', ACCOUNT);
  const events = [sendEvent(message), deliveryEvent(message), bounceEvent(message)];

  before(async () => {
    broker = await connect(AMQP_URL);
    // Declared as the destination declares it (durable), so the test can read it before the first record.
    const setup = await broker.createChannel();
    await setup.assertQueue(queueName, { durable: true });
    await setup.close();
    const dataDir = tempDir();
    await provisionCredential(dataDir, { accountId: ACCOUNT, configurationSets: ['ConfigSet'] });
    const store = SqliteControlStore.open(dataDir);
    await store.configurationSets.update(ACCOUNT, 'ConfigSet', {
      eventDestinations: [
        { name: 'rabbit', enabled: true, eventTypes: ['SEND', 'DELIVERY'], target: `${AMQP_URL}?queue=${queueName}`, createdAt: 0 },
        { name: 'stream', enabled: true, eventTypes: ['SEND', 'BOUNCE'], target: `${REDIS_URL}?stream=${encodeURIComponent(stream)}`, createdAt: 0 },
      ],
    });
    await store.close();
    gateway = await startGatewayProcess({ dataDir, config: { events: { pollMs: 100, retry: { firstDelayMs: 100, maxDelayMs: 500 } } } });
    appendEvents(dataDir, events);
  });
  after(async () => {
    await gateway.stop();
    const channel = await broker.createChannel();
    await channel.deleteQueue(queueName);
    await broker.close();
    await redis.del(stream);
    await redis.quit();
  });

  test('each destination receives its types as SES records, in order, with the event id', async () => {
    const channel = await broker.createChannel();
    const received: Array<{ id: string | undefined; record: { eventType: string; mail: { messageId: string } } }> = [];
    await until(async () => {
      const got = await channel.get(queueName, { noAck: true });
      if (got !== false) received.push({ id: got.properties.messageId, record: JSON.parse(got.content.toString()) });
      return received.length >= 2 ? received : null;
    }, 'two records in RabbitMQ');
    assert.deepEqual(received.map(({ id, record }) => [id, record.eventType, record.mail.messageId]), [
      [events[0]!.id, 'Send', message.id],
      [events[1]!.id, 'Delivery', message.id],
    ]);
    const entries = await until(async () => {
      const found = await redis.xrange(stream, '-', '+');
      return found.length >= 2 ? found : null;
    }, 'two records in the Redis stream');
    const fields = entries.map(([, values]) => Object.fromEntries(Array.from({ length: values.length / 2 }, (_, n) => [values[2 * n], values[2 * n + 1]])));
    assert.deepEqual(fields.map((entry) => [entry.id, JSON.parse(entry.body!).eventType]), [
      [events[0]!.id, 'Send'],
      [events[2]!.id, 'Bounce'],
    ]);
    assert.equal(JSON.parse(fields[1]!.body!).bounce.feedbackId, events[2]!.id);
  });
});
