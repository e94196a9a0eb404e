import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { formatReturnPath } from '../../../src/delivery/return-path.js';
import { mailObject } from '../../../src/events/event-builders.js';
import type { StoredMailEvent } from '../../../src/events/mail-event.js';
import { DeadLetterFolder } from '../../../src/feedback/intake/dead-letter-folder.js';
import { FeedbackDomains } from '../../../src/feedback/intake/feedback-domains.js';
import { FeedbackIntake } from '../../../src/feedback/intake/feedback-intake.js';
import type { QueuedMessage } from '../../../src/queue/queued-message.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { arfText, autoReplyText, dsnText } from '../../support/feedback-messages.js';
import { tempDir } from '../../support/gateway-process.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const NOW = Date.parse('2026-11-24T12:00:00.000Z');
const ACCOUNT = '111122223333';
const FEEDBACK = 'feedback.test';
const NODE = 'n1';
const TAGS = { 'ses:configuration-set': ['ConfigSet'], 'ses:source-ip': ['192.0.2.10'] };

function message(id: string, recipients: string[], accountId = ACCOUNT): QueuedMessage {
  return {
    id,
    accountId,
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    mailFrom: 'sender@example.com',
    recipients,
    header: Buffer.from('From: sender@example.com\r\n'),
    body: Buffer.from('hello\r\n'),
    bodyFile: '',
    size: 100,
    receivedAt: new Date(T0),
    metadata: { sourceIp: '192.0.2.10', tls: true, heloName: 'client', ses: {}, configurationSet: 'ConfigSet', tags: TAGS },
  };
}


