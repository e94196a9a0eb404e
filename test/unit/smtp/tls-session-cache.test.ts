import test from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { resumeTlsSessions, sessionProtocol, TlsSessionCache } from '../../../src/smtp/tls-session-cache.js';
import { createTestCertificate } from '../../support/test-certificate.js';

/** SSL_OP_NO_TICKET: the client takes no ticket, so it can only resume by session id. */
const NO_TICKET = 0x4000;

/** One handshake; a new session waits for the session to keep, which TLS 1.3 sends after the handshake. Deadline 5 s. */
async function handshake(port: number, options: ConnectionOptions): Promise<{ reused: boolean; session: Buffer | undefined }> {
  const socket: TLSSocket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no resumed or new session within 5 s')), 5000);
      let connected = false;
      let session: Buffer | undefined;
      const settle = () => {
        if (!connected || !(session || socket.isSessionReused())) return;
        clearTimeout(timer);
        resolve({ reused: socket.isSessionReused(), session });
      };
      socket.once('secureConnect', () => {
        connected = true;
        settle();
      });
      socket.on('session', (data: Buffer) => {
        session = data;
        settle();
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed before the session was settled')));
    });
  } finally {
    socket.destroy();
  }
}

test('TLS 1.2 clients without tickets resume by session id; the sessions OpenSSL reports for TLS 1.3 tickets read as TLS 1.3 (not cached), and resume by ticket', async (t) => {
  const certificate = await createTestCertificate(['localhost'], 'ec');
  const server = createServer({ key: certificate.key, cert: certificate.cert }, (socket) => socket.on('error', () => undefined));
  const stored: Buffer[] = [];
  server.on('newSession', (_id: Buffer, data: Buffer) => stored.push(data));
  resumeTlsSessions(server, new TlsSessionCache());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;

  const first = await handshake(port, { maxVersion: 'TLSv1.2', secureOptions: NO_TICKET });
  assert.equal(first.reused, false);
  assert.deepEqual(stored.map(sessionProtocol), [0x0303]);
  const second = await handshake(port, { maxVersion: 'TLSv1.2', secureOptions: NO_TICKET, session: first.session! });
  assert.equal(second.reused, true);

  stored.length = 0;
  const modern = await handshake(port, { minVersion: 'TLSv1.3' });
  assert.ok(stored.length > 0, 'OpenSSL reports TLS 1.3 tickets as new sessions');
  assert.deepEqual(new Set(stored.map(sessionProtocol)), new Set([0x0304]));
  assert.equal((await handshake(port, { minVersion: 'TLSv1.3', session: modern.session! })).reused, true);
});

test('sessionProtocol reads only what is laid out as an SSL_SESSION', () => {
  assert.equal(sessionProtocol(Buffer.from('3081030201010202030304', 'hex')), 0x0303);
  assert.equal(sessionProtocol(Buffer.from('300a020101020203040400', 'hex')), 0x0304);
  for (const bad of ['', '30', '3103020101020203', '3081030401010202030304', '30810302010104020303', '308103020101020903']) {
    assert.equal(sessionProtocol(Buffer.from(bad, 'hex')), null, bad);
  }
});
