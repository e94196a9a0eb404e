import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startGatewayProcess, tempDir } from '../support/gateway-process.js';
import { messageText } from '../support/message-text.js';
import { provisionCredential } from '../support/provision.js';
import { SmtpDialog } from '../support/smtp-dialog.js';

/** Every path under `root` (itself included, as '.') with its permission bits. */
function modes(root: string): Map<string, number> {
  const found = new Map<string, number>([['.', statSync(root).mode & 0o777]]);
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      found.set(relative(root, path), statSync(path).mode & 0o777);
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(root);
  return found;
}

test('under umask 022 the data directory and everything in it is private to the gateway user: directories 0700, files 0600', async () => {
  // The gateway inherits this umask, as under `npm start` from a usual shell.
  process.umask(0o022);
  const parent = tempDir();
  const dataDir = join(parent, 'data', 'relaygate');
  const gateway = await startGatewayProcess({ dataDir, configFile: join(parent, 'relaygate.yaml'), listen: ['127.0.0.1:0=tls'] });
  try {
    const credential = await provisionCredential(dataDir);
    const dialog = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
    await dialog.reply();
    await dialog.ehlo();
    assert.match(await dialog.authPlain(credential.user, credential.password), /^235 /);
    assert.match(await dialog.command('MAIL FROM:<sender@example.com>'), /^250 /);
    assert.match(await dialog.command('RCPT TO:<r@example.org>'), /^250 /);
    assert.match(await dialog.command('DATA'), /^354 /);
    // Over the 128 KiB inline limit: the body goes to a spool file in a new hour directory.
    dialog.write(`${messageText({ body: `${'z'.repeat(76)}\r\n`.repeat(3000) })}.\r\n`);
    const id = /^250 Ok (\S+)$/.exec(await dialog.line(10_000))?.[1];
    dialog.close();
    assert.ok(id);

    const found = modes(dataDir);
    const hour = readdirSync(join(dataDir, 'spool'))[0]!;
    for (const expected of ['control.db', 'control.db-wal', 'control.db-shm', 'queue.db', 'queue.db-wal', 'queue.db-shm', 'limits.db', 'limits.db-wal', 'limits.db-shm', `spool/${hour}/${id}`, 'tls/self-signed.key', 'tls/self-signed.crt', 'tls/self-signed-ecdsa.key', 'tls/self-signed-ecdsa.crt']) {
      assert.ok(found.has(expected), `${expected} exists (found: ${[...found.keys()].join(', ')})`);
    }
    const wrong = [...found].filter(([path, mode]) => mode !== (statSync(join(dataDir, path)).isDirectory() ? 0o700 : 0o600));
    assert.deepEqual(wrong.map(([path, mode]) => `${path} ${mode.toString(8)}`), []);
    assert.equal(statSync(join(parent, 'data')).mode & 0o777, 0o700, 'a missing parent is created private too');
  } finally {
    await gateway.stop();
  }
});

test('data that other users may read (made by hand, or by an older relaygate) is named in a warning at start; modes are left alone', async () => {
  process.umask(0o022);
  const dataDir = tempDir();
  chmodSync(dataDir, 0o755);
  writeFileSync(join(dataDir, 'control.db'), '', { mode: 0o644 });
  const gateway = await startGatewayProcess({ dataDir, listen: ['127.0.0.1:0=tls'] });
  try {
    const warning = gateway.logs.find((record) => record.msg === 'data readable by other users (made before relaygate created its files private, or by hand): chmod 700 the directories and 600 the files');
    assert.deepEqual(warning?.paths, [`${dataDir} 755`, `${join(dataDir, 'control.db')} 644`]);
    assert.equal(statSync(join(dataDir, 'control.db')).mode & 0o777, 0o644);
  } finally {
    await gateway.stop();
  }
});
