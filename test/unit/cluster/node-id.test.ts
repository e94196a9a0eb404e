import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeIdOf } from '../../../src/config/node-id.js';
import { buildConfig } from '../../../src/config/load.js';
import { tempDir } from '../../support/gateway-process.js';

test('without cluster.nodeId a node id is generated once and kept in <dataDir>/node-id, mode 0600', () => {
  const dataDir = join(tempDir(), 'data');
  const first = nodeIdOf({ dataDir, cluster: { nodeId: null } });
  assert.match(first, /^[a-z0-9]{8}$/);
  assert.equal(readFileSync(join(dataDir, 'node-id'), 'utf8'), `${first}\n`);
  assert.equal(statSync(join(dataDir, 'node-id')).mode & 0o777, 0o600);
  assert.equal(nodeIdOf({ dataDir, cluster: { nodeId: null } }), first, 'the same after a restart');
  assert.equal(nodeIdOf({ dataDir, cluster: { nodeId: 'eu1' } }), 'eu1', 'the configured id wins');
  assert.notEqual(nodeIdOf({ dataDir: tempDir(), cluster: { nodeId: null } }), first, 'another data directory, another node');
});

test('a damaged node-id file stops the start with the option and the file named', () => {
  const dataDir = tempDir();
  writeFileSync(join(dataDir, 'node-id'), 'Not An Id\n');
  assert.throws(() => nodeIdOf({ dataDir, cluster: { nodeId: null } }), /configuration option cluster\.nodeId: .*node-id does not hold a node id/);
});

test('cluster.nodeId: 1 to 8 lower-case letters and digits', () => {
  assert.equal(buildConfig({ cluster: { nodeId: 'eu1' } }).cluster.nodeId, 'eu1');
  assert.equal(buildConfig({}).cluster.nodeId, null);
  for (const bad of ['EU1', 'eu-1', 'abcdefghi', '']) assert.throws(() => buildConfig({ cluster: { nodeId: bad } }), /cluster\.nodeId/, bad);
});
