import test from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { IdentityVerifier } from '../../../src/identity/identity-verifier.js';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { capturingLogger, watchUnhandledRejections } from '../../support/fault-watch.js';
import { tempDir } from '../../support/gateway-process.js';

test('a control store that cannot be read: the verifier logs it, rejects nothing, and checks again on its schedule', async () => {
  const store = SqliteControlStore.open(tempDir());
  // A closed database throws on every read, as a store whose file has gone bad would.
  await store.close();
  const { log, records } = capturingLogger();
  const rejections = watchUnhandledRejections();
  const verifier = new IdentityVerifier(store, new Resolver(), 'feedback.relaygate.test', { pendingCheckSeconds: 1, verifiedCheckHours: 24 }, log);
  verifier.start();
  const failures = () => records.filter((record) => record.msg === 'identity DNS checks skipped: cannot read the identities; trying again at the next check');
  const deadline = Date.now() + 5000;
  while (failures().length < 2 && Date.now() < deadline) await sleep(50);
  await verifier.stop();
  await sleep(10);

  assert.deepEqual(rejections.stop(), []);
  assert.equal(failures().length, 2, 'one failure at start, one at the next scheduled check');
  assert.equal(failures()[0]!.level, 50);
  assert.equal((failures()[0]!.err as { message: string }).message, 'The database connection is not open');
});