describe('feedback intake', () => {
  let dataDir: string;
  let queue: SqliteQueueStore;
  let intake: FeedbackIntake;
  let key: Buffer;
  const returnPath = (deliveryId: number, messageId: string, domain = FEEDBACK) => formatReturnPath(NODE, deliveryId, messageId, domain, key);
  /** The envelope of a session that had RCPT TO:<recipient> accepted. */
  const envelope = async (recipient: string) => {
    const verdict = await intake.checkRecipient(recipient);
    assert.ok(verdict.accepted && 'target' in verdict, recipient);
    return { mailFrom: '', recipients: [recipient], remoteAddress: '192.0.2.99', targets: [verdict.target] };
  };
  const events = (): StoredMailEvent[] => queue.events.read(`reader-${Math.random()}`, 1000);
  const deadLetters = () => {
    try {
      return readdirSync(join(dataDir, 'dead-letter'));
    } catch {
      return [];
    }
  };

  before(async () => {
    dataDir = tempDir();
    queue = SqliteQueueStore.open(dataDir);
    key = queue.returnPathKey();
    // Deliveries 1-3 (m1), 4 (m2), 5 (m3, another account), 6-7 (m4).
    await queue.insert([
      message('m1', ['jane@alpha.test', 'John@alpha.test', 'mary@beta.test']),
      message('m2', ['solo@gamma.test']),
      message('m3', ['other@alpha.test'], '999988887777'),
      message('m4', ['a@delta.test', 'b@delta.test']),
    ]);
    // jane and John were delivered; the rest is still queued.
    const claimed = queue.leases.claim(T0, 2, 60_000);
    await queue.leases.record(
      {
        results: claimed.deliveries.map((delivery) => ({ deliveryId: delivery.id, messageId: delivery.messageId, state: 'delivered' as const, at: T0, nextAttemptAt: null, response: '250 OK', remoteMta: '192.0.2.1', mxHost: 'mx.alpha.test', sourceIp: '',
      outgoingIp: null, reportingMta: 'relaygate.test', bounceType: null, bounceSubType: null, category: null })),
        releases: [],
        signatures: [],
        volumes: [],
        events: [],
      },
      T0,
    );
    intake = new FeedbackIntake({
      records: queue.feedback,
      returnPathKey: key,
      nodeId: NODE,
      domains: new FeedbackDomains(FEEDBACK, async () => ['Bounces.Example.com']),
      deadLetters: new DeadLetterFolder(join(dataDir, 'dead-letter'), 1024 * 1024 * 1024),
      messageIdDomain: 'relaygate.test',
      log: pino({ level: 'silent' }),
      now: () => NOW,
    });
  });
  after(() => queue.close());

  test('only return paths the gateway issued, at its feedback domains, are accepted', async () => {
    const valid = returnPath(1, 'm1');
    const [local] = valid.split('@') as [string];
    const refusal = async (address: string) => {
      const verdict = await intake.checkRecipient(address);
      if (!verdict.accepted) return verdict.refusal;
      return 'target' in verdict ? `accepted ${verdict.target.delivery.id}` : `for node ${verdict.node}`;
    };
    assert.equal(await refusal(valid), 'accepted 1');
    assert.equal(await refusal(valid.toUpperCase()), 'accepted 1', 'MTAs that fold the case of local parts keep the address usable');
    assert.equal(await refusal(`${local}@bounces.example.com`), 'accepted 1', 'custom MAIL FROM domains of identities');
    assert.equal(await refusal(`${local}@other.test`), 'relay');
    assert.equal(await refusal(`${local}@sub.${FEEDBACK}`), 'relay');
    assert.equal(await refusal(`${local}@[127.0.0.1]`), 'relay');
    assert.equal(await refusal('postmaster'), 'relay');
    assert.equal(await refusal(`user%other.test@${FEEDBACK}`), 'not-issued');
    assert.equal(await refusal(`${local}%other.test@${FEEDBACK}`), 'not-issued');
    assert.equal(await refusal(`"${local}"@${FEEDBACK}`), 'not-issued');
    assert.equal(await refusal(`${local}+x@${FEEDBACK}`), 'not-issued');
    assert.equal(await refusal(`other.test!${local}@${FEEDBACK}`), 'not-issued');
    assert.equal(await refusal(`postmaster@${FEEDBACK}`), 'not-issued');
    const tag = local.split('-')[3]!;
    assert.equal(await refusal(`b-${NODE}-zz-${tag}@${FEEDBACK}`), 'unknown-delivery');
    assert.equal(await refusal(`b-${NODE}-1-0000000000000@${FEEDBACK}`), 'forged');
    assert.equal(await refusal(`b-1-0000000000000@${FEEDBACK}`), 'forged', 'the form without a node is checked here');
    const oldTag = createHmac('sha256', key).update('1:m1').digest().readBigUInt64BE(0).toString(36).padStart(13, '0');
    assert.equal(await refusal(`b-1-${oldTag}@${FEEDBACK}`), 'accepted 1', 'a return path of mail sent before return paths named their node');
    assert.equal(await refusal(`b-n2-zz-${tag}@${FEEDBACK}`), 'unknown-delivery', 'another node\'s return path, with no cluster to pass it through');
    assert.equal(await refusal(returnPath(1, 'm1').replace(`b-${NODE}-`, 'b-n2-')), 'forged', 'the tag covers the node');
    assert.equal(await refusal(returnPath(1, 'm2')), 'forged', 'a tag made for another message (a reused row id)');
  });

  test('a DSN becomes Bounce events per bounce type, for the transaction\'s recipients, and notes late bounces on delivered rows', async () => {
    const before = events().length;
    const outcome = await intake.receive(
      await envelope(returnPath(1, 'm1')),
      Buffer.from(
        dsnText({
          returnPath: returnPath(1, 'm1'),
          messageId: '<dsn-1@mx.alpha.test>',
          recipients: [
            { final: 'jane@alpha.test', action: 'failed', status: '5.1.1', remoteMta: 'dns; [192.0.2.7]', diagnostic: 'smtp; 550 5.1.1 <jane@alpha.test>: Recipient address\r\n    rejected: User unknown in virtual mailbox table' },
            { final: 'john@alpha.test', action: 'failed', status: '4.2.2 (mailbox full)', remoteMta: 'dns; mx.alpha.test', diagnostic: 'X-Postfix; mailbox full' },
            { final: 'mary@beta.test', action: 'failed', status: '5.1.1', diagnostic: 'smtp; 550 5.1.1 no such user' },
          ],
        }),
      ),
    );
    assert.equal(outcome, 'bounce');
    const added = events().slice(before);
    assert.equal(added.length, 2);
    const message = queue.feedback.message('m1')!;
    const [noEmail, full] = added;
    assert.deepEqual(
      { ...noEmail, seq: 0 },
      {
        seq: 0,
        id: noEmail!.id,
        type: 'Bounce',
        messageId: 'm1',
        accountId: ACCOUNT,
        configurationSet: 'ConfigSet',
        at: NOW,
        mail: {
          timestamp: '2026-11-23T10:00:00.000Z',
          messageId: 'm1',
          source: 'sender@example.com',
          sourceIp: '192.0.2.10',
          sendingAccountId: ACCOUNT,
          destination: ['jane@alpha.test', 'John@alpha.test', 'mary@beta.test'],
          tags: TAGS,
        },
        detail: {
          bounceType: 'Permanent',
          bounceSubType: 'NoEmail',
          bouncedRecipients: [{ emailAddress: 'jane@alpha.test', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 <jane@alpha.test>: Recipient address rejected: User unknown in virtual mailbox table' }],
          timestamp: '2025-12-02T10:00:00.000Z',
          feedbackId: noEmail!.id,
          remoteMtaIp: '192.0.2.7',
          reportingMTA: 'dns; mx.alpha.test',
        },
      },
    );
    assert.match(noEmail!.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(full!.detail, {
      bounceType: 'Transient',
      bounceSubType: 'MailboxFull',
      bouncedRecipients: [{ emailAddress: 'John@alpha.test', action: 'failed', status: '4.2.2', diagnosticCode: 'X-Postfix; mailbox full' }],
      timestamp: '2025-12-02T10:00:00.000Z',
      feedbackId: full!.id,
      reportingMTA: 'dns; mx.alpha.test',
    }, 'the recipient as the sender spelled it; no remoteMtaIp from a host name; the status without its comment');
    assert.deepEqual(full!.mail, mailObject(message));
    const rows = queue.details('m1')!.deliveries.map((row) => [row.recipient, row.state, row.bounceType, row.bounceSubType, row.category, row.response]);
    assert.deepEqual(rows, [
      ['jane@alpha.test', 'delivered', 'Permanent', 'NoEmail', 'recipient', '250 OK'],
      ['John@alpha.test', 'delivered', 'Transient', 'MailboxFull', 'mailbox-full', '250 OK'],
      ['mary@beta.test', 'queued', null, null, null, null],
    ], 'mary is not in the alpha.test transaction the return path names');
  });

  test('the same DSN sent again (a lost 250) is one event in the log', async () => {
    const text = dsnText({ returnPath: returnPath(4, 'm2'), messageId: '<dsn-2@mx.gamma.test>', recipients: [{ final: 'solo@gamma.test', action: 'failed', status: '5.0.0' }] });
    const before = events().length;
    assert.equal(await intake.receive(await envelope(returnPath(4, 'm2')), Buffer.from(text)), 'bounce');
    assert.equal(await intake.receive(await envelope(returnPath(4, 'm2')), Buffer.from(text)), 'bounce');
    const added = events().slice(before);
    assert.equal(added.length, 1);
    assert.deepEqual(added[0]!.detail, {
      bounceType: 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [{ emailAddress: 'solo@gamma.test', action: 'failed', status: '5.0.0' }],
      timestamp: '2025-12-02T10:00:00.000Z',
      feedbackId: added[0]!.id,
      reportingMTA: 'dns; mx.alpha.test',
    });
  });

  test('a forwarded recipient maps to the only recipient of its domain; delay and success notices are noted, not bounces', async () => {
    const before = events().length;
    const forwarded = dsnText({ returnPath: returnPath(4, 'm2'), recipients: [{ final: 'solo@elsewhere.test', action: 'failed', status: '5.2.1', diagnostic: 'smtp; 550 5.2.1 account disabled' }] });
    assert.equal(await intake.receive(await envelope(returnPath(4, 'm2')), Buffer.from(forwarded)), 'bounce');
    assert.deepEqual((events().slice(before)[0]!.detail as { bouncedRecipients: unknown }).bouncedRecipients, [
      { emailAddress: 'solo@gamma.test', action: 'failed', status: '5.2.1', diagnosticCode: 'smtp; 550 5.2.1 account disabled' },
    ]);
    const delayed = dsnText({ returnPath: returnPath(4, 'm2'), recipients: [{ final: 'solo@gamma.test', action: 'delayed', status: '4.4.1' }] });
    const count = events().length;
    assert.equal(await intake.receive(await envelope(returnPath(4, 'm2')), Buffer.from(delayed)), 'status-notice');
    assert.equal(events().length, count);
  });

  test('a DSN whose failed recipient is not in the transaction is kept as a dead letter, not guessed', async () => {
    const files = deadLetters().length;
    const text = dsnText({ returnPath: returnPath(6, 'm4'), recipients: [{ final: 'c@elsewhere.test', action: 'failed', status: '5.1.1' }] });
    assert.equal(await intake.receive(await envelope(returnPath(6, 'm4')), Buffer.from(text)), 'dead-letter');
    assert.equal(deadLetters().length, files + 1);
  });

  test('an ARF report becomes a Complaint for the recipients it names, else those of the returned copy, else the transaction\'s', async () => {
    const before = events().length;
    const headers = ['From: Sender <sender@example.com>', 'To: jane@alpha.test, mary@beta.test', 'Subject: relaygate test', 'Message-ID: <m1@relaygate.test>'];
    const named = arfText({ returnPath: returnPath(1, 'm1'), messageId: '<arf-1@isp.test>', arrivalDate: 'Thu, 8 Mar 2005 14:00:00 EDT', originalRcptTo: ['John@Alpha.test'], originalHeaders: headers });
    assert.equal(await intake.receive(await envelope(returnPath(1, 'm1')), Buffer.from(named)), 'complaint');
    const [complaint] = events().slice(before);
    assert.deepEqual(
      { type: complaint!.type, messageId: complaint!.messageId, at: complaint!.at, detail: complaint!.detail },
      {
        type: 'Complaint',
        messageId: 'm1',
        at: NOW,
        detail: {
          complainedRecipients: [{ emailAddress: 'John@alpha.test' }],
          timestamp: '2025-12-03T08:00:00.000Z',
          feedbackId: complaint!.id,
          complaintSubType: null,
          userAgent: 'ExampleCorp Feedback Loop (V0.01)',
          complaintFeedbackType: 'abuse',
          arrivalDate: '2005-03-08T18:00:00.000Z',
        },
      },
    );
    const byCopy = arfText({ returnPath: returnPath(1, 'm1'), feedbackType: 'fraud', originalHeaders: headers });
    assert.equal(await intake.receive(await envelope(returnPath(1, 'm1')), Buffer.from(byCopy)), 'complaint');
    assert.deepEqual((events().at(-1)!.detail as { complainedRecipients: unknown }).complainedRecipients, [{ emailAddress: 'jane@alpha.test' }], 'mary is at another domain: not in this transaction');
    const redacted = arfText({ returnPath: returnPath(1, 'm1'), originalHeaders: ['From: Sender <sender@example.com>', 'To: redacted@alpha.test', 'Subject: relaygate test'] });
    assert.equal(await intake.receive(await envelope(returnPath(1, 'm1')), Buffer.from(redacted)), 'complaint');
    assert.deepEqual((events().at(-1)!.detail as { complainedRecipients: unknown }).complainedRecipients, [{ emailAddress: 'jane@alpha.test' }, { emailAddress: 'John@alpha.test' }]);
  });

  test('an ARF report whose returned copy is another message of the same account is about that message; of another account, it is not', async () => {
    const toM4 = arfText({ returnPath: returnPath(1, 'm1'), originalHeaders: ['To: b@delta.test', 'Message-ID: <m4@relaygate.test>'] });
    assert.equal(await intake.receive(await envelope(returnPath(1, 'm1')), Buffer.from(toM4)), 'complaint');
    const about = events().at(-1)!;
    assert.deepEqual([about.messageId, (about.detail as { complainedRecipients: unknown }).complainedRecipients], ['m4', [{ emailAddress: 'b@delta.test' }]]);
    const toM3 = arfText({ returnPath: returnPath(1, 'm1'), originalHeaders: ['To: other@alpha.test', 'Message-ID: <m3@relaygate.test>'] });
    assert.equal(await intake.receive(await envelope(returnPath(1, 'm1')), Buffer.from(toM3)), 'complaint');
    assert.equal(events().at(-1)!.messageId, 'm1', 'a report cannot reach another account\'s message through this one\'s return path');
  });

  test('automatic replies are recognised (RFC 3834 and older markers) and are not bounces', async () => {
    const count = events().length;
    for (const headers of [['Auto-Submitted: auto-replied (vacation)'], ['X-Autoreply: yes'], ['X-Autorespond: yes'], ['Precedence: auto_reply'], []]) {
      assert.equal(await intake.receive(await envelope(returnPath(4, 'm2')), Buffer.from(autoReplyText(returnPath(4, 'm2'), headers))), 'automatic-reply', headers.join());
    }
    assert.equal(events().length, count);
    assert.equal(intake.counters['automatic-reply'], 5);
  });

  test('garbage is kept whole in the dead-letter folder (0600) with its envelope, never dropped', async () => {
    const before = new Set(deadLetters());
    const raw = Buffer.from('Subject: hello\r\nAuto-Submitted: auto-generated\r\n\r\nYour message could not be delivered (no DSN).\r\n');
    assert.equal(await intake.receive(await envelope(returnPath(4, 'm2')), raw), 'dead-letter');
    const [file] = deadLetters().filter((name) => !before.has(name));
    assert.ok(file);
    const path = join(dataDir, 'dead-letter', file);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dataDir, 'dead-letter')).mode & 0o777, 0o700);
    assert.equal(
      readFileSync(path, 'latin1'),
      `X-Relaygate-Dead-Letter: neither a delivery status notification, a feedback report nor an automatic reply\r\nX-Relaygate-Envelope-From: <>\r\nX-Relaygate-Envelope-To: <${returnPath(4, 'm2')}>\r\nX-Relaygate-Remote-Address: 192.0.2.99\r\nX-Relaygate-Received: 2026-11-24T12:00:00.000Z\r\n${raw.toString('latin1')}`,
    );
  });
});
