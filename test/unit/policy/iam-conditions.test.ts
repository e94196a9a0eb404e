import test from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluatePolicies,
  parsePolicyDocument,
  SES_CONDITION_KEYS,
  type ConditionContext,
} from '../../../src/policy/iam/index.js';

const IDENTITY = 'arn:aws:ses:us-east-1:123456789012:identity/example.com';

/** Whether an Allow statement with this Condition allows a request with this context. */
function allows(condition: object, context: ConditionContext): boolean {
  return decide('Allow', condition, context) === 'Allow';
}

/** Whether a Deny statement with this Condition (next to an unconditional Allow) denies the request. */
function denies(condition: object, context: ConditionContext): boolean {
  return decide('Deny', condition, context) === 'ExplicitDeny';
}

function decide(effect: 'Allow' | 'Deny', condition: object, context: ConditionContext) {
  const statements: object[] = [{ Effect: effect, Action: 'ses:SendRawEmail', Resource: '*', Condition: condition }];
  if (effect === 'Deny') statements.push({ Effect: 'Allow', Action: 'ses:SendRawEmail', Resource: '*' });
  const policy = parsePolicyDocument({ Version: '2012-10-17', Statement: statements }, { kind: 'user' });
  return evaluatePolicies([policy], { action: 'ses:SendRawEmail', resource: IDENTITY, context });
}

test('ForAllValues:StringLike on ses:Recipients allows only when every recipient matches', () => {
  const onlyExampleCom = { 'ForAllValues:StringLike': { 'ses:Recipients': ['*@example.com'] } };
  assert.equal(allows(onlyExampleCom, { 'ses:Recipients': ['a@example.com', 'b@example.com'] }), true);
  assert.equal(allows(onlyExampleCom, { 'ses:Recipients': ['a@example.com', 'b@example.org'] }), false);
  // AWS: ForAllValues also holds when the key is missing or empty, hence Null checks alongside it.
  assert.equal(allows(onlyExampleCom, {}), true);
  assert.equal(allows(onlyExampleCom, { 'ses:Recipients': [] }), true);
  assert.equal(allows({ ...onlyExampleCom, Null: { 'ses:Recipients': 'false' } }, {}), false);
});

test('ForAllValues:StringLike with several patterns lets each recipient match any of them', () => {
  const twoDomains = { 'ForAllValues:StringLike': { 'ses:Recipients': ['*@example.com', '*@example.org'] } };
  assert.equal(allows(twoDomains, { 'ses:Recipients': ['a@example.com', 'b@example.org'] }), true);
  assert.equal(allows(twoDomains, { 'ses:Recipients': ['a@example.com', 'c@example.net'] }), false);
});

test('ForAnyValue:StringEquals holds when at least one value matches, never for a missing key', () => {
  const includesAudit = { 'ForAnyValue:StringEquals': { 'ses:Recipients': 'audit@example.com' } };
  assert.equal(allows(includesAudit, { 'ses:Recipients': ['a@example.org', 'audit@example.com'] }), true);
  assert.equal(allows(includesAudit, { 'ses:Recipients': ['a@example.org'] }), false);
  assert.equal(allows(includesAudit, {}), false);
});

test('a negated operator with a set qualifier is negated per request value', () => {
  // ForAllValues:StringNotLike: no recipient may be at example.net.
  const noneAtNet = { 'ForAllValues:StringNotLike': { 'ses:Recipients': '*@example.net' } };
  assert.equal(denies(noneAtNet, { 'ses:Recipients': ['a@example.com'] }), true);
  assert.equal(denies(noneAtNet, { 'ses:Recipients': ['a@example.com', 'b@example.net'] }), false);
  // ForAnyValue:StringNotLike: some recipient is outside example.com.
  const anyOutside = { 'ForAnyValue:StringNotLike': { 'ses:Recipients': '*@example.com' } };
  assert.equal(denies(anyOutside, { 'ses:Recipients': ['a@example.com', 'b@example.net'] }), true);
  assert.equal(denies(anyOutside, { 'ses:Recipients': ['a@example.com'] }), false);
});

test('without a set qualifier a multi-valued key matches when any value matches, and Not* is the complement', () => {
  assert.equal(allows({ StringLike: { 'ses:Recipients': '*@example.com' } }, { 'ses:Recipients': ['x@example.org', 'y@example.com'] }), true);
  assert.equal(allows({ StringNotLike: { 'ses:Recipients': '*@example.com' } }, { 'ses:Recipients': ['x@example.org', 'y@example.com'] }), false);
  assert.equal(allows({ StringNotLike: { 'ses:Recipients': '*@example.com' } }, { 'ses:Recipients': ['x@example.org'] }), true);
});

