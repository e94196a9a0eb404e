import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
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

/** Why `systemd-analyze verify` cannot judge the unit on this machine, or false when it can. */
function verifySkipReason(): string | false {
  // In CI a missing tool throws: .ci/run installs the Debian package systemd, which has systemd-analyze.
  if (!toolAvailable('systemd-analyze')) return 'systemd-analyze is not installed (Debian package systemd; .ci/run installs it)';
  // verify checks that ExecStart's program exists; without it the only complaint would be about this machine.
  if (!existsSync('/usr/bin/node')) return 'the unit runs /usr/bin/node, which this machine does not have';
  return false;
}

test('systemd-analyze verify accepts the unit', { skip: verifySkipReason() }, async () => {
  const result = await run('systemd-analyze', ['verify', UNIT]);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /relaygate\.service/);
});
