import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startCertificateServer, type CertificateServer } from '../../../src/http/certificate-server.js';
import { createLogger } from '../../../src/log/logger.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** Sends one raw HTTP/1.1 request and returns the status line of the answer ('' if the connection closed without one). */
function statusLine(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: relaygate.test\r\nConnection: close\r\n\r\n`));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('end', () => resolve(received.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('the certificate listener (events.httpListen)', () => {
  let server: CertificateServer;
  before(async () => {
    server = await startCertificateServer({ host: '127.0.0.1', port: 0, tls: null, certificateName: 'SimpleNotificationService-test.pem', certificatePem: PEM }, createLogger({ level: 'silent' }));
  });
  after(() => server.close());

  test('a request target the URL parser rejects gets 400, and the listener keeps serving', async () => {
    // Each of these threw from new URL() inside the request handler: an uncaught exception that stopped the gateway.
    for (const target of ['//', '//a:b', '//[', '//user@:x']) assert.equal(await statusLine(server.port, target), 'HTTP/1.1 400 Bad Request', target);
    assert.equal(await statusLine(server.port, '/SimpleNotificationService-test.pem'), 'HTTP/1.1 200 OK');
    assert.equal(await statusLine(server.port, '/elsewhere'), 'HTTP/1.1 404 Not Found');
  });

  test('the certificate is served byte for byte', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/SimpleNotificationService-test.pem`);
    assert.equal(response.headers.get('content-type'), 'application/x-pem-file');
    assert.equal(await response.text(), PEM);
  });
});
