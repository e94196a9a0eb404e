import test from 'node:test';
import assert from 'node:assert/strict';
import { classifySmtpReply, defaultBounceRules, type ReplyStage } from '../../../src/delivery/bounce/index.js';
import { deliveryResult, type AttemptContext } from '../../../src/delivery/delivery-result.js';
import { delayTypeOf, diagnosticCode, dsnStatus, resultEvents, type ResultWithReply } from '../../../src/delivery/result-events.js';
import type { MessageForEvents } from '../../../src/events/event-builders.js';

const HOUR = 3_600_000;
const message: MessageForEvents = {
  id: '0100018f00000000-9a483358-9170-4cb4-a269-f5dcdf415321-000000',
  accountId: '123456789012',
  mailFrom: 'sender@example.com',
  receivedAt: 1_000_000,
  recipients: ['a@example.org', 'b@example.org', 'c@example.org'],
  configurationSet: null,
  tags: { 'ses:caller-identity': ['ses_user'] },
};
const context = (at: number, reached = true): AttemptContext => ({
  at,
  receivedAt: message.receivedAt,
  remoteMta: reached ? '198.51.100.7' : null,
  mxHost: reached ? 'mx.example.org' : null,
  sourceIp: '',
  outgoingIp: reached ? '192.0.2.10' : null,
  reportingMta: 'mta.relaygate.test',
  policy: { firstDelayMs: 60_000, maxDelayMs: HOUR, lifetimeMs: 120 * HOUR },
  rules: defaultBounceRules(),
  random: () => 0.5,
});

function attempt(recipient: string, reply: string, stage: ReplyStage, at: number, reached = true): ResultWithReply {
  const { result, classification } = deliveryResult({ id: 1, messageId: message.id, recipient, domain: 'example.org', attempts: 0, sourceIp: null }, reply, stage, context(at, reached));
  return { recipient, result, classification, stage };
}

const delayOf = (reply: string, stage: ReplyStage = 'rcpt', reached = true) => delayTypeOf(classifySmtpReply(reply, { stage }).category, reached);

test('delay types from the bounce rules: each of the guide\'s types where a reply means it', () => {
  assert.equal(delayOf('452 4.2.2 Mailbox full'), 'MailboxFull');
  assert.equal(delayOf('451 4.7.1 Message rejected as spam'), 'SpamDetected');
  assert.equal(delayOf('421 4.7.0 Your IP is listed at zen.spamhaus.org'), 'IPFailure');
  assert.equal(delayOf('421 4.7.28 Our system has detected an unusual rate of unsolicited mail'), 'IPFailure');
  assert.equal(delayOf('connect ECONNREFUSED 192.0.2.1:25 (ECONNREFUSED)', 'connect', false), 'TransientCommunicationFailure');
  assert.equal(delayOf('451 4.4.3 Temporary DNS failure looking up the MX records of example.org (ESERVFAIL)', 'connect', false), 'TransientCommunicationFailure');
  assert.equal(delayOf('451 4.3.0 Mail server temporarily rejected message'), 'RecipientServerError');
  assert.equal(delayOf('451 4.3.0 Delivery failed in the gateway: boom', 'connect', false), 'InternalFailure');
  assert.equal(delayOf('450 4.7.1 Greylisted'), 'General');
  assert.equal(delayOf('421 Service not available'), 'General');
  assert.equal(delayOf('Unexpected 354 at RCPT (EPROTOCOL)', 'rcpt'), 'Undetermined');
});

test('DSN status: the enhanced code, else one derived from the reply class or, without a code, from the stage', () => {
  const status = (reply: string, stage: ReplyStage) => dsnStatus(classifySmtpReply(reply, { stage }), stage);
  assert.equal(status('550 5.1.1 user unknown', 'rcpt'), '5.1.1');
  assert.equal(status('550 user unknown', 'rcpt'), '5.0.0');
  assert.equal(status('451 try later', 'data'), '4.0.0');
  assert.equal(status('connect ETIMEDOUT (ETIMEDOUT)', 'connect'), '4.4.1');
  assert.equal(status('Connection closed unexpectedly (ECONNECTION)', 'data'), '4.4.2');
});

