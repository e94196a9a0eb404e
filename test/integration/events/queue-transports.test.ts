import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import { createAmqpTransport, parseAmqpTarget } from '../../../src/events/destinations/amqp-transport.js';
import { createRedisStreamTransport } from '../../../src/events/destinations/redis-stream-transport.js';
import type { OutboundRecord } from '../../../src/events/destinations/transport.js';

const AMQP_URL = process.env.RELAYGATE_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env.RELAYGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const records: OutboundRecord[] = [1, 2, 3].map((n) => ({
  id: `event-${n}`,
  messageId: '0100019ab3c2d4e5-8f1c2a3b-0000-0000-0000-000000000001-000000',
  subject: 'Amazon SES Email Event Notification',
  body: JSON.stringify({ eventType: n === 1 ? 'Send' : 'Delivery', n }),
  at: Date.parse('2026-12-04T10:00:00.000Z') + n,
}));

/** A TCP port that accepts and at once closes every connection: a broker that is there but broken. */
async function closingPort(): Promise<{ port: number; close(): void }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

describe('RabbitMQ destination', () => {
  test('publishes each record as a persistent JSON message with its id, confirmed by the broker, in order', async () => {
    const exchange = `relaygate-test-${randomUUID()}`;
    const consumer = await connect(AMQP_URL);
    const channel = await consumer.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, exchange, 'ses.#');
    const transport = createAmqpTransport(new URL(`${AMQP_URL}?exchange=${exchange}&routingKey=ses.events`));
    try {
      await transport.send(records);
      const received = [];
      for (let n = 0; n < 3; n++) {
        const message = await channel.get(queue, { noAck: true });
        assert.ok(message, `message ${n + 1} is in the queue`);
        received.push(message);
      }
      assert.deepEqual(received.map((message) => message.content.toString()), records.map((record) => record.body));
      assert.deepEqual(received.map((message) => message.properties.messageId), ['event-1', 'event-2', 'event-3']);
      assert.equal(received[0]!.properties.deliveryMode, 2, 'persistent');
      assert.equal(received[0]!.properties.contentType, 'application/json');
      assert.equal(received[0]!.properties.type, 'Amazon SES Email Event Notification');
      assert.equal(received[0]!.properties.headers?.['x-ses-message-id'], records[0]!.messageId);
      assert.equal(received[0]!.fields.routingKey, 'ses.events');
    } finally {
      await transport.close();
      await channel.deleteExchange(exchange);
      await consumer.close();
    }
  });

  test('a queue target declares a durable queue and sends to it', async () => {
    const queueName = `relaygate-test-${randomUUID()}`;
    const transport = createAmqpTransport(new URL(`${AMQP_URL}?queue=${queueName}`));
    const consumer = await connect(AMQP_URL);
    const channel = await consumer.createChannel();
    try {
      await transport.send(records.slice(0, 1));
      const message = await channel.get(queueName, { noAck: true });
      assert.equal(message && message.content.toString(), records[0]!.body);
    } finally {
      await transport.close();
      await channel.deleteQueue(queueName);
      await consumer.close();
    }
  });

  test('a broker that is not there fails the send with an error naming the target without its password; the next send works once it is', async () => {
    const broken = await closingPort();
    const transport = createAmqpTransport(new URL(`amqp://guest:secret@127.0.0.1:${broken.port}?queue=x`));
    try {
      await assert.rejects(transport.send(records), (error: Error) => {
        assert.match(error.message, new RegExp(`^AMQP destination amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:${broken.port}`));
        assert.doesNotMatch(error.message, /secret/);
        return true;
      });
      await assert.rejects(transport.send(records), 'a second try fails the same way rather than hanging on the dead connection');
    } finally {
      await transport.close();
      broken.close();
    }
  });

  test('a target without exchange or queue is refused when it is configured', () => {
    assert.throws(() => parseAmqpTarget(new URL('amqp://guest:pw@127.0.0.1:5672')), /an AMQP destination needs \?exchange=NAME \(with &routingKey=KEY\) or \?queue=NAME$/);
  });
});

describe('Redis stream destination', () => {
  const redis = new Redis(REDIS_URL);
  after(() => redis.quit());

  test('appends each record with its id, message id, subject, time and JSON body, in order', async () => {
    const stream = `relaygate-test:${randomUUID()}`;
    const transport = createRedisStreamTransport(new URL(`${REDIS_URL}?stream=${encodeURIComponent(stream)}`));
    try {
      await transport.send(records);
      const entries = await redis.xrange(stream, '-', '+');
      assert.deepEqual(
        entries.map(([, fields]) => fields),
        records.map((record) => ['id', record.id, 'messageId', record.messageId, 'subject', record.subject, 'at', String(record.at), 'body', record.body]),
      );
    } finally {
      await transport.close();
      await redis.del(stream);
    }
  });

  test('maxlen trims the stream approximately', async () => {
    const stream = `relaygate-test:${randomUUID()}`;
    const transport = createRedisStreamTransport(new URL(`${REDIS_URL}?stream=${encodeURIComponent(stream)}&maxlen=1`));
    try {
      for (let n = 0; n < 300; n++) await transport.send(records.slice(0, 1));
      assert.ok((await redis.xlen(stream)) < 300);
    } finally {
      await transport.close();
      await redis.del(stream);
    }
  });

  test('an unreachable Redis fails the send quickly instead of queueing it in memory', async () => {
    const broken = await closingPort();
    const transport = createRedisStreamTransport(new URL(`redis://127.0.0.1:${broken.port}/0?stream=s`));
    const started = Date.now();
    try {
      await assert.rejects(transport.send(records));
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await transport.close();
      broken.close();
    }
  });
});
