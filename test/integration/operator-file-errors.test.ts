import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, closeSync, mkdirSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { cli } from '../support/cli-runner.js';
import { run, toolAvailable, type RunResult } from '../support/external-tools.js';
import { RELAYGATE_BIN, tempDir } from '../support/gateway-process.js';

const SERVE = ['serve', '--listen', '127.0.0.1:0=tls'];
const isRoot = process.getuid?.() === 0;

/**
 * relaygate as a user the file modes apply to: root ignores them, so as root it runs without CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH (through setpriv), which makes a 0500 directory read-only for it as for anyone.
 */
function unprivileged(...args: string[]): Promise<RunResult> {
  const command = [RELAYGATE_BIN, ...args];
  const env = { ...process.env, RELAYGATE_CONFIG: '' };
  if (!isRoot) return run(process.execPath, command, { env });
  return run('setpriv', ['--bounding-set', '-dac_override,-dac_read_search', process.execPath, ...command], { env });
}

/** Exit status 1 and exactly one line on stderr, the expected one: no stack trace. */
function assertOneLine(result: RunResult, expected: string | RegExp): void {
  assert.ok(!result.stderr.includes('    at '), `a stack trace: ${result.stderr}`);
  assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
  const line = result.stderr.slice(0, -1);
  if (typeof expected === 'string') assert.equal(line, expected);
  else assert.match(line, expected);
  assert.equal(result.code, 1);
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * A queue.db of about 150 pages, `pages` of which (from `firstPage`, 1-based) are then overwritten, as a bad disk or
 * a stray write would leave it.
 */
async function damagedQueue(dataDir: string, firstPage: number, pages: number): Promise<string> {
  const queue = SqliteQueueStore.open(dataDir);
  const body = Buffer.alloc(6000, 'b');
  await queue.insert(
    Array.from({ length: 100 }, (_, index) => ({
      id: `0100000000000000-damaged-${index}`,
      accountId: '111122223333',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      mailFrom: 'sender@example.com',
      recipients: [`r${index}@example.org`],
      header: Buffer.from('From: sender@example.com\r\n'),
      body,
      bodyFile: '',
      size: body.length + 28,
      receivedAt: new Date(),
      metadata: { sourceIp: '127.0.0.1', tls: true, heloName: 'client', ses: {}, configurationSet: null, tags: {} },
    })),
  );
  queue.close();
  const path = join(dataDir, 'queue.db');
  const fd = openSync(path, 'r+');
  try {
    // The page size is in the file's header: bytes 16-17, big-endian.
    const header = Buffer.alloc(18);
    readSync(fd, header, 0, 18, 0);
    const pageSize = header.readUInt16BE(16);
    writeSync(fd, Buffer.alloc(pageSize * pages, 0x5a), 0, pageSize * pages, pageSize * (firstPage - 1));
  } finally {
    closeSync(fd);
  }
  return path;
}

const serve = (dataDir: string) => run(process.execPath, [RELAYGATE_BIN, '--data-dir', dataDir, ...SERVE], { env: { ...process.env, RELAYGATE_CONFIG: '' }, timeoutMs: 15_000 });

describe('operator mistakes and damaged files: one line on stderr naming the file, exit status 1, no stack trace', () => {
  test('queue.db with an overwritten index page: serve refuses to start, naming what quick_check found; so does the queue CLI', async () => {
    const dataDir = tempDir();
    const path = await damagedQueue(dataDir, 4, 1);
    // Before the check the gateway started, looked healthy and answered 451 to every message.
    const expected = new RegExp(`^relaygate: ${escaped(path)} is damaged \\(quick_check: Tree \\d+ page 4: .+, and \\d+ more problems?\\); restore it from a backup or move it aside$`);
    assertOneLine(await serve(dataDir), expected);
    assertOneLine(await cli(dataDir, 'queue', 'list'), expected);
  });

  test('queue.db with twenty pages overwritten: SQLite itself reports the damage', async () => {
    const dataDir = tempDir();
    const path = await damagedQueue(dataDir, 11, 20);
    assertOneLine(await serve(dataDir), `relaygate: ${path} is damaged (database disk image is malformed); restore it from a backup or move it aside`);
  });

  test('a file that is not a database where control.db belongs', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'control.db'), 'these are notes, not a database\n'.repeat(200));
    const expected = `relaygate: ${join(dataDir, 'control.db')} is damaged (file is not a database); restore it from a backup or move it aside`;
    assertOneLine(await cli(dataDir, 'account', 'list'), expected);
    assertOneLine(await cli(dataDir, ...SERVE), expected);
  });

  test('a read-only data directory', { skip: isRoot && !toolAvailable('setpriv') }, async () => {
    const empty = tempDir();
    chmodSync(empty, 0o500);
    const expected = `relaygate: cannot open ${join(empty, 'control.db')}: permission denied; the data directory and its files must be writable by the user relaygate runs as`;
    assertOneLine(await unprivileged('--data-dir', empty, 'account', 'list'), expected);
    assertOneLine(await unprivileged('--data-dir', empty, ...SERVE), expected);

    const used = tempDir();
    assert.equal((await cli(used, 'account', 'create', '--id', '111122223333')).code, 0);
    chmodSync(used, 0o500);
    assertOneLine(await unprivileged('--data-dir', used, 'account', 'list'), new RegExp(`^relaygate: cannot open ${escaped(join(used, 'control.db'))}: .+; the data directory and its files must be writable by the user relaygate runs as$`));
  });

  test('a data directory that is a file', async () => {
    const file = join(tempDir(), 'not-a-directory');
    writeFileSync(file, '');
    assertOneLine(
      await cli(file, 'account', 'list'),
      `relaygate: cannot open ${join(file, 'control.db')}: not a directory; the data directory and its files must be writable by the user relaygate runs as`,
    );
  });

  test('files named on the command line or in the configuration that are missing or unreadable', async () => {
    const dataDir = tempDir();
    assert.equal((await cli(dataDir, 'account', 'create', '--id', '111122223333')).code, 0);
    const missing = join(dataDir, 'missing.json');
    assertOneLine(await cli(dataDir, 'policy', 'put', 'Allow', '--account', '111122223333', '--file', missing), `relaygate: cannot open ${missing}: no such file or directory`);
    const key = join(dataDir, 'missing.pem');
    assertOneLine(
      await cli(dataDir, 'identity', 'create', 'example.com', '--account', '111122223333', '--dkim-private-key', key, '--dkim-selector', 's1'),
      `relaygate: cannot open ${key}: no such file or directory`,
    );
    const config = join(dataDir, 'missing.yaml');
    assertOneLine(await cli(dataDir, '--config', config, 'account', 'list'), new RegExp(`^relaygate: configuration option --config: cannot read ${escaped(config)}: `));
    const directoryAsConfig = join(dataDir, 'a-directory');
    mkdirSync(directoryAsConfig);
    assertOneLine(await cli(dataDir, '--config', directoryAsConfig, 'account', 'list'), new RegExp(`^relaygate: configuration option --config: cannot read ${escaped(directoryAsConfig)}: `));
  });

  test('a listener address that cannot be had stops serve at start with its address, in session workers and in the primary', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      for (const workers of [2, 1]) {
        const dataDir = tempDir();
        const config = join(dataDir, 'relaygate.yaml');
        // The HTTP listeners on free ports, so that only the SMTP listener can fail.
        writeFileSync(config, `smtp:\n  workers: ${workers}\nhttp:\n  listeners: ['127.0.0.1:0=http']\nevents:\n  httpListen: '127.0.0.1:0'\n`);
        const serveOn = (listen: string) =>
          run(process.execPath, [RELAYGATE_BIN, '--data-dir', dataDir, '--config', config, 'serve', '--listen', listen], { env: { ...process.env, RELAYGATE_CONFIG: '' }, timeoutMs: 30_000 });
        // Before, an uncaught exception: a "defect" logged at fatal, and status 70.
        assertOneLine(await serveOn(`127.0.0.1:${port}=starttls`), `relaygate: cannot listen on 127.0.0.1:${port}: the address is in use (another process listens there)`);
        assertOneLine(await serveOn('192.0.2.1:2587=starttls'), 'relaygate: cannot listen on 192.0.2.1:2587: the address is not one of this host');
      }
    } finally {
      taken.close();
    }
  });

  test('serve with a gateway DKIM key file that does not exist stops at start', async () => {
    const dataDir = tempDir();
    const key = join(dataDir, 'missing-dkim.pem');
    const config = join(dataDir, 'relaygate.yaml');
    writeFileSync(config, `delivery:\n  dkim:\n    domain: example.com\n    selector: s1\n    keyFile: ${key}\n`);
    assertOneLine(
      await run(process.execPath, [RELAYGATE_BIN, '--data-dir', dataDir, '--config', config, ...SERVE], { env: { ...process.env, RELAYGATE_CONFIG: '' }, timeoutMs: 15_000 }),
      `relaygate: configuration option delivery.dkim.keyFile: cannot read ${key}: ENOENT: no such file or directory, open '${key}'`,
    );
  });
});
