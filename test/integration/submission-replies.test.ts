import { renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { MESSAGE_ID_PATTERN } from '../../src/message/message-id.js';
import { storedBody } from '../support/stored-body.js';
import { gatewayWithCredential } from '../support/gateway-suite.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import type { TestCredential } from '../support/provision.js';
import { SmtpDialog } from '../support/smtp-dialog.js';
import { messageText } from '../support/message-text.js';

const HOSTNAME = 'relaygate.test';

async function authenticatedSession(gateway: GatewayProcess, credential: TestCredential): Promise<SmtpDialog> {
  const dialog = await SmtpDialog.open({ port: gateway.starttlsPorts[0]! });
  await dialog.reply();
  await dialog.ehlo();
  await dialog.startTls();
  await dialog.ehlo();
  assert.equal(await dialog.authPlain(credential.user, credential.password), '235 Authentication successful');
  return dialog;
}

async function sendData(dialog: SmtpDialog, data: string): Promise<string> {
  assert.equal(await dialog.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
  dialog.write(`${data}.\r\n`);
  return dialog.line();
}

describe('submission replies', () => {
  const suite = gatewayWithCredential({ config: { smtp: { hostname: HOSTNAME, maxMessageBytes: 64 * 1024 } } });

  test('greeting and EHLO before TLS offer STARTTLS but not AUTH', async () => {
    const dialog = await SmtpDialog.open({ port: suite.gateway.starttlsPorts[0]! });
    assert.deepEqual(await dialog.reply(), [`220 ${HOSTNAME} ESMTP relaygate`]);
    assert.deepEqual(await dialog.ehlo(), [`250-${HOSTNAME}`, '250-PIPELINING', '250-8BITMIME', '250-STARTTLS', '250 SIZE 65536']);
    dialog.close();
  });

  test('AUTH and MAIL before STARTTLS: 530 Must issue a STARTTLS command first', async () => {
    const dialog = await SmtpDialog.open({ port: suite.gateway.starttlsPorts[0]! });
    await dialog.reply();
    await dialog.ehlo();
    assert.equal(await dialog.command('AUTH LOGIN'), '530 Must issue a STARTTLS command first');
    assert.equal(await dialog.authPlain(suite.credential.user, suite.credential.password), '530 Must issue a STARTTLS command first');
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '530 Must issue a STARTTLS command first');
    dialog.close();
  });

  test('after STARTTLS: EHLO offers AUTH PLAIN LOGIN; wrong password 535, right one 235', async () => {
    const dialog = await SmtpDialog.open({ port: suite.gateway.starttlsPorts[0]! });
    await dialog.reply();
    await dialog.ehlo();
    assert.equal(await dialog.startTls(), '220 Ready to start TLS');
    assert.deepEqual(await dialog.ehlo(), [`250-${HOSTNAME}`, '250-PIPELINING', '250-8BITMIME', '250-AUTH PLAIN LOGIN', '250 SIZE 65536']);
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '530 Authentication required');
    assert.equal(await dialog.authPlain(suite.credential.user, `${suite.credential.password}x`), '535 Authentication Credentials Invalid');
    assert.equal(await dialog.authPlain('AKIAUNKNOWNUSER00000', suite.credential.password), '535 Authentication Credentials Invalid');
    assert.equal(await dialog.command('AUTH LOGIN'), '334 VXNlcm5hbWU6');
    assert.equal(await dialog.command(Buffer.from(suite.credential.user).toString('base64')), '334 UGFzc3dvcmQ6');
    assert.equal(await dialog.command(Buffer.from(suite.credential.password).toString('base64')), '235 Authentication successful');
    dialog.close();
  });

  test('implicit TLS port: greeting over TLS, AUTH offered at once', async () => {
    const dialog = await SmtpDialog.open({ port: suite.gateway.tlsPorts[0]!, tls: true });
    assert.deepEqual(await dialog.reply(), [`220 ${HOSTNAME} ESMTP relaygate`]);
    assert.equal(dialog.tlsProtocol, 'TLSv1.3');
    assert.deepEqual(await dialog.ehlo(), [`250-${HOSTNAME}`, '250-PIPELINING', '250-8BITMIME', '250-AUTH PLAIN LOGIN', '250 SIZE 65536']);
    assert.equal(await dialog.authPlain(suite.credential.user, suite.credential.password), '235 Authentication successful');
    dialog.close();
  });

  test('commands sent before the greeting (a pipelined transcript) are answered after it, in order, on both kinds of port', async () => {
    for (const tls of [false, true]) {
      const dialog = await SmtpDialog.open({ port: tls ? suite.gateway.tlsPorts[0]! : suite.gateway.starttlsPorts[0]!, tls });
      // Written as soon as the connection is up: the session gate (a call to the primary) has not admitted it yet.
      dialog.write('EHLO early.example.com\r\nNOOP\r\nQUIT\r\n');
      assert.deepEqual(await dialog.reply(), [`220 ${HOSTNAME} ESMTP relaygate`]);
      assert.equal((await dialog.reply())[0], `250-${HOSTNAME}`);
      assert.deepEqual(await dialog.reply(), ['250 Ok']);
      assert.deepEqual(await dialog.reply(), ['221 Bye']);
      dialog.close();
    }
  });

  test('a message is accepted with 250 Ok <MessageId>, stored without X-SES headers, with the suite.gateway Message-ID and Date', async () => {
    const dialog = await authenticatedSession(suite.gateway, suite.credential);
    assert.equal(await dialog.command('MAIL FROM: sender@example.com'), '250 Ok');
    assert.equal(await dialog.command('RCPT TO: recipient@example.org'), '250 Ok');
    assert.equal(await dialog.command('RCPT TO:<second@xn--bcher-kva.example>'), '250 Ok');
    const reply = await sendData(
      dialog,
      messageText({ extraHeaders: ['X-SES-CONFIGURATION-SET: ConfigSet', 'X-SES-MESSAGE-TAGS: campaign=welcome', 'Message-ID: <mine@example.com>', 'X-Custom: kept'] }),
    );
    const match = /^250 Ok (\S+)$/.exec(reply);
    assert.ok(match, reply);
    const messageId = match[1]!;
    assert.match(messageId, MESSAGE_ID_PATTERN);
    assert.equal(await dialog.command('QUIT'), '221 Bye');

    const queue = SqliteQueueStore.open(suite.gateway.dataDir);
    try {
      const stored = queue.get(messageId);
      assert.ok(stored);
      assert.equal(stored.accountId, suite.credential.accountId);
      assert.equal(stored.mailFrom, 'sender@example.com');
      assert.deepEqual(stored.recipients, ['recipient@example.org', 'second@xn--bcher-kva.example']);
      assert.deepEqual(stored.metadata.ses, { configurationSet: 'ConfigSet', messageTags: 'campaign=welcome' });
      const header = stored.header.toString('latin1');
      const date = /\r\nDate: ([^\r]+)\r\n$/.exec(header)?.[1] ?? '';
      assert.match(date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
      assert.equal(
        header,
        `From: Sender <sender@example.com>\r\nTo: recipient@example.org\r\nSubject: relaygate test\r\nX-Custom: kept\r\nMessage-ID: <${messageId}@${HOSTNAME}>\r\nDate: ${date}\r\n`,
      );
      assert.equal(storedBody(suite.gateway.dataDir, stored), 'Hello from the test suite.\r\n');
      assert.equal(stored.bodyFile, '', 'a small body is stored in the queue row');
      assert.equal(stored.size, header.length + 2 + 'Hello from the test suite.\r\n'.length);
    } finally {
      queue.close();
    }
  });

  test('the 51st recipient: 452 4.5.3 Too many recipients; the message goes to the first 50', async () => {
    const dialog = await authenticatedSession(suite.gateway, suite.credential);
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok');
    for (let i = 1; i <= 50; i++) assert.equal(await dialog.command(`RCPT TO:<r${i}@example.org>`), '250 Ok');
    assert.equal(await dialog.command('RCPT TO:<r51@example.org>'), '452 4.5.3 Too many recipients');
    assert.equal(await dialog.command('RCPT TO:<r50@EXAMPLE.org>'), '250 Ok', 'a repeated recipient is not a new one');
    assert.equal(await dialog.command('RCPT TO:<R50@example.org>'), '452 4.5.3 Too many recipients', 'local parts are case-sensitive');
    assert.match(await sendData(dialog, messageText()), /^250 Ok /);
    dialog.close();
  });

  test('NOOP, MAIL and RCPT answer 250 Ok; DATA without a recipient: 554 Transaction failed: There are no recipients specified.', async () => {
    const dialog = await authenticatedSession(suite.gateway, suite.credential);
    assert.equal(await dialog.command('NOOP'), '250 Ok');
    assert.equal(await dialog.command('DATA'), '554 Transaction failed: There are no recipients specified.');
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok');
    assert.equal(await dialog.command('DATA'), '554 Transaction failed: There are no recipients specified.');
    assert.equal(await dialog.command('RCPT TO:<r@example.org>'), '250 Ok');
    assert.match(await sendData(dialog, messageText()), /^250 Ok \S+$/, 'the transaction goes on');
    dialog.close();
  });

  test('recipients differing only in the case of the domain are one; differing in the local part, two', async () => {
    const dialog = await authenticatedSession(suite.gateway, suite.credential);
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok');
    for (const recipient of ['Bob@example.org', 'Bob@EXAMPLE.ORG', 'bob@example.org', 'carol@example.org', 'Bob@Example.Org']) {
      assert.equal(await dialog.command(`RCPT TO:<${recipient}>`), '250 Ok');
    }
    const messageId = /^250 Ok (\S+)$/.exec(await sendData(dialog, messageText()))?.[1];
    assert.ok(messageId);
    dialog.close();
    const queue = SqliteQueueStore.open(suite.gateway.dataDir);
    try {
      // A repeated recipient replaces the earlier one; domains are kept in their lower-case ASCII form.
      assert.deepEqual(queue.get(messageId)?.recipients, ['bob@example.org', 'carol@example.org', 'Bob@example.org']);
    } finally {
      queue.close();
    }
  });

  test('too large: 552 Message is too long., at DATA and for SIZE=', async () => {
    const dialog = await authenticatedSession(suite.gateway, suite.credential);
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com> SIZE=70000'), '552 Message is too long.');
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com> SIZE=1000'), '250 Ok');
    assert.equal(await dialog.command('RCPT TO:<r@example.org>'), '250 Ok');
    assert.equal(await sendData(dialog, messageText({ body: `${'x'.repeat(998)}\r\n`.repeat(70) })), '552 Message is too long.');
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok', 'the session goes on after a refused message');
    dialog.close();
  });

  test('non-ASCII envelope addresses are refused', async () => {
    const dialog = await authenticatedSession(suite.gateway, suite.credential);
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok');
    dialog.write(Buffer.from('RCPT TO:<jos\u00e9@example.org>\r\n', 'utf8'));
    assert.equal(await dialog.line(), '553 Transaction failed: There are non-ASCII characters in the email address.');
    dialog.close();
  });
});

describe('connection limit, idle timeout, plaintext networks', () => {
  const suite = gatewayWithCredential({
      config: { smtp: { hostname: HOSTNAME, maxConnections: 2, idleTimeoutSeconds: 1, plaintextNetworks: ['127.0.0.3/32'] } },
    });

  test('beyond the connection limit: 421 Too many concurrent SMTP connections', async () => {
    const first = await SmtpDialog.open({ port: suite.gateway.starttlsPorts[0]! });
    const second = await SmtpDialog.open({ port: suite.gateway.tlsPorts[0]!, tls: true });
    await first.reply();
    await second.reply();
    const third = await SmtpDialog.open({ port: suite.gateway.starttlsPorts[0]! });
    assert.deepEqual(await third.reply(), ['421 Too many concurrent SMTP connections']);
    await third.waitClosed();
    first.close();
    second.close();
  });

  test('idle client: 451 Timeout waiting for data from client, then the connection closes', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const dialog = await SmtpDialog.open({ port: suite.gateway.starttlsPorts[0]! });
    await dialog.reply();
    assert.deepEqual(await dialog.reply(3000), ['451 Timeout waiting for data from client']);
    await dialog.waitClosed();
  });

  test('a configured plaintext network may AUTH and send without TLS; others may not', async () => {
    const trusted = await SmtpDialog.open({ port: suite.gateway.starttlsPorts[0]!, localAddress: '127.0.0.3' });
    await trusted.reply();
    assert.ok((await trusted.ehlo()).includes('250-AUTH PLAIN LOGIN'));
    assert.equal(await trusted.authPlain(suite.credential.user, suite.credential.password), '235 Authentication successful');
    assert.equal(await trusted.command('MAIL FROM:<sender@example.com>'), '250 Ok');
    assert.equal(await trusted.command('RCPT TO:<r@example.org>'), '250 Ok');
    assert.match(await sendData(trusted, messageText()), /^250 Ok /);
    trusted.close();

    const other = await SmtpDialog.open({ port: suite.gateway.starttlsPorts[0]!, localAddress: '127.0.0.4' });
    await other.reply();
    assert.ok(!(await other.ehlo()).includes('250-AUTH PLAIN LOGIN'));
    assert.equal(await other.authPlain(suite.credential.user, suite.credential.password), '530 Must issue a STARTTLS command first');
    other.close();
  });
});

