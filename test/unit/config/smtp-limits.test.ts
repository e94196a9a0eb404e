import test from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../../src/config/load.js';

test('SMTP session limits and the AUTH throttle have their documented defaults', () => {
  const { smtp, authThrottle } = buildConfig({});
  assert.deepEqual(
    {
      maxConnections: smtp.maxConnections,
      maxConnectionsPerAddress: smtp.maxConnectionsPerAddress,
      idleTimeoutSeconds: smtp.idleTimeoutSeconds,
      maxCommandsBeforeAuth: smtp.maxCommandsBeforeAuth,
      authTimeoutSeconds: smtp.authTimeoutSeconds,
      dataTimeoutSeconds: smtp.dataTimeoutSeconds,
      dataMinBytesPerSecond: smtp.dataMinBytesPerSecond,
      maxSessionSeconds: smtp.maxSessionSeconds,
      shutdownTimeoutSeconds: smtp.shutdownTimeoutSeconds,
    },
    {
      maxConnections: 1000,
      maxConnectionsPerAddress: 50,
      idleTimeoutSeconds: 60,
      maxCommandsBeforeAuth: 10,
      authTimeoutSeconds: 60,
      dataTimeoutSeconds: 900,
      dataMinBytesPerSecond: 500,
      maxSessionSeconds: 3600,
      shutdownTimeoutSeconds: 30,
    },
  );
  assert.deepEqual(authThrottle, {
    freeFailures: 2,
    delayStepMs: 1000,
    maxDelayMs: 5000,
    blockAfterFailures: 10,
    userBlockAfterFailures: 30,
    addressBlockAfterFailures: 100,
    windowSeconds: 600,
    blockSeconds: 900,
  });
});

test('a zero minimum data rate turns the rate check off; a zero deadline is refused', () => {
  assert.equal(buildConfig({ smtp: { dataMinBytesPerSecond: 0 } }).smtp.dataMinBytesPerSecond, 0);
  assert.throws(() => buildConfig({ smtp: { dataTimeoutSeconds: 0 } }), { message: 'configuration option smtp.dataTimeoutSeconds: must be between 1 and 86400, got 0' });
});
