import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { gatewayWithCredential } from '../support/gateway-suite.js';

/** How long the server keeps a connection whose client does `afterConnect` and then stalls (null: still open after `limitMs`). */
function closedAfter(port: number, afterConnect: (write: (data: string | Buffer) => void, received: () => string) => Promise<void>, limitMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let data = '';
    let started = 0;
    const limit = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, limitMs);
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(limit);
      resolve(Date.now() - started);
    });
    socket.on('connect', () => {
      afterConnect((chunk) => socket.write(chunk), () => data).then(() => (started = Date.now()), reject);
    });
  });
}

const until = async (condition: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('no reply within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('a stalled TLS handshake is cut off after smtp.tlsHandshakeTimeoutSeconds', () => {
  const suite = gatewayWithCredential({ config: { smtp: { tlsHandshakeTimeoutSeconds: 1 } } });

  test('after STARTTLS: a client that sends part of a TLS record and stalls is disconnected, not kept for the idle timeout', async () => {
    const elapsed = await closedAfter(
      suite.gateway.starttlsPorts[0]!,
      async (write, received) => {
        await until(() => received().startsWith('220 '));
        write('EHLO client.example\r\nSTARTTLS\r\n');
        await until(() => /^220 Ready to start TLS\r\n/m.test(received()));
        write(Buffer.from([0x16, 0x03, 0x01, 0x02]));
      },
      10_000,
    );
    assert.ok(elapsed !== null && elapsed < 4000, `closed after ${elapsed} ms`);
  });

  test('on the TLS-wrapper port: a client that never starts the handshake is disconnected', async () => {
    const elapsed = await closedAfter(suite.gateway.tlsPorts[0]!, async () => undefined, 10_000);
    assert.ok(elapsed !== null && elapsed < 4000, `closed after ${elapsed} ms`);
  });
});