test('one attempt: one Delivery for the recipients taken with the same reply, one Bounce per type, one DeliveryDelay per delay type', () => {
  const at = message.receivedAt + 5000;
  const events = resultEvents(
    message,
    [
      attempt('a@example.org', '250 2.0.0 Ok: queued as 4F2', 'data', at),
      attempt('b@example.org', '550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 Please try again', 'rcpt', at),
      attempt('c@example.org', '452 4.2.2 Mailbox full', 'rcpt', at),
    ],
    { expiresAt: message.receivedAt + 120 * HOUR, remoteMtaIp: '198.51.100.7', outgoingIp: '192.0.2.10' },
  );
  assert.deepEqual(events.map((event) => [event.type, event.at]), [['Delivery', at], ['Bounce', at], ['DeliveryDelay', at]]);
  const [delivery, bounce, delay] = events;
  assert.deepEqual(delivery!.detail, { timestamp: new Date(at).toISOString(), processingTimeMillis: 5000, recipients: ['a@example.org'], smtpResponse: '250 2.0.0 Ok: queued as 4F2', reportingMTA: 'mta.relaygate.test', remoteMtaIp: '198.51.100.7' });
  assert.deepEqual(delivery!.mail.tags, { 'ses:caller-identity': ['ses_user'], 'ses:outgoing-ip': ['192.0.2.10'] }, 'ses:outgoing-ip only on Delivery');
  assert.deepEqual(bounce!.mail.tags, message.tags);
  assert.deepEqual(bounce!.detail, {
    bounceType: 'Permanent',
    bounceSubType: 'NoEmail',
    bouncedRecipients: [
      { emailAddress: 'b@example.org', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1 Please try again' },
    ],
    timestamp: new Date(at).toISOString(),
    feedbackId: bounce!.id,
    reportingMTA: 'dns; mta.relaygate.test',
    remoteMtaIp: '198.51.100.7',
  });
  assert.deepEqual(delay!.detail, {
    timestamp: new Date(at).toISOString(),
    delayType: 'MailboxFull',
    expirationTime: new Date(message.receivedAt + 120 * HOUR).toISOString(),
    delayedRecipients: [{ emailAddress: 'c@example.org', status: '4.2.2', diagnosticCode: 'smtp; 452 4.2.2 Mailbox full' }],
    reportingMTA: '198.51.100.7',
  });
  assert.deepEqual(Object.keys(delay!).sort(), ['accountId', 'at', 'configurationSet', 'detail', 'id', 'mail', 'messageId', 'type']);
});

test('several recipients bounced alike share one Bounce; no server reached: no remoteMtaIp', () => {
  const at = message.receivedAt + 1000;
  const reply = '550 5.1.2 Domain example.org does not exist (NXDOMAIN)';
  const events = resultEvents(message, [attempt('a@example.org', reply, 'connect', at, false), attempt('b@example.org', reply, 'connect', at, false)], {
    expiresAt: 0,
    remoteMtaIp: null,
    outgoingIp: null,
  });
  assert.equal(events.length, 1);
  const [bounce] = events;
  assert.equal(bounce!.type, 'Bounce');
  assert.deepEqual(bounce!.detail.bouncedRecipients.map((recipient) => recipient.emailAddress), ['a@example.org', 'b@example.org']);
  assert.equal('remoteMtaIp' in bounce!.detail, false);
});

test('a Diagnostic-Code is the reply on one line, each line break with its surrounding white space made one space', () => {
  assert.equal(diagnosticCode('550-5.1.1 The email account does not exist. \r\n550 5.1.1  Try again'), 'smtp; 550-5.1.1 The email account does not exist. 550 5.1.1  Try again');
  assert.equal(diagnosticCode('452 4.2.2 full\n\n\t more'), 'smtp; 452 4.2.2 full more');
  // A remote server's reply may be up to 1 MB: a run of spaces without a line break is kept, and decided at once
  // (the earlier pattern started with optional white space and backtracked quadratically: 120,000 spaces held the
  // primary for 15 s).
  const spaces = ' '.repeat(1_000_000);
  assert.equal(diagnosticCode(`550${spaces}x`), `smtp; 550${spaces}x`);
  assert.equal(diagnosticCode(`550${spaces}\r\n${spaces}x`), 'smtp; 550 x');
});