test('StringEquals on ses:FromAddress is exact and case-sensitive; keys compare case-insensitively', () => {
  const marketing = { StringEquals: { 'ses:FromAddress': 'marketing@example.com' } };
  assert.equal(allows(marketing, { 'ses:FromAddress': 'marketing@example.com' }), true);
  assert.equal(allows(marketing, { 'ses:FromAddress': 'Marketing@example.com' }), false);
  assert.equal(allows(marketing, { 'SES:fromaddress': 'marketing@example.com' }), true);
  assert.equal(allows({ StringEquals: { 'SES:FROMADDRESS': 'marketing@example.com' } }, { 'ses:FromAddress': 'marketing@example.com' }), true);
});

test('StringEqualsIgnoreCase and StringNotEqualsIgnoreCase ignore case', () => {
  assert.equal(allows({ StringEqualsIgnoreCase: { 'ses:FromDisplayName': 'marketing' } }, { 'ses:FromDisplayName': 'MARKETING' }), true);
  assert.equal(allows({ StringNotEqualsIgnoreCase: { 'ses:FromDisplayName': 'marketing' } }, { 'ses:FromDisplayName': 'Marketing' }), false);
});

test('StringLike supports * and ? anywhere; without wildcards it is an exact match', () => {
  assert.equal(allows({ StringLike: { 'ses:FromAddress': 'invoicing*@example.com' } }, { 'ses:FromAddress': 'invoicing-eu@example.com' }), true);
  assert.equal(allows({ StringLike: { 'ses:FromAddress': 'user?@example.com' } }, { 'ses:FromAddress': 'user1@example.com' }), true);
  assert.equal(allows({ StringLike: { 'ses:FromAddress': 'user?@example.com' } }, { 'ses:FromAddress': 'user10@example.com' }), false);
  assert.equal(allows({ StringLike: { 'ses:FromDisplayName': 'Marketing' } }, { 'ses:FromDisplayName': 'Marketing Team' }), false);
});

test('several values for one key OR together; negated operators NOR them', () => {
  const either = { StringEquals: { 'ses:FromAddress': ['a@example.com', 'b@example.com'] } };
  assert.equal(allows(either, { 'ses:FromAddress': 'b@example.com' }), true);
  const neither = { StringNotEquals: { 'ses:FromAddress': ['a@example.com', 'b@example.com'] } };
  assert.equal(allows(neither, { 'ses:FromAddress': 'b@example.com' }), false);
  assert.equal(allows(neither, { 'ses:FromAddress': 'c@example.com' }), true);
});

test('operators and the keys inside an operator AND together', () => {
  const condition = {
    StringLike: { 'ses:FromAddress': '*@example.com', 'ses:FeedbackAddress': '*@example.com' },
    Bool: { 'aws:SecureTransport': 'true' },
  };
  const context = { 'ses:FromAddress': 'a@example.com', 'ses:FeedbackAddress': 'bounces@example.com', 'aws:SecureTransport': true };
  assert.equal(allows(condition, context), true);
  assert.equal(allows(condition, { ...context, 'ses:FeedbackAddress': 'bounces@example.org' }), false);
  assert.equal(allows(condition, { ...context, 'aws:SecureTransport': false }), false);
});

