import test from 'node:test';
import assert from 'node:assert/strict';
import { defaultBounceRules } from '../../../src/delivery/bounce/index.js';
import { deliveryResult, type AttemptContext } from '../../../src/delivery/delivery-result.js';
import type { ClaimedDelivery } from '../../../src/queue/delivery-records.js';

const HOUR = 3_600_000;
const delivery: ClaimedDelivery = { id: 7, messageId: 'm1', recipient: 'a@example.org', domain: 'example.org', attempts: 2, sourceIp: '192.0.2.10' };
const context = (at: number): AttemptContext => ({
  at,
  receivedAt: 0,
  remoteMta: '198.51.100.7',
  mxHost: 'mx.example.org',
  sourceIp: '',
  outgoingIp: '192.0.2.10',
  reportingMta: 'mta1.example.net',
  policy: { firstDelayMs: 60_000, maxDelayMs: HOUR, lifetimeMs: 120 * HOUR },
  rules: defaultBounceRules(),
  random: () => 0.5,
});

test('2xx: delivered, with where it went', () => {
  const { result } = deliveryResult(delivery, '250 2.0.0 Ok: queued as 4F2', 'data', context(HOUR));
  assert.deepEqual(result, {
    deliveryId: 7,
    messageId: 'm1',
    state: 'delivered',
    at: HOUR,
    nextAttemptAt: null,
    response: '250 2.0.0 Ok: queued as 4F2',
    remoteMta: '198.51.100.7',
    mxHost: 'mx.example.org',
    sourceIp: '',
    outgoingIp: '192.0.2.10',
    reportingMta: 'mta1.example.net',
    bounceType: null,
    bounceSubType: null,
    category: 'delivered',
  });
});

test('4xx: deferred by the backoff of its third failure, carrying the bounce type it would end with', () => {
  const { result } = deliveryResult(delivery, '452 4.2.2 Mailbox full', 'rcpt', context(HOUR));
  assert.deepEqual([result.state, result.nextAttemptAt, result.bounceType, result.bounceSubType], ['queued', HOUR + 4 * 60_000, 'Transient', 'MailboxFull']);
});

test('4xx after the queue lifetime: bounced as Transient', () => {
  const { result } = deliveryResult(delivery, '452 4.2.2 Mailbox full', 'rcpt', context(120 * HOUR));
  assert.deepEqual([result.state, result.nextAttemptAt, result.bounceType, result.bounceSubType], ['bounced', null, 'Transient', 'MailboxFull']);
});

test('5xx: bounced at once', () => {
  const { result, classification } = deliveryResult(delivery, '550 5.1.1 <a@example.org>: user unknown', 'rcpt', context(HOUR));
  assert.deepEqual([result.state, result.bounceType, result.bounceSubType, classification.rule], ['bounced', 'Permanent', 'NoEmail', 'unknown-recipient-code']);
});
