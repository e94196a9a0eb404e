import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { submit } from '../support/delivery-fixture.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import { SmtpDialog } from '../support/smtp-dialog.js';

const SLOW_UPLOAD_MS = 2500;

describe('the send rate over SMTP', () => {
  let gateway: GatewayProcess;
  let credential: TestCredential;

  before(async () => {
    gateway = await startGatewayProcess({ listen: ['127.0.0.1:0=tls'] });
    credential = await provisionCredential(gateway.dataDir, { account: { maxSendRate: 2 } });
  });
  after(() => gateway.stop());

  test('a message whose DATA takes 2.5 s is charged when it is decided: 250 beside other traffic of the account well under the rate', async (t) => {
    const slow = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
    t.after(() => slow.close());
    await slow.reply();
    await slow.ehlo();
    assert.equal(await slow.authPlain(credential.user, credential.password), '235 Authentication successful');
    assert.equal(await slow.command('MAIL FROM:<sender@example.com>'), '250 Ok');
    assert.equal(await slow.command('RCPT TO:<slow@example.org>'), '250 Ok');
    assert.equal(await slow.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    slow.write('From: sender@example.com\r\nTo: slow@example.org\r\nSubject: slow upload\r\n\r\n');

    // Meanwhile the same account sends one message a second: 1 recipient/s against a rate of 2/s.
    const others = (async () => {
      const replies: string[] = [];
      for (let i = 0; i < 3; i++) {
        await sleep(i === 0 ? 200 : 1000);
        replies.push(await submit(gateway, credential, { to: [`other${i}@example.org`] }));
      }
      return replies;
    })();
    const started = Date.now();
    while (Date.now() - started < SLOW_UPLOAD_MS) {
      slow.write(`body line at ${Date.now() - started} ms\r\n`);
      await sleep(250);
    }
    assert.equal((await others).length, 3, 'the other messages were accepted');
    slow.write('.\r\n');
    assert.match(await slow.line(), /^250 Ok \S+$/);
  });
});
