import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gatewayWithCredential } from '../support/gateway-suite.js';
import { messageText } from '../support/message-text.js';
import type { TestCredential } from '../support/provision.js';
import { SmtpDialog } from '../support/smtp-dialog.js';

const ATTEMPTS = 600;
const PARALLEL = 60;
/** 16 KiB of message lines; 9 or more of them exceed the 128 KiB inline limit, so the body goes to a spool file. */
const CHUNK = Buffer.alloc(16 * 1024, `${'x'.repeat(76)}\r\n`);

/**
 * One session that authenticates, starts DATA, sends 144 to 784 KiB (waiting for the socket to take it, so the
 * gateway really receives it) and vanishes: socket destroyed, no QUIT, no final dot, a few milliseconds later at most.
 */
function vanishMidData(port: number, credential: TestCredential): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const deadline = setTimeout(() => socket.destroy(), 10_000);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(deadline);
      resolve();
    });
    const auth = Buffer.from(`\0${credential.user}\0${credential.password}`).toString('base64');
    const steps: Array<[RegExp, () => void]> = [
      [/^220 /m, () => socket.write(`EHLO client.example.com\r\nAUTH PLAIN ${auth}\r\n`)],
      [/^235 /m, () => socket.write('MAIL FROM:<sender@example.com>\r\nRCPT TO:<r@example.org>\r\nDATA\r\n')],
      [/^354 /m, () => sendAndVanish()],
    ];
    let received = '';
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
      const step = steps[0];
      if (!step || !step[0].test(received)) return;
      steps.shift();
      received = '';
      step[1]();
    });
    const sendAndVanish = () => {
      socket.write(messageText({ subject: 'vanishing' }));
      let left = 9 + Math.floor(Math.random() * 40);
      const pump = () => {
        while (left-- > 0) if (!socket.write(CHUNK)) return void socket.once('drain', pump);
        setTimeout(() => socket.destroy(), Math.random() * 5);
      };
      pump();
    };
  });
}

describe('clients that disconnect in the middle of a large DATA', () => {
  const suite = gatewayWithCredential({ listen: ['127.0.0.1:0=starttls'], config: { smtp: { plaintextNetworks: ['127.0.0.1/32'], maxConnectionsPerAddress: 1000 } } });

  test('leave the gateway running, answering, with no body file behind', async () => {
    const port = suite.gateway.starttlsPorts[0]!;
    for (let done = 0; done < ATTEMPTS; done += PARALLEL) {
      await Promise.all(Array.from({ length: PARALLEL }, () => vanishMidData(port, suite.credential)));
      assert.equal(suite.gateway.child.exitCode, null, `the gateway exited after ${done + PARALLEL} attempts`);
    }
    const refused = suite.gateway.logs.filter((record) => record.msg === 'connection closed before the message was complete');
    assert.ok(refused.length >= ATTEMPTS / 2, `only ${refused.length} sessions reached DATA`);

    // A normal session afterwards still gets its message accepted.
    const dialog = await SmtpDialog.open({ port });
    let acceptedId: string;
    try {
      await dialog.reply();
      await dialog.ehlo();
      assert.match(await dialog.authPlain(suite.credential.user, suite.credential.password), /^235 /);
      assert.match(await dialog.command('MAIL FROM:<sender@example.com>'), /^250 /);
      assert.match(await dialog.command('RCPT TO:<r@example.org>'), /^250 /);
      assert.match(await dialog.command('DATA'), /^354 /);
      dialog.write(`${messageText({ subject: 'after the storm', body: `${'y'.repeat(76)}\r\n`.repeat(3000) })}.\r\n`);
      acceptedId = /^250 Ok (\S+)$/.exec(await dialog.line(10_000))?.[1] ?? 'none';
      assert.equal(await dialog.command('QUIT'), '221 Bye');
    } finally {
      dialog.close();
    }

    // Only the accepted message's body file is left: every abandoned one is gone, none created after its removal.
    const spool = join(suite.gateway.dataDir, 'spool');
    const bodyFiles = () => readdirSync(spool).flatMap((hour) => readdirSync(join(spool, hour)));
    const deadline = Date.now() + 10_000;
    while (bodyFiles().length > 1 && Date.now() < deadline) await sleep(50);
    assert.deepEqual(bodyFiles(), [acceptedId]);
    assert.equal(suite.gateway.child.exitCode, null);
  });
});
