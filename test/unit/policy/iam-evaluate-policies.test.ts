import test from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluatePolicies,
  identityArn,
  parsePolicyDocument,
  userArn,
  type AuthorizationRequest,
  type PolicyKind,
} from '../../../src/policy/iam/index.js';

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '999999999999';
const IDENTITY = identityArn('us-east-1', OTHER_ACCOUNT, 'example.com');
const ALICE = { accountId: ACCOUNT, arn: userArn(ACCOUNT, 'alice') };
const BOB = { accountId: ACCOUNT, arn: userArn(ACCOUNT, 'bob') };
const MALLORY = { accountId: '222222222222', arn: userArn('222222222222', 'mallory') };

function policy(statements: object[], kind: PolicyKind = 'user') {
  return parsePolicyDocument({ Version: '2012-10-17', Statement: statements }, { kind });
}

function request(overrides: Partial<AuthorizationRequest> = {}): AuthorizationRequest {
  return { action: 'ses:SendRawEmail', resource: IDENTITY, context: {}, ...overrides };
}

test('an explicit Deny wins over an Allow, in another policy or the same one', () => {
  const allow = policy([{ Effect: 'Allow', Action: 'ses:*', Resource: '*' }]);
  const deny = policy([{ Effect: 'Deny', Action: 'ses:SendRawEmail', Resource: IDENTITY }]);
  assert.equal(evaluatePolicies([allow], request()), 'Allow');
  assert.equal(evaluatePolicies([allow, deny], request()), 'ExplicitDeny');
  assert.equal(evaluatePolicies([deny, allow], request()), 'ExplicitDeny');
  assert.equal(evaluatePolicies([policy([...allow.Statement, ...deny.Statement])], request()), 'ExplicitDeny');
});

test('nothing applicable, or no policies at all, is an implicit deny', () => {
  assert.equal(evaluatePolicies([], request()), 'ImplicitDeny');
  const other = policy([{ Effect: 'Allow', Action: 'ses:SendEmail', Resource: '*' }]);
  assert.equal(evaluatePolicies([other], request()), 'ImplicitDeny');
});

test('a Deny whose condition does not hold does not deny', () => {
  const policies = [
    policy([
      { Effect: 'Allow', Action: 'ses:SendRawEmail', Resource: '*' },
      { Effect: 'Deny', Action: 'ses:SendRawEmail', Resource: '*', Condition: { StringEquals: { 'ses:FromAddress': 'ceo@example.com' } } },
    ]),
  ];
  assert.equal(evaluatePolicies(policies, request({ context: { 'ses:FromAddress': 'news@example.com' } })), 'Allow');
  assert.equal(evaluatePolicies(policies, request({ context: { 'ses:FromAddress': 'ceo@example.com' } })), 'ExplicitDeny');
});

test('ses:Send* matches ses:SendRawEmail but not ses:GetSendQuota', () => {
  const sendAll = [policy([{ Effect: 'Allow', Action: 'ses:Send*', Resource: '*' }])];
  assert.equal(evaluatePolicies(sendAll, request({ action: 'ses:SendRawEmail' })), 'Allow');
  assert.equal(evaluatePolicies(sendAll, request({ action: 'ses:SendEmail' })), 'Allow');
  assert.equal(evaluatePolicies(sendAll, request({ action: 'ses:GetSendQuota' })), 'ImplicitDeny');
});

test('actions match case-insensitively, with * and ? wildcards', () => {
  const upper = [policy([{ Effect: 'Allow', Action: 'SES:SENDRAWEMAIL', Resource: '*' }])];
  assert.equal(evaluatePolicies(upper, request({ action: 'ses:SendRawEmail' })), 'Allow');
  const single = [policy([{ Effect: 'Allow', Action: 'ses:Send?awEmail', Resource: '*' }])];
  assert.equal(evaluatePolicies(single, request({ action: 'ses:SendRawEmail' })), 'Allow');
  assert.equal(evaluatePolicies(single, request({ action: 'ses:SendEmail' })), 'ImplicitDeny');
  const everything = [policy([{ Effect: 'Allow', Action: '*', Resource: '*' }])];
  assert.equal(evaluatePolicies(everything, request({ action: 'ses:DeleteIdentity' })), 'Allow');
});

