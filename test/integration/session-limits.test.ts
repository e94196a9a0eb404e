import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { gatewayWithCredential } from '../support/gateway-suite.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { messageText } from '../support/message-text.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import { SmtpDialog } from '../support/smtp-dialog.js';

const HOSTNAME = 'relaygate.test';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function greeted(port: number, localAddress?: string): Promise<SmtpDialog> {
  const dialog = await SmtpDialog.open({ port, tls: true, localAddress });
  assert.deepEqual(await dialog.reply(), [`220 ${HOSTNAME} ESMTP relaygate`]);
  return dialog;
}

async function authenticated(port: number, credential: TestCredential, localAddress?: string): Promise<SmtpDialog> {
  const dialog = await greeted(port, localAddress);
  await dialog.ehlo();
  assert.equal(await dialog.authPlain(credential.user, credential.password), '235 Authentication successful');
  return dialog;
}

/** MAIL, RCPT and DATA up to the 354. */
async function startMessage(dialog: SmtpDialog): Promise<void> {
  assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok');
  assert.equal(await dialog.command('RCPT TO:<recipient@example.org>'), '250 Ok');
  assert.equal(await dialog.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
}

/** Writes `chunk` every `intervalMs` until the connection closes or `untilMs` passes. */
async function trickle(dialog: SmtpDialog, chunk: string, intervalMs: number, untilMs: number): Promise<void> {
  const end = Date.now() + untilMs;
  while (!dialog.closed && Date.now() < end) {
    dialog.write(chunk);
    await sleep(intervalMs);
  }
}

function queuedMessages(dataDir: string): number {
  const queue = SqliteQueueStore.open(dataDir);
  try {
    return queue.list().length;
  } finally {
    queue.close();
  }
}

describe('connections per client address', () => {
  const suite = gatewayWithCredential({ config: { smtp: { hostname: HOSTNAME, maxConnectionsPerAddress: 2 } } });

  test('beyond the limit from one address: 421 Too many concurrent SMTP connections from your address; other addresses are served', async () => {
    const port = suite.gateway.tlsPorts[0]!;
    const first = await greeted(port, '127.0.0.7');
    const second = await greeted(port, '127.0.0.7');
    const third = await SmtpDialog.open({ port, tls: true, localAddress: '127.0.0.7' });
    assert.deepEqual(await third.reply(), ['421 Too many concurrent SMTP connections from your address']);
    await third.waitClosed();
    const elsewhere = await greeted(port, '127.0.0.8');

    first.close();
    // The slot frees once the gateway has seen the connection close.
    const deadline = Date.now() + 3000;
    let again: string[] = [];
    while (Date.now() < deadline) {
      const retry = await SmtpDialog.open({ port, tls: true, localAddress: '127.0.0.7' });
      again = await retry.reply();
      retry.close();
      if (again[0]?.startsWith('220')) break;
      await sleep(100);
    }
    assert.deepEqual(again, [`220 ${HOSTNAME} ESMTP relaygate`]);
    second.close();
    elsewhere.close();
  });
});

describe('before AUTH: a command budget and a deadline', () => {
  const suite = gatewayWithCredential({ config: { smtp: { hostname: HOSTNAME, maxCommandsBeforeAuth: 3, authTimeoutSeconds: 1 } } });

  test('the command after maxCommandsBeforeAuth: 421 Too many commands without authentication, then the connection closes', async () => {
    const dialog = await greeted(suite.gateway.tlsPorts[0]!);
    await dialog.ehlo();
    assert.equal(await dialog.command('NOOP'), '250 Ok');
    assert.equal(await dialog.command('RSET'), '250 Flushed');
    assert.equal(await dialog.command('NOOP'), '421 Too many commands without authentication');
    await dialog.waitClosed();
  });

  test('AUTH is not counted, and after AUTH commands are not limited', async () => {
    const dialog = await greeted(suite.gateway.tlsPorts[0]!);
    await dialog.ehlo();
    assert.equal(await dialog.authPlain(suite.credential.user, 'wrong'), '535 Authentication Credentials Invalid');
    assert.equal(await dialog.command('NOOP'), '250 Ok');
    assert.equal(await dialog.command('NOOP'), '250 Ok');
    assert.equal(await dialog.authPlain(suite.credential.user, suite.credential.password), '235 Authentication successful');
    for (let i = 0; i < 5; i++) assert.equal(await dialog.command('NOOP'), '250 Ok');
    dialog.close();
  });

  test('no AUTH within authTimeoutSeconds: 421 Timeout waiting for authentication, then the connection closes', async () => {
    const started = Date.now();
    const dialog = await greeted(suite.gateway.tlsPorts[0]!);
    await dialog.ehlo();
    assert.deepEqual(await dialog.reply(3000), ['421 Timeout waiting for authentication']);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900 && elapsed < 2500, `closed after ${elapsed} ms`);
    await dialog.waitClosed();
  });

  test('an authenticated session is not held to the AUTH deadline', async () => {
    const dialog = await authenticated(suite.gateway.tlsPorts[0]!, suite.credential);
    await sleep(1500);
    assert.equal(await dialog.command('NOOP'), '250 Ok');
    dialog.close();
  });
});

