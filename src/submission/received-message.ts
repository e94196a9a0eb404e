import { Readable } from 'node:stream';
import type { MessageLimits, ReadMessage } from '../message/message-reader.js';
import { encodeForTransport } from '../message/transport-encoding.js';
import { BodySink } from '../queue/body-sink.js';
import type { Spool } from '../queue/spool.js';

/** The message as the client sent it (after line-ending normalisation and header folding): header section, blank line, body. */
export function openReceived(spool: Spool, message: ReadMessage, body: BodySink): NodeJS.ReadableStream {
  const content = body.file ? spool.read(body.file.name) : Readable.from([body.inline as Buffer]);
  return Readable.from(
    (async function* () {
      yield Buffer.from(`${message.headers.toString()}\r\n`, 'latin1');
      yield* content;
    })(),
  );
}

/**
 * The received message re-encoded for transport (encodeForTransport) into a body of its own, which replaces the
 * received one: that is discarded once the new one is complete, the new one if re-encoding fails.
 */
export async function transportEncoded(
  spool: Spool,
  received: { message: ReadMessage; body: BodySink },
  target: { messageId: string; receivedAt: Date; limits: MessageLimits },
): Promise<{ message: ReadMessage; body: BodySink }> {
  // Its own spool name: the received body's file is read while this one is written.
  const body = new BodySink(spool, `${target.messageId}.encoded`, target.receivedAt);
  try {
    const message = await encodeForTransport(received.message, () => openReceived(spool, received.message, received.body), body, target.limits);
    if (received.body.file) await spool.discard(received.body.file);
    return { message, body };
  } catch (error) {
    // The error that stopped re-encoding is the one to report, not a failure to clean up after it.
    if (body.file) await spool.discard(body.file).catch(() => undefined);
    throw error;
  }
}