test('resources match with wildcards, case-sensitively', () => {
  const anyIdentityOfAccount = [policy([{ Effect: 'Allow', Action: 'ses:SendRawEmail', Resource: `arn:aws:ses:*:${OTHER_ACCOUNT}:identity/*` }])];
  assert.equal(evaluatePolicies(anyIdentityOfAccount, request()), 'Allow');
  assert.equal(evaluatePolicies(anyIdentityOfAccount, request({ resource: identityArn('eu-west-1', ACCOUNT, 'example.com') })), 'ImplicitDeny');
  const exact = [policy([{ Effect: 'Allow', Action: 'ses:SendRawEmail', Resource: IDENTITY }])];
  assert.equal(evaluatePolicies(exact, request({ resource: identityArn('us-east-1', OTHER_ACCOUNT, 'Example.com') })), 'ImplicitDeny');
});

test('NotAction and NotResource cover everything except what they list', () => {
  const denyAllButRaw = policy([
    { Effect: 'Allow', Action: 'ses:*', Resource: '*' },
    { Effect: 'Deny', NotAction: 'ses:SendRawEmail', Resource: '*' },
  ]);
  assert.equal(evaluatePolicies([denyAllButRaw], request({ action: 'ses:SendRawEmail' })), 'Allow');
  assert.equal(evaluatePolicies([denyAllButRaw], request({ action: 'ses:SendEmail' })), 'ExplicitDeny');
  const allowAllButOne = [policy([{ Effect: 'Allow', Action: 'ses:SendRawEmail', NotResource: IDENTITY }])];
  assert.equal(evaluatePolicies(allowAllButOne, request()), 'ImplicitDeny');
  assert.equal(evaluatePolicies(allowAllButOne, request({ resource: identityArn('us-east-1', OTHER_ACCOUNT, 'other.com') })), 'Allow');
});

function identityPolicy(principal: unknown, key: 'Principal' | 'NotPrincipal' = 'Principal') {
  return policy([{ Effect: 'Allow', [key]: principal, Action: 'ses:SendRawEmail', Resource: IDENTITY }], 'identity');
}

test('an account ID principal matches every user of that account and no one else', () => {
  const byAccount = [identityPolicy({ AWS: [ACCOUNT] })];
  assert.equal(evaluatePolicies(byAccount, request({ principal: ALICE })), 'Allow');
  assert.equal(evaluatePolicies(byAccount, request({ principal: BOB })), 'Allow');
  assert.equal(evaluatePolicies(byAccount, request({ principal: MALLORY })), 'ImplicitDeny');
  assert.equal(evaluatePolicies(byAccount, request()), 'ImplicitDeny');
});

test('an account root ARN principal matches every user of that account', () => {
  const byRoot = [identityPolicy({ AWS: `arn:aws:iam::${ACCOUNT}:root` })];
  assert.equal(evaluatePolicies(byRoot, request({ principal: BOB })), 'Allow');
  assert.equal(evaluatePolicies(byRoot, request({ principal: MALLORY })), 'ImplicitDeny');
});

test('a user ARN principal matches only that user', () => {
  const byUser = [identityPolicy({ AWS: ALICE.arn })];
  assert.equal(evaluatePolicies(byUser, request({ principal: ALICE })), 'Allow');
  assert.equal(evaluatePolicies(byUser, request({ principal: BOB })), 'ImplicitDeny');
});

test('"*" principals match anyone, even an unauthenticated request; service principals match no sender', () => {
  for (const everyone of ['*', { AWS: '*' }]) {
    assert.equal(evaluatePolicies([identityPolicy(everyone)], request({ principal: MALLORY })), 'Allow');
    assert.equal(evaluatePolicies([identityPolicy(everyone)], request()), 'Allow');
  }
  assert.equal(evaluatePolicies([identityPolicy({ Service: 'cognito-idp.amazonaws.com' })], request({ principal: ALICE })), 'ImplicitDeny');
});

test('NotPrincipal applies to everyone except the listed principals', () => {
  const allButAlice = [identityPolicy({ AWS: ALICE.arn }, 'NotPrincipal')];
  assert.equal(evaluatePolicies(allButAlice, request({ principal: ALICE })), 'ImplicitDeny');
  assert.equal(evaluatePolicies(allButAlice, request({ principal: BOB })), 'Allow');
});