describe('DATA: minimum rate and total deadline', () => {
  // A transfer may last 2 s plus 1 s per 1000 bytes, and 3 s at most.
  const suite = gatewayWithCredential({
    config: { smtp: { hostname: HOSTNAME, idleTimeoutSeconds: 2, dataMinBytesPerSecond: 1000, dataTimeoutSeconds: 3 } },
  });

  test('a client trickling one byte at a time is cut off: 451 Timeout waiting for data from client, nothing stored', async () => {
    const before = queuedMessages(suite.gateway.dataDir);
    const dialog = await authenticated(suite.gateway.tlsPorts[0]!, suite.credential);
    await startMessage(dialog);
    const started = Date.now();
    // Never silent for the idle timeout, but far below the minimum rate.
    const writing = trickle(dialog, 'x', 300, 10_000);
    assert.deepEqual(await dialog.reply(6000), ['451 Timeout waiting for data from client']);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1900 && elapsed < 3500, `cut off after ${elapsed} ms`);
    await dialog.waitClosed();
    await writing;
    assert.equal(queuedMessages(suite.gateway.dataDir), before);
  });

  test('a client fast enough for the rate is still cut off at dataTimeoutSeconds', async () => {
    const dialog = await authenticated(suite.gateway.tlsPorts[0]!, suite.credential);
    await startMessage(dialog);
    const started = Date.now();
    const writing = trickle(dialog, `${'y'.repeat(998)}\r\n`.repeat(4), 250, 10_000);
    assert.deepEqual(await dialog.reply(6000), ['451 Timeout waiting for data from client']);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 2900 && elapsed < 4500, `cut off after ${elapsed} ms`);
    await dialog.waitClosed();
    await writing;
  });

  test('a message sent at a normal pace is accepted', async () => {
    const dialog = await authenticated(suite.gateway.tlsPorts[0]!, suite.credential);
    await startMessage(dialog);
    dialog.write(`${messageText({ body: `${'z'.repeat(998)}\r\n`.repeat(100) })}.\r\n`);
    assert.match(await dialog.line(), /^250 Ok \S+$/);
    dialog.close();
  });
});

describe('session lifetime', () => {
  const suite = gatewayWithCredential({ config: { smtp: { hostname: HOSTNAME, maxSessionSeconds: 2 } } });

  test('an idle session is closed at maxSessionSeconds: 421 Connection time limit reached, please reconnect', async () => {
    const started = Date.now();
    const dialog = await authenticated(suite.gateway.tlsPorts[0]!, suite.credential);
    assert.deepEqual(await dialog.reply(4000), ['421 Connection time limit reached, please reconnect']);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1900 && elapsed < 3500, `closed after ${elapsed} ms`);
    await dialog.waitClosed();
  });

  test('a message being received when the time is up is finished and answered first', async () => {
    const started = Date.now();
    const dialog = await authenticated(suite.gateway.tlsPorts[0]!, suite.credential);
    await startMessage(dialog);
    dialog.write('Subject: slow\r\n\r\n');
    await sleep(2500 - (Date.now() - started));
    dialog.write('still here\r\n.\r\n');
    assert.match(await dialog.line(), /^250 Ok \S+$/);
    assert.deepEqual(await dialog.reply(), ['421 Connection time limit reached, please reconnect']);
    await dialog.waitClosed();
  });
});