test('a missing key fails positive operators and satisfies negated ones', () => {
  assert.equal(allows({ StringEquals: { 'ses:FromAddress': 'a@example.com' } }, {}), false);
  assert.equal(allows({ StringNotEquals: { 'ses:FromAddress': 'a@example.com' } }, {}), true);
  assert.equal(allows({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': undefined }), true);
});

test('IfExists holds for a missing key and compares a present one', () => {
  const ifExists = { StringEqualsIfExists: { 'ses:FeedbackAddress': 'bounces@example.com' } };
  assert.equal(allows(ifExists, {}), true);
  assert.equal(allows(ifExists, { 'ses:FeedbackAddress': 'bounces@example.com' }), true);
  assert.equal(allows(ifExists, { 'ses:FeedbackAddress': 'other@example.com' }), false);
});

test('Null tests whether a key is present', () => {
  assert.equal(allows({ Null: { 'ses:FeedbackAddress': 'true' } }, {}), true);
  assert.equal(allows({ Null: { 'ses:FeedbackAddress': 'true' } }, { 'ses:FeedbackAddress': 'a@example.com' }), false);
  assert.equal(allows({ Null: { 'ses:FeedbackAddress': 'false' } }, { 'ses:FeedbackAddress': 'a@example.com' }), true);
});

test('IpAddress matches IPv4 and IPv6 CIDR blocks and bare addresses', () => {
  const office = { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32', '198.51.100.7'] } };
  assert.equal(allows(office, { 'aws:SourceIp': '192.0.2.200' }), true);
  assert.equal(allows(office, { 'aws:SourceIp': '192.0.3.1' }), false);
  assert.equal(allows(office, { 'aws:SourceIp': '2001:db8:1::25' }), true);
  assert.equal(allows(office, { 'aws:SourceIp': '2001:db9::25' }), false);
  assert.equal(allows(office, { 'aws:SourceIp': '198.51.100.7' }), true);
  assert.equal(allows(office, { 'aws:SourceIp': '198.51.100.8' }), false);
  // Dual-stack sockets report IPv4 clients in their IPv4-mapped IPv6 form.
  assert.equal(allows(office, { 'aws:SourceIp': '::ffff:192.0.2.9' }), true);
  assert.equal(allows(office, { 'aws:SourceIp': 'not-an-ip' }), false);
});

test('NotIpAddress in a Deny statement blocks clients outside the listed networks', () => {
  const outsideOffice = { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', 'fd00::/8'] } };
  assert.equal(denies(outsideOffice, { 'aws:SourceIp': '203.0.113.5' }), true);
  assert.equal(denies(outsideOffice, { 'aws:SourceIp': '10.20.30.40' }), false);
  assert.equal(denies(outsideOffice, { 'aws:SourceIp': 'fd12::1' }), false);
});

test('aws:CurrentTime with DateLessThan and DateGreaterThan bounds a sending window', () => {
  const window = {
    DateGreaterThan: { 'aws:CurrentTime': '2018-08-31T12:00Z' },
    DateLessThan: { 'aws:CurrentTime': '2018-10-01T12:00Z' },
  };
  assert.equal(allows(window, { 'aws:CurrentTime': new Date('2018-09-15T00:00:00Z') }), true);
  assert.equal(allows(window, { 'aws:CurrentTime': new Date('2018-10-01T12:00:00Z') }), false);
  assert.equal(allows(window, { 'aws:CurrentTime': new Date('2018-08-31T11:59:59Z') }), false);
  assert.equal(allows(window, { 'aws:CurrentTime': '2018-09-15T00:00:00Z' }), true);
});

test('dates may be epoch seconds, and a date-time without an offset is UTC', () => {
  const beforeEpoch = { DateLessThan: { 'aws:CurrentTime': '1535716800' } }; // 2018-08-31T12:00:00Z
  assert.equal(allows(beforeEpoch, { 'aws:CurrentTime': new Date('2018-08-31T11:59:59Z') }), true);
  assert.equal(allows(beforeEpoch, { 'aws:CurrentTime': new Date('2018-08-31T12:00:00Z') }), false);
  const noOffset = { DateEquals: { 'aws:CurrentTime': '2018-08-31T12:00:00' } };
  assert.equal(allows(noOffset, { 'aws:CurrentTime': new Date('2018-08-31T12:00:00Z') }), true);
  const withOffset = { DateEquals: { 'aws:CurrentTime': '2018-08-31T14:00:00+02:00' } };
  assert.equal(allows(withOffset, { 'aws:CurrentTime': new Date('2018-08-31T12:00:00Z') }), true);
});

test('Numeric operators compare aws:EpochTime given as a number, numeric text or a Date', () => {
  const before = { NumericLessThan: { 'aws:EpochTime': '1700000000' } };
  assert.equal(allows(before, { 'aws:EpochTime': 1699999999 }), true);
  assert.equal(allows(before, { 'aws:EpochTime': '1700000000' }), false);
  assert.equal(allows(before, { 'aws:EpochTime': new Date(1699999999_000) }), true);
  assert.equal(allows({ NumericGreaterThanEquals: { 'aws:EpochTime': 1700000000 } }, { 'aws:EpochTime': 1700000000 }), true);
  assert.equal(allows({ NumericNotEquals: { 'aws:EpochTime': 5 } }, { 'aws:EpochTime': 5 }), false);
});

test('a Deny on aws:SecureTransport false refuses plaintext sessions only', () => {
  const plaintext = { Bool: { 'aws:SecureTransport': 'false' } };
  assert.equal(denies(plaintext, { 'aws:SecureTransport': false }), true);
  assert.equal(denies(plaintext, { 'aws:SecureTransport': true }), false);
  assert.equal(denies(plaintext, { 'aws:SecureTransport': 'FALSE' }), true);
  assert.equal(denies(plaintext, {}), false);
});

test('SES_CONDITION_KEYS documents the keys an SES send carries', () => {
  assert.deepEqual(Object.keys(SES_CONDITION_KEYS).sort(), [
    'aws:CurrentTime',
    'aws:EpochTime',
    'aws:SecureTransport',
    'aws:SourceIp',
    'ses:ApiVersion',
    'ses:FeedbackAddress',
    'ses:FromAddress',
    'ses:FromDisplayName',
    'ses:Recipients',
  ]);
  assert.equal(SES_CONDITION_KEYS['ses:Recipients'].multiValued, true);
  assert.equal(SES_CONDITION_KEYS['ses:FromAddress'].multiValued, false);
});
