import test from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../support/gateway-process.js';

const OPENER = fileURLToPath(new URL('../../support/sqlite-opener-process.js', import.meta.url));
const nextMessage = (child: ChildProcess) => new Promise<string>((resolve) => child.once('message', (message) => resolve(String(message))));

test('processes that open the same new database file at the same moment all succeed', async () => {
  // Session workers open replay-guard.db together at start; before the retry of the switch to WAL, about one open
  // in a hundred failed with SQLITE_BUSY, so 300 rounds of two at once failed nearly every time.
  const openers = [fork(OPENER), fork(OPENER)];
  try {
    await Promise.all(openers.map(nextMessage));
    const directory = tempDir('relaygate-open-race-');
    const answers = new Map<string, number>();
    for (let round = 0; round < 300; round++) {
      const path = join(directory, `${round}.db`);
      const replies = await Promise.all(openers.map((opener) => {
        const reply = nextMessage(opener);
        opener.send(path);
        return reply;
      }));
      for (const reply of replies) answers.set(reply, (answers.get(reply) ?? 0) + 1);
    }
    assert.deepEqual([...answers], [['ok', 600]]);
  } finally {
    for (const opener of openers) opener.kill();
  }
});
