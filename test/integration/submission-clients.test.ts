import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { gatewayWithCredential } from '../support/gateway-suite.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import { run, toolAvailable } from '../support/external-tools.js';

const ACCEPTED = /^<~  250 Ok ([0-9a-f]{16}-[0-9a-f-]{36}-000000)$/m;

function queuedRecipients(gateway: GatewayProcess, messageId: string): string[] | undefined {
  const queue = SqliteQueueStore.open(gateway.dataDir);
  try {
    return queue.get(messageId)?.recipients;
  } finally {
    queue.close();
  }
}

/** The guide's input.txt for `openssl s_client` (SES Developer Guide, "Using the command line"). */
function guideInputFile(user: string, password: string): string {
  return [
    'EHLO example.com',
    'AUTH LOGIN',
    Buffer.from(user).toString('base64'),
    Buffer.from(password).toString('base64'),
    'MAIL FROM: sender@example.com',
    'RCPT TO: recipient@example.com',
    'DATA',
    'X-SES-CONFIGURATION-SET: ConfigSet',
    'From: Sender Name <sender@example.com>',
    'To: recipient@example.com',
    'Subject: Amazon SES SMTP Test',
    '',
    'This message was sent using the Amazon SES SMTP interface.',
    '.',
    'QUIT',
    '',
  ].join('\n');
}

describe('real SMTP clients', () => {
  const suite = gatewayWithCredential();

  const swaksCases: Array<[string, () => string[]]> = [
    ['STARTTLS + AUTH PLAIN', () => ['--server', `127.0.0.1:${suite.gateway.starttlsPorts[0]}`, '--tls', '--auth', 'PLAIN']],
    ['STARTTLS + AUTH LOGIN', () => ['--server', `127.0.0.1:${suite.gateway.starttlsPorts[0]}`, '--tls', '--auth', 'LOGIN']],
    ['TLS wrapper + AUTH PLAIN', () => ['--server', `127.0.0.1:${suite.gateway.tlsPorts[0]}`, '--tls-on-connect', '--auth', 'PLAIN']],
    ['TLS wrapper + AUTH LOGIN', () => ['--server', `127.0.0.1:${suite.gateway.tlsPorts[0]}`, '--tls-on-connect', '--auth', 'LOGIN']],
  ];
  for (const [name, args] of swaksCases) {
    test(`swaks: ${name}`, { skip: !toolAvailable('swaks') }, async () => {
      const result = await run('swaks', [
        ...args(),
        '--auth-user', suite.credential.user,
        '--auth-password', suite.credential.password,
        '--from', 'sender@example.com',
        '--to', 'swaks@example.org',
        '--header', 'X-SES-CONFIGURATION-SET: ConfigSet',
      ]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /^<~  235 Authentication successful$/m);
      const messageId = ACCEPTED.exec(result.stdout)?.[1];
      assert.ok(messageId, result.stdout);
      assert.deepEqual(queuedRecipients(suite.gateway, messageId), ['swaks@example.org']);
    });
  }

  const opensslCases: Array<[string, () => string[]]> = [
    ['587-style STARTTLS (-starttls smtp)', () => ['-starttls', 'smtp', '-connect', `127.0.0.1:${suite.gateway.starttlsPorts[0]}`]],
    ['465-style TLS wrapper', () => ['-connect', `127.0.0.1:${suite.gateway.tlsPorts[0]}`]],
  ];
  for (const [name, args] of opensslCases) {
    test(`openssl s_client -crlf -quiet with the guide's input file, all pipelined: ${name}`, async () => {
      const result = await run('openssl', ['s_client', '-crlf', '-quiet', ...args()], { input: guideInputFile(suite.credential.user, suite.credential.password), timeoutMs: 20_000 });
      const lines = result.stdout.split(/\r?\n/).filter((line) => /^\d{3}[ -]/.test(line));
      assert.ok(lines.includes('235 Authentication successful'), result.stdout);
      const accepted = lines.find((line) => line.startsWith('250 Ok '));
      assert.ok(accepted, result.stdout);
      assert.equal(lines[lines.length - 1], '221 Bye');
      assert.deepEqual(queuedRecipients(suite.gateway, accepted.slice('250 Ok '.length)), ['recipient@example.com']);
    });
  }

  test('nodemailer over STARTTLS (port 587 style) and TLS wrapper', async () => {
    for (const [port, secure] of [
      [suite.gateway.starttlsPorts[0]!, false],
      [suite.gateway.tlsPorts[0]!, true],
    ] as const) {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port,
        secure,
        requireTLS: !secure,
        auth: { user: suite.credential.user, pass: suite.credential.password },
        tls: { rejectUnauthorized: false },
      });
      const info = await transport.sendMail({
        from: 'Sender <sender@example.com>',
        to: ['one@example.org', 'two@example.org'],
        subject: 'nodemailer',
        text: 'hello',
        headers: { 'X-SES-CONFIGURATION-SET': 'ConfigSet' },
      });
      transport.close();
      const messageId = /^250 Ok (\S+)$/.exec(info.response)?.[1];
      assert.ok(messageId, info.response);
      assert.deepEqual(info.accepted, ['one@example.org', 'two@example.org']);
      assert.deepEqual(queuedRecipients(suite.gateway, messageId), ['one@example.org', 'two@example.org']);
    }
  });
});
