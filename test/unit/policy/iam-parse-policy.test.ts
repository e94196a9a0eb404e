import test from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_USER_POLICY,
  evaluatePolicies,
  formatPolicyDocument,
  parsePolicyDocument,
  type PolicyKind,
} from '../../../src/policy/iam/index.js';

const IDENTITY = 'arn:aws:ses:us-east-1:123456789012:identity/example.com';
const SEND: object = { Effect: 'Allow', Action: 'ses:SendRawEmail', Resource: '*' };

function rejects(policy: unknown, message: string, kind: PolicyKind = 'user'): void {
  assert.throws(() => parsePolicyDocument(policy, { kind }), { name: 'PolicyValidationError', message });
}

test('normalises the guide sending-authorization example: scalars become lists', () => {
  const policy = parsePolicyDocument(
    {
      Id: 'ExampleAuthorizationPolicy',
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AuthorizeAccount',
          Effect: 'Allow',
          Resource: IDENTITY,
          Principal: { AWS: '123456789012' },
          Action: ['ses:SendEmail', 'ses:SendRawEmail'],
          Condition: { StringLike: { 'ses:FromAddress': 'invoicing*@example.com' } },
        },
      ],
    },
    { kind: 'identity' },
  );
  assert.deepEqual(policy, {
    Version: '2012-10-17',
    Id: 'ExampleAuthorizationPolicy',
    Statement: [
      {
        Sid: 'AuthorizeAccount',
        Effect: 'Allow',
        Principal: { AWS: ['123456789012'] },
        Action: ['ses:SendEmail', 'ses:SendRawEmail'],
        Resource: [IDENTITY],
        Condition: { StringLike: { 'ses:FromAddress': ['invoicing*@example.com'] } },
      },
    ],
  });
});

test('accepts JSON text, a lone statement object, no Version and the 2008-10-17 version', () => {
  const fromText = parsePolicyDocument(JSON.stringify({ Statement: SEND }), { kind: 'user' });
  assert.deepEqual(fromText, { Statement: [{ Effect: 'Allow', Action: ['ses:SendRawEmail'], Resource: ['*'] }] });
  assert.equal(parsePolicyDocument({ Version: '2008-10-17', Statement: [SEND] }, { kind: 'user' }).Version, '2008-10-17');
});

test('keeps numeric and boolean condition values as text, as IAM does', () => {
  const policy = parsePolicyDocument(
    { Statement: { ...SEND, Condition: { Bool: { 'aws:SecureTransport': true }, NumericLessThan: { 'aws:EpochTime': [1700000000] } } } },
    { kind: 'user' },
  );
  assert.deepEqual(policy.Statement[0]!.Condition, {
    Bool: { 'aws:SecureTransport': ['true'] },
    NumericLessThan: { 'aws:EpochTime': ['1700000000'] },
  });
});

test('formatPolicyDocument prints indented JSON that parses back to the same document', () => {
  const policy = parsePolicyDocument(
    { Version: '2012-10-17', Statement: [{ ...SEND, Condition: { 'ForAllValues:StringLike': { 'ses:Recipients': '*@example.com' } } }] },
    { kind: 'user' },
  );
  const text = formatPolicyDocument(policy);
  assert.match(text, /^\{\n {2}"Version": "2012-10-17",\n {2}"Statement": \[/);
  assert.deepEqual(parsePolicyDocument(text, { kind: 'user' }), policy);
});

test('DEFAULT_USER_POLICY is the guide policy: allow ses:SendRawEmail on every resource', () => {
  assert.deepEqual(DEFAULT_USER_POLICY, {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['ses:SendRawEmail'], Resource: ['*'] }],
  });
  const request = { resource: IDENTITY, context: {} };
  assert.equal(evaluatePolicies([DEFAULT_USER_POLICY], { ...request, action: 'ses:SendRawEmail' }), 'Allow');
  assert.equal(evaluatePolicies([DEFAULT_USER_POLICY], { ...request, action: 'ses:SendEmail' }), 'ImplicitDeny');
});

test('rejects an Effect other than Allow or Deny, naming the statement', () => {
  rejects({ Statement: [SEND, { Effect: 'allow', Action: 'ses:*', Resource: '*' }] }, 'Statement[1].Effect must be "Allow" or "Deny"');
});

test('rejects an unknown condition operator', () => {
  rejects({ Statement: { ...SEND, Condition: { StringEqualz: { 'ses:FromAddress': 'a@example.com' } } } }, 'Statement[0].Condition: unknown operator "StringEqualz"');
});

test('rejects a set qualifier or IfExists on Null, which tests presence by itself', () => {
  rejects({ Statement: { ...SEND, Condition: { NullIfExists: { 'ses:FromAddress': 'true' } } } }, 'Statement[0].Condition: unknown operator "NullIfExists"');
  rejects({ Statement: { ...SEND, Condition: { 'ForAllValues:Null': { 'ses:Recipients': 'true' } } } }, 'Statement[0].Condition: unknown operator "ForAllValues:Null"');
});

test('accepts set qualifiers together with IfExists', () => {
  const condition = { 'ForAnyValue:StringLikeIfExists': { 'ses:Recipients': '*@example.com' } };
  assert.doesNotThrow(() => parsePolicyDocument({ Statement: { ...SEND, Condition: condition } }, { kind: 'user' }));
});

test('rejects mutually exclusive elements set together', () => {
  rejects({ Statement: { ...SEND, NotAction: 'ses:SendEmail' } }, 'Statement[0]: Action and NotAction cannot both be set');
  rejects({ Statement: { ...SEND, NotResource: IDENTITY } }, 'Statement[0]: Resource and NotResource cannot both be set');
  rejects(
    { Statement: { ...SEND, Principal: '*', NotPrincipal: { AWS: '123456789012' } } },
    'Statement[0]: Principal and NotPrincipal cannot both be set',
    'identity',
  );
});

