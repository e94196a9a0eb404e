import test from 'node:test';
import assert from 'node:assert/strict';
import { classifySmtpReply, formatClassification } from '../../../src/delivery/bounce/classify.js';
import type { ReplyContext } from '../../../src/delivery/bounce/classify.js';
import type { Classification } from '../../../src/delivery/bounce/classification.js';

type Expected = Pick<Classification, 'action' | 'bounceType' | 'bounceSubType' | 'rule'>;

function expect(action: Classification['action'], type: string | null, rule: string): Expected {
  const [bounceType, bounceSubType] = type ? type.split('/') : [null, null];
  return { action, bounceType, bounceSubType, rule } as Expected;
}

const cases: Array<{ name: string; reply: string; context?: ReplyContext; expected: Expected }> = [
  // Gmail
  {
    name: 'Gmail: no such user (multi-line)',
    reply: "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n550-5.1.1 unnecessary spaces. For more information, go to\r\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123456qkl.123 - gsmtp",
    expected: expect('bounce', 'Permanent/NoEmail', 'unknown-recipient-code'),
  },
  {
    name: 'Gmail: over quota, temporary',
    reply: "452-4.2.2 The recipient's inbox is out of storage space. Please direct the\r\n452-4.2.2 recipient to\r\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp b2si1 - gsmtp",
    expected: expect('retry', 'Transient/MailboxFull', 'mailbox-full-code'),
  },
  {
    name: 'Gmail: over quota and inactive',
    reply: "552-5.2.2 The recipient's inbox is out of storage space and inactive. Please direct\r\n552-5.2.2 the recipient to\r\n552 5.2.2  https://support.google.com/mail/?p=OverQuotaPerm c3si2 - gsmtp",
    expected: expect('bounce', 'Transient/MailboxFull', 'mailbox-full-code'),
  },
  {
    name: 'Gmail: account disabled',
    reply: '550-5.2.1 The email account that you tried to reach is disabled. Learn more at\r\n550 5.2.1  https://support.google.com/mail/?p=DisabledUser d4si3 - gsmtp',
    expected: expect('bounce', 'Permanent/General', 'mailbox-disabled-code'),
  },
  {
    name: 'Gmail: unsolicited mail',
    reply: '550-5.7.1 [203.0.113.5      12] Our system has detected that this message is\r\n550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\r\n550-5.7.1 this message has been blocked. For more information, go to\r\n550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError e5si4 - gsmtp',
    expected: expect('bounce', 'Transient/ContentRejected', 'spam-content'),
  },
  {
    name: 'Gmail: unauthenticated sender',
    reply: '550-5.7.26 This mail has been blocked because the sender is unauthenticated.\r\n550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.\r\n550 5.7.26  https://support.google.com/mail/answer/81126#authentication f6si5 - gsmtp',
    expected: expect('bounce', 'Permanent/General', 'authentication-code'),
  },
  {
    name: 'Gmail: rate limited',
    reply: '421-4.7.28 [203.0.113.5      15] Gmail has detected an unusual rate of unsolicited\r\n421-4.7.28 mail originating from your IP address. To protect our users from spam,\r\n421-4.7.28 mail sent from your IP address has been temporarily rate limited.\r\n421 4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError g7si6 - gsmtp',
    expected: expect('retry', 'Transient/General', 'rate-limit'),
  },
  {
    name: 'Gmail: message too large',
    reply: "552-5.2.3 Your message exceeded Google's message size limits. For more\r\n552 5.2.3  information, go to https://support.google.com/mail/?p=MaxSizeError h8si7 - gsmtp",
    expected: expect('bounce', 'Transient/MessageTooLarge', 'message-too-large-code'),
  },
  {
    name: 'Gmail: recipient policy',
    reply: '550-5.7.1 The user or domain that you are sending to (or from) has a policy that\r\n550 5.7.1 prohibited the email that you sent. j1si9 - gsmtp',
    expected: expect('bounce', 'Permanent/General', 'policy-code'),
  },
  // Microsoft
  {
    name: 'Outlook.com: mailbox unavailable under the protocol code 5.5.0',
    reply: '550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [AM4PEPF00027A5F.eurprd04.prod.outlook.com]',
    expected: expect('bounce', 'Permanent/NoEmail', 'unknown-recipient-text'),
  },
  {
    name: 'Exchange Online: recipient not in the directory (5.4.1)',
    reply: '550 5.4.1 Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors [DB1PEPF000509E9.eurprd03.prod.outlook.com]',
    expected: expect('bounce', 'Permanent/NoEmail', 'microsoft-recipient-not-in-directory'),
  },
  {
    name: 'Exchange Online: recipient not found (5.1.10)',
    reply: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
    expected: expect('bounce', 'Permanent/NoEmail', 'unknown-recipient-code'),
  },
  {
    name: 'Outlook.com: IP on block list',
    reply: "550 5.7.1 Unfortunately, messages from [203.0.113.5] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
    expected: expect('bounce', 'Permanent/General', 'blocklist'),
  },
  {
    name: 'Exchange Online: quota exceeded',
    reply: '552 5.2.2 STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception',
    expected: expect('bounce', 'Transient/MailboxFull', 'mailbox-full-code'),
  },
  {
    name: 'Exchange Online: DMARC reject',
    reply: '550 5.7.509 Access denied, sending domain example.com does not pass DMARC verification and has a DMARC policy of reject.',
    expected: expect('bounce', 'Permanent/General', 'authentication-text'),
  },
  {
    name: 'Outlook.com: server busy',
    reply: '451 4.7.500 Server busy. Please try again later from [203.0.113.5]. (S77714)',
    expected: expect('retry', 'Transient/General', 'rate-limit'),
  },
  // Yahoo
  {
    name: 'Yahoo: no such account',
    reply: "554 delivery error: dd This user doesn't have a yahoo.com account (someone@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com",
    expected: expect('bounce', 'Permanent/NoEmail', 'unknown-recipient-text'),
  },
  {
    name: 'Yahoo: TSS04 deferral',
    reply: '421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
    expected: expect('retry', 'Transient/General', 'rate-limit'),
  },
  {
    name: 'Yahoo: Spamhaus listing',
    reply: "553 5.7.1 [BL21] Connections will not be accepted from 203.0.113.5, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
    expected: expect('bounce', 'Permanent/General', 'blocklist'),
  },
  // Postfix and content filters
  {
    name: 'Postfix: user unknown',
    reply: '550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
    expected: expect('bounce', 'Permanent/NoEmail', 'unknown-recipient-code'),
  },
  {
    name: 'Postfix: a 4xx that says the user is unknown stays a retry',
    reply: '450 4.1.1 <nobody@example.com>: Recipient address rejected: unverified address: host mx.example.com[192.0.2.1] said: 550 5.1.1 <nobody@example.com>: User unknown',
    expected: expect('retry', 'Transient/General', 'default-4xx'),
  },
  {
    name: 'Postfix: postgrey greylisting',
    reply: '450 4.2.0 <jane@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html',
    expected: expect('retry', 'Transient/General', 'greylisting'),
  },
  {
    name: 'Postfix: relay access denied',
    reply: '554 5.7.1 <jane@example.org>: Relay access denied',
    expected: expect('bounce', 'Permanent/General', 'relay-denied'),
  },
  {
    name: 'Postfix: message size',
    reply: '552 5.3.4 Message size exceeds fixed limit',
    expected: expect('bounce', 'Transient/MessageTooLarge', 'message-too-large-code'),
  },
  {
    name: 'Postfix: RBL',
    reply: '554 5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.5',
    expected: expect('bounce', 'Permanent/General', 'blocklist'),
  },
  {
    name: 'Postfix: unknown domain',
    reply: '550 5.1.2 <jane@nonexistent.invalid>: Recipient address rejected: Domain not found',
    expected: expect('bounce', 'Permanent/General', 'bad-domain-code'),
  },
  {
    name: 'Postfix: no reverse hostname, temporary',
    reply: '450 4.7.1 Client host rejected: cannot find your reverse hostname, [203.0.113.5]',
    expected: expect('retry', 'Transient/General', 'authentication-temporary'),
  },
  {
    name: 'amavis: virus',
    reply: '554 5.7.0 Reject, id=12345-01 - INFECTED: Eicar-Test-Signature',
    expected: expect('bounce', 'Transient/AttachmentRejected', 'virus'),
  },
  {
    name: 'amavis: banned attachment',
    reply: '554 5.7.0 Reject, id=12345-02 - BANNED: P=p003,L=1,M=multipart/mixed | P=p002,L=1/2,M=application/x-msdownload,T=exe,N=invoice.exe',
    expected: expect('bounce', 'Transient/AttachmentRejected', 'attachment'),
  },
  {
    name: 'Dovecot: quota',
    reply: '552 5.2.2 <jane@example.com> Quota exceeded (mailbox for user is full)',
    expected: expect('bounce', 'Transient/MailboxFull', 'mailbox-full-code'),
  },
  // Exim and cPanel
  {
    name: 'Exim: unrouteable address',
    reply: '550 Unrouteable address',
    expected: expect('bounce', 'Permanent/NoEmail', 'unknown-recipient-text'),
  },
  {
    name: 'Exim: sender verify failed (mentions "Unrouteable address" too)',
    reply: '550-Verification failed for <bounce@sender.example>\r\n550-Unrouteable address\r\n550 Sender verify failed',
    expected: expect('bounce', 'Permanent/General', 'sender-rejected'),
  },
  {
    name: 'cPanel: no such user here',
    reply: '550 No Such User Here',
    expected: expect('bounce', 'Permanent/NoEmail', 'unknown-recipient-text'),
  },
  {
    name: 'cPanel: hedged "may not exist, may be blacklisted" is not a blocklist',
    reply: '550 The mail server could not deliver mail to jane@example.com.  The account or domain may not exist, they may be blacklisted, or missing the proper dns entries.',
    expected: expect('bounce', 'Permanent/General', 'cpanel-account-may-not-exist'),
  },
  {
    name: 'Exim: message size without an enhanced code',
    reply: '552 Message size exceeds maximum permitted',
    expected: expect('bounce', 'Transient/MessageTooLarge', 'message-too-large-text'),
  },
  {
    name: 'Exim: greylisting',
    reply: '451-203.0.113.5 is not yet authorized to deliver mail from\r\n451 <bounce@sender.example> to <jane@example.com>. Please try later.',
    expected: expect('retry', 'Transient/General', 'greylisting'),
  },
  {
    name: 'Exim: administrative prohibition',
    reply: '550 Administrative prohibition',
    expected: expect('bounce', 'Permanent/General', 'policy-text'),
  },
  // Overrides, transport errors, defaults
  { name: '5xx too many recipients is retried', reply: '550 5.5.3 Too many recipients', expected: expect('retry', 'Transient/General', 'too-many-recipients-code') },
  { name: '5xx "try again later" is retried', reply: '550 5.7.1 Service temporarily unavailable, please try again later', expected: expect('retry', 'Transient/General', 'try-again-later') },
  { name: '5xx greylisting is retried', reply: '554 5.7.1 Greylisted: please retry in 5 minutes', expected: expect('retry', 'Transient/General', 'greylisting') },
  { name: 'relay gave up (5.4.7)', reply: '554 5.4.7 Delivery time expired', expected: expect('bounce', 'Transient/General', 'delivery-expired') },
  { name: 'connection refused', reply: 'connect ECONNREFUSED 192.0.2.1:25', expected: expect('retry', 'Transient/General', 'connection-failure') },
  { name: 'TLS handshake failure', reply: 'Hostname/IP does not match certificate altnames', context: { stage: 'tls' }, expected: expect('retry', 'Transient/General', 'tls-failure') },
  { name: '554 greeting', reply: '554 mx.example.com ESMTP not accepting messages', context: { stage: 'connect' }, expected: expect('bounce', 'Permanent/General', 'connection-rejected') },
  { name: 'same 554 text at RCPT', reply: '554 mx.example.com ESMTP not accepting messages', context: { stage: 'rcpt' }, expected: expect('bounce', 'Permanent/General', 'default-5xx') },
  { name: 'DSN diagnostic code', reply: 'smtp; 550 5.1.1 <jane@example.com>... User unknown', expected: expect('bounce', 'Permanent/NoEmail', 'unknown-recipient-code') },
  { name: 'DSN status without a reply code', reply: '5.1.1 user unknown', expected: expect('bounce', 'Permanent/NoEmail', 'unknown-recipient-code') },
  { name: 'accepted', reply: '250 2.0.0 OK 1700000000 a1si123 - gsmtp', expected: expect('deliver', null, 'default-2xx') },
  { name: 'plain 4xx', reply: '451 Temporary local problem - please try later', expected: expect('retry', 'Transient/General', 'default-4xx') },
  { name: 'plain 5xx', reply: '550 5.0.0 Rejected', expected: expect('bounce', 'Permanent/General', 'default-5xx') },
  { name: 'no code at all', reply: 'Unexpected socket close', expected: expect('retry', 'Undetermined/Undetermined', 'default-unknown') },
];

