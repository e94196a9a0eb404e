import test from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../../src/config/load.js';

test('events: defaults, an IPv6 listener, and mistakes named by option', () => {
  const defaults = buildConfig({}).events;
  assert.deepEqual(defaults.httpListen, { host: '127.0.0.1', port: 8081 });
  assert.equal(defaults.httpTls, false);
  assert.deepEqual(defaults.retry, { firstDelayMs: 1000, maxDelayMs: 60_000 });
  assert.deepEqual(defaults.file, { maxBytes: 104_857_600, keep: 5 });
  assert.equal(defaults.retentionHours, 72);
  assert.deepEqual(buildConfig({ events: { httpListen: '[::1]:0' } }).events.httpListen, { host: '::1', port: 0 });
  for (const [events, message] of [
    [{ httpListen: '127.0.0.1' }, 'configuration option events.httpListen: "127.0.0.1" is not HOST:PORT (for example 127.0.0.1:8081 or [::1]:8081)'],
    [{ certificateUrlBase: 'https://relay.example.com' }, 'configuration option events.certificateUrlBase: "https://relay.example.com" must be an http:// or https:// URL ending in "/"'],
    [{ retry: { firstDelayMs: 5000, maxDelayMs: 1000 } }, 'configuration option events.retry.maxDelayMs: must not be less than firstDelayMs'],
    [{ batchsize: 10 }, 'configuration option events.batchsize: unknown option'],
  ] as const) {
    assert.throws(() => buildConfig({ events }), { name: 'ConfigError', message });
  }
});
