import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { storedBody } from '../support/stored-body.js';
import { gatewayWithCredential } from '../support/gateway-suite.js';
import { SmtpDialog } from '../support/smtp-dialog.js';

/** Every way a message's end has been smuggled past one server and not another. */
const VARIANTS: Array<[string, string]> = [
  ['<LF>.<LF>', '\n.\n'],
  ['<CR>.<CR>', '\r.\r'],
  ['<LF>.<CRLF>', '\n.\r\n'],
  ['<CRLF>.<LF>', '\r\n.\n'],
  ['<CR>.<CRLF>', '\r.\r\n'],
  ['<CRLF>.<CR>', '\r\n.\r'],
];

const SMUGGLED = 'MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nsecond message\r\n';

describe('SMTP smuggling: only <CRLF>.<CRLF> ends DATA', () => {
  const suite = gatewayWithCredential();

  for (const [name, terminator] of VARIANTS) {
    test(`${name} inside DATA stays message content: one message, no second transaction`, async () => {
      const dialog = await SmtpDialog.open({ port: suite.gateway.tlsPorts[0]!, tls: true });
      await dialog.reply();
      await dialog.ehlo();
      assert.equal(await dialog.authPlain(suite.credential.user, suite.credential.password), '235 Authentication successful');
      dialog.write(
        `MAIL FROM:<sender@example.com>\r\nRCPT TO:<recipient@example.org>\r\nDATA\r\nSubject: first\r\n\r\nfirst part${terminator}${SMUGGLED}.\r\nQUIT\r\n`,
      );
      assert.equal(await dialog.line(), '250 Ok');
      assert.equal(await dialog.line(), '250 Ok');
      assert.equal(await dialog.line(), '354 End data with <CR><LF>.<CR><LF>');
      const accepted = await dialog.line();
      const messageId = /^250 Ok (\S+)$/.exec(accepted)?.[1];
      assert.ok(messageId, accepted);
      assert.equal(await dialog.line(), '221 Bye', 'the smuggled commands were not executed');
      await dialog.waitClosed();

      const queue = SqliteQueueStore.open(suite.gateway.dataDir);
      try {
        const stored = queue.get(messageId);
        assert.ok(stored);
        assert.deepEqual(stored.recipients, ['recipient@example.org']);
        assert.equal(
          storedBody(suite.gateway.dataDir, stored),
          `first part\r\n.\r\n${SMUGGLED}`,
          'bare CR and LF are stored as CRLF, and the "." line is content (dot-stuffed again on the way out)',
        );
        assert.equal(queue.list().filter((message) => message.mailFrom === 'evil@example.com').length, 0);
      } finally {
        queue.close();
      }
    });
  }
});
