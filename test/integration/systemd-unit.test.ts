import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/gateway-process.js';
import { run, toolAvailable } from '../support/external-tools.js';

const UNIT = join(REPO_ROOT, 'systemd', 'relaygate.service');

test('systemd unit: hardened, may bind low ports, keeps state in /var/lib/relaygate', () => {
  const unit = readFileSync(UNIT, 'utf8');
  for (const line of [
    'NoNewPrivileges=yes',
    'AmbientCapabilities=CAP_NET_BIND_SERVICE',
    'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
    'StateDirectory=relaygate',
    'ProtectSystem=strict',
    'ExecReload=/bin/kill -HUP $MAINPID',
  ]) {
    assert.ok(unit.split('\n').includes(line), `missing ${line}`);
  }
  assert.match(unit, /^ExecStart=.* --data-dir \/var\/lib\/relaygate serve$/m);
});

test('systemd-analyze verify accepts the unit', { skip: !toolAvailable('systemd-analyze') }, async () => {
  const result = await run('systemd-analyze', ['verify', UNIT]);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /relaygate\.service/);
});
