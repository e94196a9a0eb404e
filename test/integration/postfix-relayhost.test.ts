import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { storedBody } from '../support/stored-body.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { provisionCredential } from '../support/provision.js';
import { toolAvailable } from '../support/external-tools.js';
import { startPostfixRelayClient, type PostfixInstance } from '../support/postfix-instance.js';

const available = toolAvailable('postfix') && toolAvailable('postmap');

describe('a real Postfix configured as the guide says (relayhost, SASL, smtp_tls_security_level = encrypt)', { skip: !available }, () => {
  let gateway: GatewayProcess;
  let postfix: PostfixInstance;

  before(async () => {
    gateway = await startGatewayProcess({ listen: ['127.0.0.1:0=starttls'] });
    const credential = await provisionCredential(gateway.dataDir);
    postfix = await startPostfixRelayClient(tempDir('relaygate-postfix-'), gateway.starttlsPorts[0]!, credential.user, credential.password);
  });
  after(async () => {
    await postfix?.stop();
    await gateway?.stop();
  });

  test("the guide's MIME test message ends up in relaygate's queue", async () => {
    const body = 'This message was sent using Amazon SES through Postfix.\n';
    await postfix.sendmail(
      'sender@example.com',
      'recipient@example.com',
      `X-SES-CONFIGURATION-SET: ConfigSet\nFrom:Sender Name <sender@example.com>\nSubject: Amazon SES Test\n\n${body}`,
    );
    await postfix.flush();
    const deadline = Date.now() + 30_000;
    let found: ReturnType<SqliteQueueStore['get']> = null;
    while (!found && Date.now() < deadline) {
      const queue = SqliteQueueStore.open(gateway.dataDir);
      try {
        const summary = queue.list().find((message) => message.recipients.includes('recipient@example.com'));
        found = summary ? queue.get(summary.id) : null;
      } finally {
        queue.close();
      }
      if (!found) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.ok(found, `not relayed; Postfix log:\n${postfix.log()}`);
    assert.equal(found.mailFrom, 'sender@example.com');
    assert.deepEqual(found.metadata.ses, { configurationSet: 'ConfigSet' });
    assert.equal(found.metadata.tls, true);
    const header = found.header.toString('latin1');
    assert.match(header, /^From:Sender Name <sender@example\.com>\r\n/m);
    assert.doesNotMatch(header, /X-SES-CONFIGURATION-SET/i);
    assert.equal(storedBody(gateway.dataDir, found), body.replace(/\n/g, '\r\n'));
    assert.match(postfix.log(), new RegExp(`status=sent \\(250 Ok ${found.id}\\)`));
  });
});
