import test from 'node:test';
import assert from 'node:assert/strict';
import { identityCandidates, resolveIdentities } from '../../../src/identity/identity-resolver.js';
import { nextStatus, VERIFICATION_WINDOW_MS } from '../../../src/identity/dns-verification.js';
import { normalizeIdentityName } from '../../../src/identity/identity-name.js';
import { PolicyFixture, ACCOUNT } from './policy-fixture.js';

test('candidates: the address without its +label, then the domain and its parents (not the TLD)', () => {
  assert.deepEqual(identityCandidates('Sender+news@Mail.Example.COM'), ['Sender@mail.example.com', 'mail.example.com', 'example.com']);
});

test('candidates: no domain or parent of a domain longer than 253 characters, which no identity can be', () => {
  const atLimit = `${'a'.repeat(61)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;
  assert.equal(atLimit.length, 253);
  assert.deepEqual(identityCandidates(`user@${atLimit}`), [`user@${atLimit}`, atLimit, atLimit.slice(62), atLimit.slice(126)]);
  // A sender's From may carry a folded 64 KB domain: its 32,000 parents were 32,000 strings of up to 64 KB.
  const long = `${'x.'.repeat(32_000)}example.com`;
  assert.deepEqual(identityCandidates(`user@${long}`), [`user@${long}`]);
});

test("identity names: domains lower-case punycode; an address keeps its local part's case", () => {
  assert.deepEqual(normalizeIdentityName('Example.COM'), { name: 'example.com', type: 'Domain' });
  assert.deepEqual(normalizeIdentityName('bücher.example'), { name: 'xn--bcher-kva.example', type: 'Domain' });
  assert.deepEqual(normalizeIdentityName('Sender@EXAMPLE.com'), { name: 'Sender@example.com', type: 'EmailAddress' });
  assert.throws(() => normalizeIdentityName('localhost'), /is not a valid domain name/);
  assert.throws(() => normalizeIdentityName('a b@example.com'), /is not a valid email address/);
});

test("the most specific verified identity applies (the guide's example); unverified ones are skipped", async () => {
  const fixture = await PolicyFixture.create({}, ['user@a.b.example.com', 'a.b.example.com', 'b.example.com', 'example.com']);
  await fixture.store.identities.update(ACCOUNT, 'a.b.example.com', { status: 'Pending' });
  try {
    const resolved = await resolveIdentities(fixture.store.identities, ACCOUNT, ['user@example.com', 'user@a.b.example.com', 'user@b.example.com', 'other@a.b.example.com', 'User@a.b.example.com', 'x@elsewhere.org']);
    assert.equal(resolved.get('user@example.com')?.name, 'example.com');
    assert.equal(resolved.get('user@a.b.example.com')?.name, 'user@a.b.example.com');
    assert.equal(resolved.get('user@b.example.com')?.name, 'b.example.com');
    assert.equal(resolved.get('other@a.b.example.com')?.name, 'b.example.com', 'a.b.example.com is pending, so its parent applies');
    assert.equal(resolved.get('User@a.b.example.com')?.name, 'b.example.com', 'local parts are case-sensitive');
    assert.equal(resolved.has('x@elsewhere.org'), false);
  } finally {
    await fixture.close();
  }
});

test("verification states follow SES's 72-hour rules", () => {
  const start = new Date('2026-01-01T00:00:00Z');
  const later = (ms: number) => new Date(start.getTime() + ms);
  assert.deepEqual(nextStatus('Pending', start, 'found', later(1000)), { status: 'Success', pendingSince: null });
  assert.deepEqual(nextStatus('Pending', start, 'missing', later(VERIFICATION_WINDOW_MS - 1)), { status: 'Pending', pendingSince: start });
  assert.deepEqual(nextStatus('Pending', start, 'missing', later(VERIFICATION_WINDOW_MS + 1)), { status: 'Failed', pendingSince: null });
  assert.deepEqual(nextStatus('Success', null, 'missing', start), { status: 'TemporaryFailure', pendingSince: start });
  assert.deepEqual(nextStatus('Success', null, 'unknown', start), { status: 'Success', pendingSince: null }, 'a DNS outage changes nothing');
  assert.deepEqual(nextStatus('TemporaryFailure', start, 'found', later(5000)), { status: 'Success', pendingSince: null });
  assert.deepEqual(nextStatus('TemporaryFailure', start, 'missing', later(VERIFICATION_WINDOW_MS + 1)), { status: 'Failed', pendingSince: null });
  assert.deepEqual(nextStatus('Failed', null, 'missing', start), { status: 'Failed', pendingSince: null });
  assert.deepEqual(nextStatus('Failed', null, 'found', start), { status: 'Success', pendingSince: null });
});
