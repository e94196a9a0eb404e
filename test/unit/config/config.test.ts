import test from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../../src/config/load.js';
import { formatListener, parseListenSpec } from '../../../src/config/listen-spec.js';

test('defaults: SES ports, 10 MB, 50 recipients, TLS 1.2, us-east-1', () => {
  const config = buildConfig({});
  assert.deepEqual(
    config.listeners.map((l) => `${l.port}=${l.mode}${l.intake ? '+intake' : ''}`),
    ['25=starttls+intake', '587=starttls', '2587=starttls', '465=tls', '2465=tls'],
  );
  assert.equal(config.defaultListeners, true);
  assert.equal(config.smtp.maxMessageBytes, 10 * 1024 * 1024);
  assert.equal(config.smtp.maxRecipients, 50);
  assert.equal(config.tls.minVersion, 'TLSv1.2');
  assert.equal(config.region, 'us-east-1');
  assert.deepEqual(config.cluster, { redisUrl: null, keyPrefix: 'relaygate:', leaseSeconds: 30, redisGraceSeconds: 30, nodeId: null, heartbeatMs: 5000 });
});

test('command-line overrides win over the file', () => {
  const config = buildConfig({ region: 'eu-west-1', listeners: ['0.0.0.0:587=starttls'] }, { region: 'us-west-2', listen: ['127.0.0.1:2587=starttls', '[::1]:2465=tls'] });
  assert.equal(config.region, 'us-west-2');
  assert.deepEqual(config.listeners, [
    { host: '127.0.0.1', port: 2587, mode: 'starttls', intake: false },
    { host: '::1', port: 2465, mode: 'tls', intake: false },
  ]);
  assert.equal(config.defaultListeners, false);
});

const ERRORS: Array<[string, unknown, string]> = [
  ['unknown option', { smtp: { maxMesageBytes: 1 } }, 'configuration option smtp.maxMesageBytes: unknown option'],
  ['size over 40 MB', { smtp: { maxMessageBytes: 50_000_000 } }, 'configuration option smtp.maxMessageBytes: must be between 1024 and 41943040, got 50000000'],
  ['bad TLS version', { tls: { minVersion: 'SSLv3' } }, 'configuration option tls.minVersion: must be one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, got "SSLv3"'],
  ['cert without key', { tls: { certFile: '/x.pem' } }, 'configuration option tls.certFile: tls.certFile and tls.keyFile must be set together'],
  ['bad network', { smtp: { plaintextNetworks: ['10.0.0.0/33'] } }, 'configuration option smtp.plaintextNetworks[0]: "10.0.0.0/33" has an invalid prefix length (0-32)'],
  ['bad listener', { listeners: ['localhost:25=smtps'] }, 'configuration option listeners[0]: mode "smtps" must be starttls or tls'],
  ['bad region', { region: 'mars' }, 'configuration option region: "mars" does not look like an AWS region name (e.g. us-east-1)'],
  ['wrong type', { smtp: { maxRecipients: '50' } }, 'configuration option smtp.maxRecipients: must be a whole number, got "50"'],
  ['negative Redis grace', { cluster: { redisGraceSeconds: -1 } }, 'configuration option cluster.redisGraceSeconds: must be between 0 and 3600, got -1'],
];

for (const [name, raw, message] of ERRORS) {
  test(`configuration error names the option: ${name}`, () => {
    assert.throws(() => buildConfig(raw), { name: 'ConfigError', message });
  });
}

test('listen specs', () => {
  assert.deepEqual(parseListenSpec('127.0.0.1:2587=starttls', '--listen'), { host: '127.0.0.1', port: 2587, mode: 'starttls', intake: false });
  assert.deepEqual(parseListenSpec('127.0.0.1:2525=STARTTLS+intake', '--listen'), { host: '127.0.0.1', port: 2525, mode: 'starttls', intake: true });
  assert.deepEqual(parseListenSpec('[::1]:25=starttls', '--listen'), { host: '::1', port: 25, mode: 'starttls', intake: true }, 'port 25 always takes feedback');
  assert.equal(formatListener(parseListenSpec('0.0.0.0:2465=tls+intake', '--listen')), '0.0.0.0:2465=tls+intake');
  assert.throws(() => parseListenSpec('127.0.0.1:2525=starttls+relay', '--listen'), { message: 'configuration option --listen: "+relay" after the mode must be +intake' });
  assert.throws(() => parseListenSpec('127.0.0.1:2587', '--listen'), /is not HOST:PORT=MODE/);
  assert.throws(() => parseListenSpec('127.0.0.1:70000=tls', '--listen'), /port 70000 is out of range/);
});