describe('failed AUTH: counted per user name and address, per user name, per address', () => {
  const suite = gatewayWithCredential({
    config: {
      smtp: { hostname: HOSTNAME },
      authThrottle: { freeFailures: 1, delayStepMs: 300, maxDelayMs: 300, blockAfterFailures: 3, userBlockAfterFailures: 5, addressBlockAfterFailures: 8, windowSeconds: 60, blockSeconds: 60 },
    },
  });
  const BLOCKED = '421 Too many failed authentication attempts, try again later';

  async function attempt(localAddress: string, user: string, password: string): Promise<string> {
    const dialog = await greeted(suite.gateway.tlsPorts[0]!, localAddress);
    await dialog.ehlo();
    const reply = await dialog.authPlain(user, password);
    dialog.close();
    return reply;
  }

  test("one user's failures block that user at that address, then everywhere; other users behind the same address are not affected until the address's total", async () => {
    const x = suite.credential;
    const y = await provisionCredential(suite.gateway.dataDir);
    const officeNat = '127.0.0.11';

    const session = await greeted(suite.gateway.tlsPorts[0]!, officeNat);
    await session.ehlo();
    let started = Date.now();
    assert.equal(await session.authPlain(x.user, 'typo'), '535 Authentication Credentials Invalid');
    assert.ok(Date.now() - started < 250, 'the first failure is free');
    started = Date.now();
    assert.equal(await session.authPlain(x.user, 'typo'), '535 Authentication Credentials Invalid');
    assert.ok(Date.now() - started >= 250, 'the second failure is answered after the configured delay');
    assert.equal(await session.authPlain(x.user, 'typo'), '535 Authentication Credentials Invalid');
    assert.equal(await session.authPlain(x.user, x.password), BLOCKED, 'X is refused at this address, even with the right password');
    await session.waitClosed();

    assert.equal(await attempt(officeNat, y.user, y.password), '235 Authentication successful', 'Y at the same address is not');
    assert.equal(await attempt('127.0.0.12', x.user, x.password), '235 Authentication successful', 'X elsewhere is not (3 of 5 failures)');

    assert.equal(await attempt('127.0.0.12', x.user, 'typo'), '535 Authentication Credentials Invalid');
    assert.equal(await attempt('127.0.0.13', x.user, 'typo'), '535 Authentication Credentials Invalid');
    assert.equal(await attempt('127.0.0.14', x.user, x.password), BLOCKED, 'after 5 failures X is refused everywhere');
    assert.equal(await attempt('127.0.0.14', y.user, y.password), '235 Authentication successful');

    const sprayer = '127.0.0.15';
    for (let i = 0; i < 8; i++) assert.equal(await attempt(sprayer, `AKIAGUESS${String(i).padStart(11, '0')}`, 'guess'), '535 Authentication Credentials Invalid');
    assert.equal(await attempt(sprayer, y.user, y.password), BLOCKED, 'an address that failed 8 times over all user names is refused');
    assert.ok(!JSON.stringify(suite.gateway.logs).includes(x.password), 'no password in the logs');
  });
});

describe('SIGTERM', () => {
  test('stops accepting at once, answers idle sessions 421, lets a message in progress finish, and exits promptly', async () => {
    const gateway = await startGatewayProcess({ config: { smtp: { hostname: HOSTNAME } } });
    try {
      const credential = await provisionCredential(gateway.dataDir);
      const port = gateway.tlsPorts[0]!;
      const idle = await authenticated(port, credential);
      const sending = await authenticated(port, credential);
      await startMessage(sending);
      sending.write('Subject: in flight\r\n\r\nfirst half\r\n');
      const exited = new Promise<number | null>((resolve) => gateway.child.once('exit', (code) => resolve(code)));

      const signalled = Date.now();
      gateway.child.kill('SIGTERM');
      assert.deepEqual(await idle.reply(2000), ['421 Server shutting down']);
      assert.ok(Date.now() - signalled < 1000, 'the idle session is told at once');
      await idle.waitClosed();
      const refused = await new Promise<string>((resolve) => {
        const socket = connect({ port, host: '127.0.0.1' });
        socket.once('connect', () => resolve('accepted'));
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      assert.equal(refused, 'ECONNREFUSED', 'no new connections');

      sending.write('second half\r\n.\r\n');
      assert.match(await sending.line(), /^250 Ok \S+$/, 'the message in progress is accepted');
      const finished = Date.now();
      assert.deepEqual(await sending.reply(), ['421 Server shutting down']);
      await sending.waitClosed();
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(() => resolve('still running'), 2000)))]);
      clearTimeout(timer);
      assert.equal(code, 0);
      assert.ok(Date.now() - finished < 2000, `exited ${Date.now() - finished} ms after the last session`);
      assert.equal(queuedMessages(gateway.dataDir), 1);
    } finally {
      await gateway.kill();
    }
  });
});
