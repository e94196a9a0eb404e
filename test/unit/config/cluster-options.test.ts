import test from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../../src/config/load.js';

test('cluster: alone by default, 30-second shaping leases, --redis wins over the file', () => {
  assert.deepEqual(buildConfig({}).cluster, { redisUrl: null, keyPrefix: 'relaygate:', leaseSeconds: 30, redisGraceSeconds: 30, nodeId: null, heartbeatMs: 5000 });
  const config = buildConfig({ cluster: { redisUrl: 'redis://10.0.0.5:6379/0', leaseSeconds: 10 } }, { redis: 'redis://127.0.0.1:6379/2' });
  assert.deepEqual(config.cluster, { redisUrl: 'redis://127.0.0.1:6379/2', keyPrefix: 'relaygate:', leaseSeconds: 10, redisGraceSeconds: 30, nodeId: null, heartbeatMs: 5000 });
});

test('cluster: a lease shorter than 3 seconds (renewed every second) is refused', () => {
  assert.throws(() => buildConfig({ cluster: { leaseSeconds: 2 } }), { name: 'ConfigError', message: 'configuration option cluster.leaseSeconds: must be between 3 and 3600, got 2' });
});