describe('large messages', () => {
  const suite = gatewayWithCredential();

  test('a body over the inline limit is streamed to a spool file, byte for byte', async () => {
    const dialog = await authenticatedSession(suite.gateway, suite.credential);
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok');
    assert.equal(await dialog.command('RCPT TO:<r@example.org>'), '250 Ok');
    const body = Array.from({ length: 200 }, (_, line) => `${String(line).padStart(4, '0')} ${'y'.repeat(990)}\r\n`).join('');
    const messageId = /^250 Ok (\S+)$/.exec(await sendData(dialog, messageText({ body })))?.[1];
    assert.ok(messageId);
    dialog.close();
    const queue = SqliteQueueStore.open(suite.gateway.dataDir);
    try {
      const stored = queue.get(messageId)!;
      assert.equal(stored.body, null);
      assert.match(stored.bodyFile, /^\d{10}\/[0-9a-f-]+$/);
      assert.equal(storedBody(suite.gateway.dataDir, stored), body);
    } finally {
      queue.close();
    }
  });

  test('a spool that cannot take the body (its hour directory cannot be made): 451, nothing queued, and the gateway goes on', async () => {
    const spool = join(suite.gateway.dataDir, 'spool');
    const body = Array.from({ length: 200 }, (_, line) => `${String(line).padStart(4, '0')} ${'z'.repeat(990)}\r\n`).join('');
    const send = async () => {
      const dialog = await authenticatedSession(suite.gateway, suite.credential);
      assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok');
      assert.equal(await dialog.command('RCPT TO:<r@example.org>'), '250 Ok');
      const reply = await sendData(dialog, messageText({ subject: 'spooled', body }));
      dialog.close();
      return reply;
    };
    const queued = () => {
      const queue = SqliteQueueStore.open(suite.gateway.dataDir);
      try {
        return queue.list({}).length;
      } finally {
        queue.close();
      }
    };
    const before = queued();
    // As a full, read-only or failing disk would: making spool/<hour> throws (it threw out of the body's stream
    // write, an uncaught exception that ended the session worker with every session on it).
    renameSync(spool, `${spool}.kept`);
    symlinkSync('/nonexistent/relaygate-spool', spool);
    try {
      assert.equal(await send(), '451 Temporary service failure');
      assert.equal(queued(), before);
    } finally {
      unlinkSync(spool);
      renameSync(`${spool}.kept`, spool);
    }
    assert.match(await send(), /^250 Ok \S+$/);
    assert.equal(queued(), before + 1);
    assert.deepEqual(suite.gateway.logs.filter((record) => /session worker died|uncaught exception/.test(String(record.msg))), []);
  });
});
