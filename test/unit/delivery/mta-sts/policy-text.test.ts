import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicyText } from '../../../../src/delivery/mta-sts/index.js';

test('reads mode, max_age and the mx lines, in order, lower-cased, each once', () => {
  const text = 'version: STSv1\nmode: Enforce\nmx: MX1.example.test\nmx: *.mail.example.test\nmx: mx1.example.test\nmax_age: 604800\n';
  assert.deepEqual(parsePolicyText(text), {
    mode: 'enforce',
    mx: ['mx1.example.test', '*.mail.example.test'],
    maxAge: 604_800,
  });
});

test('ignores lines without a colon and unknown keys, and accepts CRLF', () => {
  const text = 'version: STSv1\r\n\r\nmode: testing\r\nnonsense\r\nextension: 1\r\nmx: mx.example.test\r\nmax_age: 0\r\n';
  assert.deepEqual(parsePolicyText(text), { mode: 'testing', mx: ['mx.example.test'], maxAge: 0 });
});

test('mode none needs no mx lines', () => {
  assert.deepEqual(parsePolicyText('version: STSv1\nmode: none\nmax_age: 600\n'), { mode: 'none', mx: [], maxAge: 600 });
});

test('refuses what RFC 8461 §3.2 says to ignore', () => {
  const valid = 'version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 600\n';
  const refusals: Array<[string, string]> = [
    [valid.replace('STSv1', 'STSv2'), 'MTA-STS policy: version is not STSv1'],
    [valid.replace('version: STSv1\n', ''), 'MTA-STS policy: version is not STSv1'],
    [valid.replace('enforce', 'strict'), 'MTA-STS policy: mode is not enforce, testing or none'],
    [valid.replace('600', '31557601'), 'MTA-STS policy: max_age is missing or out of range'],
    [valid.replace('600', '-1'), 'MTA-STS policy: max_age is missing or out of range'],
    [valid.replace('600', '1e3'), 'MTA-STS policy: max_age is missing or out of range'],
    [valid.replace('max_age: 600\n', ''), 'MTA-STS policy: max_age is missing or out of range'],
    [valid.replace('mx: mx.example.test\n', ''), 'MTA-STS policy: no mx lines'],
  ];
  for (const [text, message] of refusals) assert.throws(() => parsePolicyText(text), { message }, text);
});

test('a policy that repeats its mx lines keeps each once', () => {
  const names = Array.from({ length: 20_000 }, (_, i) => `mx${i % 5000}.example.test`);
  const text = `version: STSv1\nmode: enforce\nmax_age: 600\n${names.map((name) => `mx: ${name}`).join('\n')}\n`;
  const policy = parsePolicyText(text);
  assert.equal(policy.mx.length, 5000);
  assert.equal(policy.mx[4999], 'mx4999.example.test');
});
