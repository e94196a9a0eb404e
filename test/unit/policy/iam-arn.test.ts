import test from 'node:test';
import assert from 'node:assert/strict';
import { identityArn, parseIdentityArn, userArn } from '../../../src/policy/iam/index.js';

test('identityArn and userArn build the ARNs SES and IAM use', () => {
  assert.equal(identityArn('us-west-2', '123456789012', 'example.com'), 'arn:aws:ses:us-west-2:123456789012:identity/example.com');
  assert.equal(userArn('123456789012', 'alice'), 'arn:aws:iam::123456789012:user/alice');
});

test('parseIdentityArn reads an X-SES-SOURCE-ARN value back into its parts', () => {
  assert.deepEqual(parseIdentityArn('arn:aws:ses:us-west-2:123456789012:identity/example.com'), {
    region: 'us-west-2',
    accountId: '123456789012',
    identity: 'example.com',
  });
  assert.deepEqual(parseIdentityArn(' arn:aws:ses:eu-central-1:999999999999:identity/sender@example.com\r\n'), {
    region: 'eu-central-1',
    accountId: '999999999999',
    identity: 'sender@example.com',
  });
});

test('parseIdentityArn says what is wrong with a bad ARN', () => {
  const expected = '(expected arn:aws:ses:<region>:<account-id>:identity/<identity>)';
  const rejects = (arn: string, problem: string) =>
    assert.throws(() => parseIdentityArn(arn), { name: 'InvalidArnError', message: `"${arn}" is not an SES identity ARN: ${problem} ${expected}` });
  rejects('example.com', 'it does not have the six ARN fields');
  rejects('arn:aws:iam::123456789012:user/alice', 'service "iam" is not "ses"');
  rejects('arn:aws:ses:us-east-1:1234:identity/example.com', 'account ID "1234" is not 12 digits');
  rejects('arn:aws:ses:US East:123456789012:identity/example.com', 'region "US East" is not a region name');
  rejects('arn:aws:ses:us-east-1:123456789012:configuration-set/main', 'the resource does not start with "identity/"');
  rejects('arn:aws:ses:us-east-1:123456789012:identity/', 'the identity is empty or contains spaces');
  rejects('arn:aws-cn:ses:cn-north-1:123456789012:identity/example.com', 'partition "aws-cn" is not "aws"');
});