for (const { name, reply, context, expected } of cases) {
  test(`classifies ${name}`, () => {
    const { action, bounceType, bounceSubType, rule } = classifySmtpReply(reply, context);
    assert.deepEqual({ action, bounceType, bounceSubType, rule }, expected);
  });
}

test('the classification carries the reply code and enhanced code', () => {
  assert.deepEqual(classifySmtpReply('550-5.1.1 first line\r\n550 5.1.1 second line'), {
    action: 'bounce',
    bounceType: 'Permanent',
    bounceSubType: 'NoEmail',
    category: 'recipient',
    rule: 'unknown-recipient-code',
    code: 550,
    enhancedCode: '5.1.1',
  });
});

test('a 2xx reply is delivered even if its text would match a rule', () => {
  assert.equal(classifySmtpReply('250 2.0.0 Ok: queued, mailbox full warning sent').action, 'deliver');
});

test('formatClassification prints one field a line', () => {
  assert.equal(
    formatClassification(classifySmtpReply('552 5.2.2 Mailbox full')),
    [
      'action:        bounce',
      'bounce type:   Transient/MailboxFull',
      'category:      mailbox-full',
      'rule:          mailbox-full-code',
      'reply code:    552',
      'enhanced code: 5.2.2',
    ].join('\n'),
  );
  assert.match(formatClassification(classifySmtpReply('250 OK')), /^bounce type: {3}\(none: delivered\)$/m);
});
