import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { storedBody } from '../support/stored-body.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import { SmtpDialog } from '../support/smtp-dialog.js';
import { messageText } from '../support/message-text.js';
import { waitUntil } from '../support/wait-until.js';

const SESSIONS = 8;

/** One client session sending messages until the server goes away; records what got a 250. */
async function sendUntilKilled(port: number, credential: TestCredential, session: number, accepted: Map<string, string>): Promise<void> {
  let dialog: SmtpDialog;
  try {
    dialog = await SmtpDialog.open({ port, tls: true });
    await dialog.reply();
    await dialog.ehlo();
    await dialog.authPlain(credential.user, credential.password);
  } catch {
    return;
  }
  for (let index = 0; ; index++) {
    const body = `session ${session} message ${index}\r\n${'x'.repeat(200 + (index % 20) * 37)}\r\n`;
    try {
      dialog.write(`MAIL FROM:<sender@example.com>\r\nRCPT TO:<r${index}@example.org>\r\nDATA\r\n`);
      await dialog.line(2000);
      await dialog.line(2000);
      await dialog.line(2000);
      dialog.write(`${messageText({ subject: `s${session}-${index}`, body })}.\r\n`);
      const reply = await dialog.line(2000);
      const id = /^250 Ok (\S+)$/.exec(reply)?.[1];
      if (id) accepted.set(id, body);
    } catch {
      return;
    }
  }
}

test('every message that got 250 survives SIGKILL and a restart, whole; nothing half-written remains', async () => {
  const first = await startGatewayProcess({ listen: ['127.0.0.1:0=tls'] });
  const credential = await provisionCredential(first.dataDir);
  const accepted = new Map<string, string>();
  const port = first.tlsPorts[0]!;
  const clients = Array.from({ length: SESSIONS }, (_, session) => sendUntilKilled(port, credential, session, accepted));
  try {
    await waitUntil(() => accepted.size >= 150, '150 accepted messages');
  } finally {
    await first.kill();
  }
  await Promise.all(clients);

  const second = await startGatewayProcess({ dataDir: first.dataDir, listen: ['127.0.0.1:0=tls'] });
  try {
    const queue = SqliteQueueStore.open(first.dataDir);
    try {
      for (const [id, body] of accepted) {
        const stored = queue.get(id);
        assert.ok(stored, `message ${id} got 250 but is not in the queue after the crash`);
        assert.equal(storedBody(first.dataDir, stored), body, `body of ${id}`);
        assert.equal(stored.size, stored.header.length + 2 + Buffer.byteLength(body, 'latin1'));
      }
      const referenced = queue.bodyFileNames();
      const spool = join(first.dataDir, 'spool');
      const onDisk = readdirSync(spool).flatMap((hour) => readdirSync(join(spool, hour)).map((file) => `${hour}/${file}`));
      assert.deepEqual(
        onDisk.filter((name) => !referenced.has(name)),
        [],
        'body files of unacknowledged messages are removed at start',
      );
      assert.ok(onDisk.every((name) => existsSync(join(spool, name))));
    } finally {
      queue.close();
    }
  } finally {
    await second.stop();
  }
  assert.ok(accepted.size >= 150);
});