test('rejects statements without an action or a resource', () => {
  rejects({ Statement: { Effect: 'Allow', Resource: '*' } }, 'Statement[0]: Action or NotAction is required');
  rejects({ Statement: { Effect: 'Allow', Action: 'ses:SendRawEmail' } }, 'Statement[0]: Resource or NotResource is required');
});

test('requires a principal in identity policies and forbids one in user policies', () => {
  rejects({ Statement: { ...SEND, Resource: IDENTITY } }, 'Statement[0]: identity policies need a Principal', 'identity');
  rejects({ Statement: { ...SEND, Principal: '*' } }, 'Statement[0]: user policies cannot have a Principal');
  rejects({ Statement: { ...SEND, NotPrincipal: { AWS: '123456789012' } } }, 'Statement[0]: user policies cannot have a NotPrincipal');
});

test('rejects principals AWS would not accept', () => {
  const withPrincipal = (principal: unknown) => ({ Statement: { ...SEND, Principal: principal } });
  rejects(withPrincipal({ Federated: 'cognito-identity.amazonaws.com' }), 'Statement[0].Principal: unknown principal type "Federated" (expected "AWS" or "Service")', 'identity');
  rejects(withPrincipal({ AWS: 'arn:aws:iam::123456789012:user/*' }), 'Statement[0].Principal.AWS "arn:aws:iam::123456789012:user/*" is not "*", a 12-digit account ID, or an IAM root, user or role ARN', 'identity');
  rejects(withPrincipal({ AWS: ['12345'] }), 'Statement[0].Principal.AWS "12345" is not "*", a 12-digit account ID, or an IAM root, user or role ARN', 'identity');
  rejects(withPrincipal('arn:aws:iam::123456789012:root'), 'Statement[0].Principal must be "*" or an object such as {"AWS": "123456789012"}', 'identity');
});

test('rejects unknown keys at the top level and in statements', () => {
  rejects({ Statement: SEND, Statements: [] }, 'Policy: unknown key "Statements"');
  rejects({ Statement: { ...SEND, Actions: 'ses:SendEmail' } }, 'Statement[0]: unknown key "Actions"');
});

test('rejects malformed documents', () => {
  rejects('{"Statement": ', 'Policy is not valid JSON: ' + jsonErrorOf('{"Statement": '));
  rejects([SEND], 'Policy must be a JSON object');
  rejects({ Statement: [] }, 'Statement must be an object or a non-empty array of objects');
  rejects({ Statement: [SEND, 'x'] }, 'Statement[1] must be an object');
  rejects({ Version: '2020-01-01', Statement: SEND }, 'Version must be "2012-10-17" or "2008-10-17"');
  rejects({ Statement: [{ ...SEND, Sid: 'Send' }, { ...SEND, Sid: 'Send' }] }, 'Statement[1].Sid "Send" is already used by Statement[0]');
});

test('rejects malformed actions and resources', () => {
  rejects({ Statement: { ...SEND, Action: 'SendRawEmail' } }, 'Statement[0].Action "SendRawEmail" is not "*" or a "service:action" name');
  rejects({ Statement: { ...SEND, Action: [] } }, 'Statement[0].Action must be a non-empty string or a non-empty array of them');
  rejects({ Statement: { ...SEND, Resource: 'example.com' } }, 'Statement[0].Resource "example.com" is not "*" or an ARN');
});

test('rejects condition values the operator cannot compare', () => {
  const withCondition = (condition: unknown) => ({ Statement: { ...SEND, Condition: condition } });
  rejects(withCondition({ IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } }), 'Statement[0].Condition.IpAddress["aws:SourceIp"]: "10.0.0.0/33" is not an IP address or CIDR block');
  rejects(withCondition({ NumericLessThan: { 'aws:EpochTime': 'soon' } }), 'Statement[0].Condition.NumericLessThan["aws:EpochTime"]: "soon" is not a number');
  rejects(withCondition({ DateLessThan: { 'aws:CurrentTime': '2019-02-30' } }), 'Statement[0].Condition.DateLessThan["aws:CurrentTime"]: "2019-02-30" is not an ISO 8601 date-time or epoch seconds');
  rejects(withCondition({ Bool: { 'aws:SecureTransport': 'yes' } }), 'Statement[0].Condition.Bool["aws:SecureTransport"]: "yes" is not "true" or "false"');
  rejects(withCondition({ StringEquals: { 'ses:FromAddress': [] } }), 'Statement[0].Condition.StringEquals["ses:FromAddress"] must be a string, number or boolean, or a non-empty array of them');
  rejects(withCondition({ StringEquals: {} }), 'Statement[0].Condition.StringEquals must map condition keys to values');
});

test('attachedTo requires every Resource to be the identity the policy belongs to', () => {
  const policy = { Statement: { ...SEND, Principal: { AWS: '123456789012' }, Resource: '*' } };
  assert.throws(() => parsePolicyDocument(policy, { kind: 'identity', attachedTo: IDENTITY }), {
    name: 'PolicyValidationError',
    message: `Statement[0].Resource must be the ARN of the identity the policy is attached to (${IDENTITY})`,
  });
  assert.doesNotThrow(() => parsePolicyDocument({ Statement: { ...policy.Statement, Resource: IDENTITY } }, { kind: 'identity', attachedTo: IDENTITY }));
});

function jsonErrorOf(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected invalid JSON');
}
