import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { formatReturnPath, parseReturnPath, returnPathMatches } from '../../../src/delivery/return-path.js';

const key = randomBytes(32);
const messageId = '010001a2089b5d33-6fa2c3e4-58c0-4f38-9a0d-3a2b1c9e8f7d-000000';

test('b-<delivery id>-<tag>@<domain>: parsed back to the delivery, and the tag ties it to its message', () => {
  const address = formatReturnPath(4711, messageId, 'bounces.example.net', key);
  assert.match(address, /^b-3mv-[0-9a-z]{13}@bounces\.example\.net$/);
  const parsed = parseReturnPath(address);
  assert.deepEqual(parsed && { deliveryId: parsed.deliveryId, domain: parsed.domain }, { deliveryId: 4711, domain: 'bounces.example.net' });
  assert.equal(returnPathMatches(parsed!, messageId, key), true);
  assert.equal(returnPathMatches(parsed!, messageId.replace('0100', '0101'), key), false, 'another message (a reused row id)');
  assert.equal(returnPathMatches(parsed!, messageId, randomBytes(32)), false, 'another key (a forged bounce)');
});

test('survives MTAs that change the case of the address; the local part stays within 64 characters', () => {
  const address = formatReturnPath(Number.MAX_SAFE_INTEGER, messageId, 'Bounces.Example.NET', key);
  assert.ok(address.indexOf('@') <= 64);
  const parsed = parseReturnPath(address.toUpperCase());
  assert.equal(parsed?.deliveryId, Number.MAX_SAFE_INTEGER);
  assert.equal(returnPathMatches(parsed!, messageId, key), true);
});

test('addresses that are not return paths', () => {
  for (const address of ['sender@example.com', 'b-1-short@example.net', 'b-1-0123456789abc', 'x-1-0123456789abc@example.net', 'b-1-0123456789ab_@example.net']) {
    assert.equal(parseReturnPath(address), null, address);
  }
});
