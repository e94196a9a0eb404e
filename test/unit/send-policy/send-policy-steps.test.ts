import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessageTags } from '../../../src/policy/message-tags.js';
import { verifiedIdentity } from '../../support/provision.js';
import { ACCOUNT, OTHER_ACCOUNT, PolicyFixture, USER } from './policy-fixture.js';

const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/${USER}`;
const NOT_VERIFIED = 'Message rejected: Email address is not verified. The following identities failed the check in region us-east-1:';

describe('account and configuration set', () => {
  let fixture: PolicyFixture;
  before(async () => {
    fixture = await PolicyFixture.create();
    for (const [name, sendingEnabled] of [['ConfigSet', true], ['Paused', false], ['Default', true]] as const) {
      await fixture.store.configurationSets.create({ accountId: ACCOUNT, name, sendingEnabled, tlsPolicy: 'Optional', sendingPoolName: null, suppressedReasons: [], eventDestinations: [] });
    }
  });
  after(() => fixture.close());

  test('a message from a verified domain is accepted, with SES auto tags', async () => {
    const decision = await fixture.evaluate({ headers: ['From: Sender <sender@example.com>', 'X-SES-MESSAGE-TAGS: campaign=book, team=sales_1', 'X-SES-CONFIGURATION-SET: ConfigSet'] });
    assert.deepEqual(decision, {
      accepted: true,
      configurationSet: 'ConfigSet',
      tags: {
        campaign: ['book'],
        team: ['sales_1'],
        'ses:configuration-set': ['ConfigSet'],
        'ses:source-ip': ['192.0.2.10'],
        'ses:from-domain': ['example.com'],
        'ses:caller-identity': [USER],
      },
      sourceArn: `arn:aws:ses:us-east-1:${ACCOUNT}:identity/example.com`,
      droppedTags: [],
      identityAccountId: ACCOUNT,
    });
  });

  test('unknown configuration set', async () => {
    assert.equal(
      await fixture.reply({ headers: ['From: sender@example.com', 'X-SES-CONFIGURATION-SET: Nope'] }),
      '554 Configuration set does not exist: Configuration set Nope does not exist.',
    );
  });

  test('paused configuration set', async () => {
    assert.equal(await fixture.reply({ headers: ['From: sender@example.com', 'X-SES-CONFIGURATION-SET: Paused'] }), '554 Message rejected: Sending is paused for configuration set Paused');
  });

  test("the From identity's default configuration set applies when the message names none", async () => {
    await fixture.store.identities.update(ACCOUNT, 'example.com', { defaultConfigurationSet: 'Default' });
    const decision = await fixture.evaluate();
    assert.equal(decision.accepted && decision.configurationSet, 'Default');
    const named = await fixture.evaluate({ headers: ['From: sender@example.com', 'X-SES-CONFIGURATION-SET: ConfigSet'] });
    assert.equal(named.accepted && named.configurationSet, 'ConfigSet', 'a named set replaces the default');
    await fixture.store.identities.update(ACCOUNT, 'example.com', { defaultConfigurationSet: null });
  });

  test('a tag with characters outside SES\'s set is dropped, not refused; more than 50 tags are refused', async () => {
    const decision = await fixture.evaluate({ headers: ['From: sender@example.com', 'X-SES-MESSAGE-TAGS: campaign=summer sale, team=sales'] });
    assert.ok(decision.accepted);
    assert.deepEqual([decision.tags.campaign, decision.tags.team, decision.droppedTags], [undefined, ['sales'], ['campaign=summer sale']]);
    assert.deepEqual(parseMessageTags('a=1,b=2'), { tags: [['a', '1'], ['b', '2']], invalid: [] });
    assert.deepEqual(parseMessageTags('caf\u00e9=1, empty=, bare, a=b=c, ok=1'), { tags: [['ok', '1']], invalid: ['caf\u00e9=1', 'empty=', 'bare', 'a=b=c'] });
    const many = Array.from({ length: 51 }, (_, index) => `t${index}=v`).join(', ');
    assert.equal(await fixture.reply({ headers: ['From: sender@example.com', `X-SES-MESSAGE-TAGS: ${many}`] }), '554 Message rejected: 51 message tags, at most 50 are allowed.');
  });

  test('a paused account is refused first', async () => {
    await fixture.store.accounts.update(ACCOUNT, { sendingEnabled: false });
    assert.equal(await fixture.reply({ headers: ['From: sender@example.com', 'X-SES-CONFIGURATION-SET: Nope'] }), '554 Message rejected: Account is paused');
    await fixture.store.accounts.update(ACCOUNT, { sendingEnabled: true });
  });

  test('a revoked credential is refused even in an open session', async () => {
    await fixture.store.credentials.revoke('AKIATESTTESTTEST0001');
    assert.equal(await fixture.reply(), '535 Authentication Credentials Invalid');
  });
});

describe('verified senders and the sandbox', () => {
  let fixture: PolicyFixture;
  before(async () => {
    fixture = await PolicyFixture.create({ sandbox: true }, ['example.com', 'friend@example.org']);
  });
  after(() => fixture.close());

  test('envelope sender, From, Sender and Return-Path must be verified; the reply lists those that are not', async () => {
    assert.equal(
      await fixture.reply({
        mailFrom: 'bounces@other.example',
        headers: ['From: a@example.com, b@unverified.example', 'Sender: sender@example.com', 'Return-Path: <rp@also-unverified.example>'],
        recipients: ['friend@example.org'],
      }),
      `554 ${NOT_VERIFIED} bounces@other.example, b@unverified.example, rp@also-unverified.example`,
    );
  });

  test('a +label address is covered by its verified address; subdomains by their domain', async () => {
    assert.equal(await fixture.reply({ mailFrom: 'sender+bounce-42@mail.example.com', headers: ['From: Sender+news@example.com'], recipients: ['friend+x@example.org'] }), 'accepted');
  });

  test('in the sandbox, recipients must be verified too, except the mailbox simulator', async () => {
    assert.equal(
      await fixture.reply({ recipients: ['friend@example.org', 'stranger@example.org', 'success@simulator.amazonses.com', 'bounce+label@SIMULATOR.amazonses.com'] }),
      `554 ${NOT_VERIFIED} stranger@example.org`,
    );
  });

  test('a long list of failed identities ends with three periods', async () => {
    const recipients = Array.from({ length: 50 }, (_, index) => `unverified-recipient-${index}@example.net`);
    const reply = await fixture.reply({ recipients });
    assert.ok(reply.length <= 504, `${reply.length}`);
    assert.match(reply, /^554 Message rejected: Email address is not verified\. .*: unverified-recipient-0@example\.net, .*unverified-recipient-\d+@example\.net\.\.\.$/);
  });

  test('sandbox limits: 1 recipient per second', async () => {
    const now = new Date(Date.now() + 3600_000);
    assert.equal(await fixture.reply({ recipients: ['friend@example.org'], now }), 'accepted');
    assert.equal(await fixture.reply({ recipients: ['friend@example.org'], now }), '454 Throttling failure: Maximum sending rate exceeded');
    assert.equal(await fixture.reply({ recipients: ['friend@example.org'], now: new Date(now.getTime() + 1000) }), 'accepted');
  });
});

describe('quotas', () => {
  test('the daily quota counts recipients; a refused message is not counted; the simulator counts only toward the rate', async () => {
    const fixture = await PolicyFixture.create({ max24HourSend: 5 });
    try {
      const now = new Date('2026-02-01T00:00:00Z');
      assert.equal(await fixture.reply({ recipients: ['a@x.org', 'b@x.org', 'c@x.org'], now }), 'accepted');
      assert.equal(await fixture.reply({ recipients: ['d@x.org', 'e@x.org', 'f@x.org'], now }), '454 Throttling failure: Daily message quota exceeded');
      assert.equal(await fixture.reply({ headers: ['From: nobody@unverified.example'], recipients: ['d@x.org'], now }), `554 ${NOT_VERIFIED} nobody@unverified.example`);
      assert.equal(await fixture.limiter.sentLast24Hours(ACCOUNT, now.getTime()), 3);
      assert.equal(await fixture.reply({ recipients: ['d@x.org', 'e@x.org', 'success@simulator.amazonses.com'], now }), 'accepted');
      assert.equal(await fixture.limiter.sentLast24Hours(ACCOUNT, now.getTime()), 5);
      assert.equal(await fixture.reply({ recipients: ['f@x.org'], now: new Date(now.getTime() + 24 * 3600_000 + 60_000) }), 'accepted', 'the window rolls');
    } finally {
      await fixture.close();
    }
  });
});

describe('IAM policies', () => {
  let fixture: PolicyFixture;
  const user = { kind: 'user' as const, accountId: ACCOUNT, userName: USER };
  before(async () => {
    fixture = await PolicyFixture.create({}, ['example.com', 'marketing@example.net']);
  });
  after(() => fixture.close());

  test('the default policy allows ses:SendRawEmail on *', async () => {
    assert.equal(await fixture.reply(), 'accepted');
  });

  test('an explicit deny on a From address is refused with the identity ARN', async () => {
    await fixture.store.policies.put(user, 'no-ceo', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 'ses:Send*', Resource: '*', Condition: { StringEquals: { 'ses:FromAddress': 'ceo@example.com' } } }],
    }));
    assert.equal(
      await fixture.reply({ mailFrom: 'ceo@example.com', headers: ['From: ceo@example.com'] }),
      `554 Access denied: User ${USER_ARN} is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:us-east-1:${ACCOUNT}:identity/example.com`,
    );
    assert.equal(await fixture.reply(), 'accepted');
    await fixture.store.policies.delete(user, 'no-ceo');
  });

  test('a policy limited to some identities and recipients; no policy at all denies', async () => {
    await fixture.store.policies.delete(user, 'AmazonSesSendingAccess');
    assert.equal(
      await fixture.reply(),
      `554 Access denied: User ${USER_ARN} is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:us-east-1:${ACCOUNT}:identity/example.com`,
    );
    await fixture.store.policies.put(user, 'marketing-only', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow',
        Action: 'ses:SendRawEmail',
        Resource: `arn:aws:ses:us-east-1:${ACCOUNT}:identity/marketing@example.net`,
        Condition: { 'ForAllValues:StringLike': { 'ses:Recipients': '*@example.org' }, Bool: { 'aws:SecureTransport': 'true' } },
      }],
    }));
    const marketing = { mailFrom: 'marketing@example.net', headers: ['From: marketing@example.net'] };
    assert.equal(await fixture.reply(marketing), 'accepted');
    assert.match(await fixture.reply({ ...marketing, recipients: ['a@example.org', 'b@example.com'] }), /^554 Access denied: .* on resource arn:aws:ses:us-east-1:111122223333:identity\/marketing@example\.net$/);
    assert.match(await fixture.reply({ ...marketing, secure: false }), /^554 Access denied: /);
    assert.match(await fixture.reply(), /^554 Access denied: .*identity\/example\.com$/);
  });
});

describe('sending authorization (X-SES-*-ARN)', () => {
  let fixture: PolicyFixture;
  const partnerArn = `arn:aws:ses:us-east-1:${OTHER_ACCOUNT}:identity/partner.example`;
  before(async () => {
    fixture = await PolicyFixture.create();
    await fixture.store.accounts.create({ id: OTHER_ACCOUNT, sandbox: false, sendingEnabled: true, maxSendRate: 10, max24HourSend: 100 });
    await fixture.store.identities.create(verifiedIdentity(OTHER_ACCOUNT, 'partner.example'));
  });
  after(() => fixture.close());

  const delegated = (extra: string[] = []) => ({
    mailFrom: 'news@partner.example',
    headers: ['From: News <news@partner.example>', `X-SES-SOURCE-ARN: ${partnerArn}`, `X-SES-FROM-ARN: ${partnerArn}`, ...extra],
  });

  test("without the owner's policy: access denied on the identity's ARN", async () => {
    assert.equal(await fixture.reply(delegated()), `554 Access denied: User ${USER_ARN} is not authorized to perform ses:SendRawEmail on resource ${partnerArn}`);
  });

  test("with a policy naming the sender's account, it may send as the identity, with the owner's settings; quota is charged to the sender", async () => {
    await fixture.store.policies.put({ kind: 'identity', accountId: OTHER_ACCOUNT, identity: 'partner.example' }, 'allow-app', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: [ACCOUNT] }, Action: ['ses:SendRawEmail'], Resource: partnerArn, Condition: { StringLike: { 'ses:FromAddress': 'news@partner.example' } } }],
    }));
    const now = new Date();
    const decision = await fixture.evaluate({ ...delegated(), now });
    assert.equal(decision.accepted && decision.identityAccountId, OTHER_ACCOUNT, "the owner's identity settings apply (DKIM, custom MAIL FROM)");
    assert.equal(await fixture.limiter.sentLast24Hours(ACCOUNT, now.getTime()), 1);
    assert.equal(await fixture.limiter.sentLast24Hours(OTHER_ACCOUNT, now.getTime()), 0);
  });

  test("a delegated message is sent as the owner's identity: its ARN is the events' sourceArn", async () => {
    const decision = await fixture.evaluate(delegated());
    assert.equal(decision.accepted && decision.sourceArn, partnerArn);
  });

  test('the policy conditions apply; an ARN does not vouch for addresses outside its identity', async () => {
    assert.match(await fixture.reply({ ...delegated(), headers: ['From: ceo@partner.example', `X-SES-SOURCE-ARN: ${partnerArn}`] }), /^554 Access denied: .*partner\.example$/);
    assert.equal(
      await fixture.reply({ mailFrom: 'news@partner.example', headers: ['From: news@partner.example', 'Sender: x@elsewhere.example', `X-SES-SOURCE-ARN: ${partnerArn}`] }),
      `554 ${NOT_VERIFIED} x@elsewhere.example`,
    );
  });

  test('an ARN of another region or a malformed one is refused', async () => {
    assert.equal(
      await fixture.reply({ headers: ['From: news@partner.example', 'X-SES-SOURCE-ARN: arn:aws:ses:eu-west-1:444455556666:identity/partner.example'] }),
      '554 Message rejected: X-SES-SOURCE-ARN is not a valid identity ARN in this region: arn:aws:ses:eu-west-1:444455556666:identity/partner.example',
    );
    assert.match(await fixture.reply({ headers: ['From: news@partner.example', 'X-SES-FROM-ARN: not-an-arn'] }), /^554 Message rejected: X-SES-FROM-ARN is not a valid identity ARN/);
  });

  test("the identity owner's sandbox keeps a delegated message in the sandbox", async () => {
    await fixture.store.accounts.update(OTHER_ACCOUNT, { sandbox: true });
    assert.equal(await fixture.reply(delegated()), `554 ${NOT_VERIFIED} recipient@example.org`);
    await fixture.store.accounts.update(OTHER_ACCOUNT, { sandbox: false });
  });
});

describe('content checks', () => {
  let fixture: PolicyFixture;
  before(async () => {
    fixture = await PolicyFixture.create();
  });
  after(() => fixture.close());

  test('a header that may appear only once, twice', async () => {
    assert.equal(await fixture.reply({ headers: ['From: sender@example.com', 'Subject: one', 'subject: two'] }), "554 Transaction failed: Duplicate header 'Subject'.");
    assert.equal(await fixture.reply({ headers: ['From: sender@example.com', 'To: a@example.org', 'To: b@example.org', 'Received: x', 'Received: y'] }), 'accepted');
  });

  const multipart = (partHeaders: string[]) => ({
    headers: ['From: sender@example.com', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="outer"'],
    body: [
      '--outer',
      'Content-Type: multipart/alternative; boundary="inner"',
      '',
      '--inner',
      'Content-Type: text/plain',
      '',
      'hello',
      '--inner--',
      '--outer',
      ...partHeaders,
      'Content-Transfer-Encoding: base64',
      '',
      'aGVsbG8=',
      '--outer--',
      '',
    ].join('\r\n'),
  });

  const blocked: Array<[string, string[], string]> = [
    ['Content-Disposition filename', ['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="setup.EXE"'], 'setup.EXE'],
    ['Content-Type name', ['Content-Type: application/octet-stream; name="script.js"'], 'script.js'],
    // Decoded to find its extension; in the reply, which must be ASCII, the accented letters read '?'.
    ['RFC 2231 filename*', ["Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.vbs"], 'r?sum?.vbs'],
    ['RFC 2231 continuation', ['Content-Disposition: attachment;', ' filename*0="invoice.";', ' filename*1="scr"'], 'invoice.scr'],
    ['RFC 2047 encoded name', ['Content-Type: application/octet-stream; name="=?UTF-8?B?ZmFjdHVyZS5iYXQ=?="'], 'facture.bat'],
  ];
  for (const [name, partHeaders, filename] of blocked) {
    test(`blocked attachment type, named by ${name}`, async () => {
      assert.equal(await fixture.reply(multipart(partHeaders)), `554 Transaction failed: Attachment '${filename}' has an unsupported file type.`);
    });
  }

  test('allowed attachment types pass, and so does a single-part message with a blocked name in its header', async () => {
    assert.equal(await fixture.reply(multipart(['Content-Disposition: attachment; filename="report.pdf"'])), 'accepted');
    assert.equal(await fixture.reply(multipart(['Content-Disposition: attachment; filename="archive.exe.zip"'])), 'accepted');
    assert.equal(
      await fixture.reply({ headers: ['From: sender@example.com', 'Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename=run.bat'] }),
      "554 Transaction failed: Attachment 'run.bat' has an unsupported file type.",
    );
  });

  test('a message past the MIME limits (1,000 parts) is refused for good, not answered 451', async () => {
    const parts = (count: number) => Array.from({ length: count }, (_, index) => `--b\r\nContent-Type: text/plain; name="a${index}.txt"\r\n\r\nx\r\n`).join('');
    const message = (count: number) => ({ headers: ['From: sender@example.com', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"'], body: `${parts(count)}--b--\r\n` });
    assert.equal(await fixture.reply(message(900)), 'accepted');
    assert.equal(await fixture.reply(message(3000)), '554 Transaction failed: The message has more than 1,000 MIME parts, or a MIME part header that is too large.');
    // The rest of the message is not read, but it is let go: a spool file's read stream holds a descriptor until then.
    assert.equal(fixture.opened.at(-1)!.readableEnded, false);
    assert.equal(fixture.opened.at(-1)!.destroyed, true);
  });

  test('a long run of folding whitespace after "name" is decided at once', async () => {
    // 20,000 spaces, then more of the field (a value's trailing spaces are trimmed): the earlier check backtracked
    // cubically on them (8,000 held the process for minutes).
    const folded = Array.from({ length: 200 }, () => ' '.repeat(100));
    assert.equal(await fixture.reply({ headers: ['From: sender@example.com', 'Content-Type: text/plain; name', ...folded, ' x'] }), 'accepted');
  });
});

describe('custom MAIL FROM', () => {
  test('an identity whose MAIL FROM domain must be verified ("RejectMessage") cannot send while it is not', async () => {
    const fixture = await PolicyFixture.create();
    try {
      await fixture.store.identities.update(ACCOUNT, 'example.com', { mailFrom: { domain: 'bounce.example.com', behaviorOnMxFailure: 'RejectMessage', status: 'Pending', pendingSince: Date.now() } });
      assert.equal(await fixture.reply(), '554 Message rejected: Mail FROM domain is not verified: bounce.example.com');
      await fixture.store.identities.update(ACCOUNT, 'example.com', { mailFrom: { domain: 'bounce.example.com', behaviorOnMxFailure: 'UseDefaultValue', status: 'Pending', pendingSince: Date.now() } });
      assert.equal(await fixture.reply(), 'accepted');
    } finally {
      await fixture.close();
    }
  });
});
