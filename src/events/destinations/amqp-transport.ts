import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { describeTarget } from './create-transport.js';
import type { OutboundRecord, Transport } from './transport.js';

/** The parameters of an `amqp://` target that are relaygate's, not the broker connection's. */
const TARGET_PARAMETERS = ['exchange', 'routingKey', 'queue'] as const;

interface AmqpTarget {
  connectUrl: string;
  /** Publish to this exchange (declared durable, type topic) with routingKey; or, without one, to `queue`. */
  exchange: string | null;
  routingKey: string;
  queue: string | null;
}

/** Reads `amqp://user:pass@host:5672/vhost?exchange=X&routingKey=Y` or `…?queue=Q`; other query parameters go to the broker. */
export function parseAmqpTarget(url: URL): AmqpTarget {
  const connectUrl = new URL(url);
  for (const parameter of TARGET_PARAMETERS) connectUrl.searchParams.delete(parameter);
  const exchange = url.searchParams.get('exchange');
  const queue = url.searchParams.get('queue');
  if (!exchange && !queue) throw new Error('an AMQP destination needs ?exchange=NAME (with &routingKey=KEY) or ?queue=NAME');
  return { connectUrl: connectUrl.toString(), exchange, routingKey: url.searchParams.get('routingKey') ?? '', queue };
}


/**
 * Publishes records to RabbitMQ (or any AMQP 0-9-1 broker) as persistent messages on a confirm channel: `send`
 * resolves only once the broker has confirmed every record. A broken connection is dropped and opened again on the
 * next send, so the dispatcher's retry is the reconnect.
 */
export function createAmqpTransport(url: URL): Transport {
  const target = parseAmqpTarget(url);
  let opening: Promise<{ connection: ChannelModel; channel: ConfirmChannel }> | null = null;

  const forget = () => {
    opening = null;
  };
  const open = () =>
    (opening ??= (async () => {
      // Loaded with the first AMQP destination: most nodes have none (about 1 MB of heap otherwise).
      const { connect } = await import('amqplib');
      const connection = await connect(target.connectUrl);
      // Without listeners an 'error' event would end the process; the next send reconnects instead.
      connection.on('error', forget);
      connection.on('close', forget);
      try {
        const channel = await connection.createConfirmChannel();
        channel.on('error', forget);
        channel.on('close', forget);
        if (target.exchange) await channel.assertExchange(target.exchange, 'topic', { durable: true });
        else await channel.assertQueue(target.queue!, { durable: true });
        return { connection, channel };
      } catch (error) {
        await connection.close().catch(() => undefined);
        throw error;
      }
    })().catch((error: unknown) => {
      forget();
      throw new Error(`AMQP destination ${describeTarget(url.toString())}: ${(error as Error).message}`);
    }));

  return {
    async send(records: readonly OutboundRecord[]) {
      const { channel } = await open();
      try {
        for (const record of records) {
          const options = {
            persistent: true,
            contentType: 'application/json',
            messageId: record.id,
            timestamp: Math.floor(record.at / 1000),
            type: record.subject,
            headers: { 'x-ses-message-id': record.messageId },
          };
          const content = Buffer.from(record.body);
          if (target.exchange) channel.publish(target.exchange, target.routingKey, content, options);
          else channel.sendToQueue(target.queue!, content, options);
        }
        await channel.waitForConfirms();
      } catch (error) {
        forget();
        throw new Error(`AMQP destination ${describeTarget(url.toString())}: ${(error as Error).message}`);
      }
    },
    async close() {
      const current = opening;
      forget();
      if (!current) return;
      const opened = await current.catch(() => null);
      await opened?.connection.close().catch(() => undefined);
    },
  };
}
