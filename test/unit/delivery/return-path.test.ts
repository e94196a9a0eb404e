import test from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { formatReturnPath, parseReturnPath, returnPathMatches } from '../../../src/delivery/return-path.js';

const key = randomBytes(32);
const messageId = '010001a2089b5d33-6fa2c3e4-58c0-4f38-9a0d-3a2b1c9e8f7d-000000';

test('b-<node>-<delivery id>-<tag>@<domain>: parsed back to the node and delivery, and the tag ties it to both and its message', () => {
  const address = formatReturnPath('eu1', 4711, messageId, 'bounces.example.net', key);
  assert.match(address, /^b-eu1-3mv-[0-9a-z]{13}@bounces\.example\.net$/);
  const parsed = parseReturnPath(address);
  assert.deepEqual(parsed && { node: parsed.node, deliveryId: parsed.deliveryId, domain: parsed.domain }, { node: 'eu1', deliveryId: 4711, domain: 'bounces.example.net' });
  assert.equal(returnPathMatches(parsed!, messageId, key), true);
  assert.equal(returnPathMatches(parsed!, messageId.replace('0100', '0101'), key), false, 'another message (a reused row id)');
  assert.equal(returnPathMatches(parsed!, messageId, randomBytes(32)), false, 'another key (a forged bounce)');
  const otherNode = parseReturnPath(address.replace('b-eu1-', 'b-eu2-'))!;
  assert.equal(otherNode.node, 'eu2');
  assert.equal(returnPathMatches(otherNode, messageId, key), false, 'the tag covers the node: the same delivery id at another node is another address');
});

test('the form without a node (mail sent before return paths named their node) still parses and verifies', () => {
  const digest = createHmac('sha256', key).update(`4711:${messageId}`).digest();
  const old = `b-3mv-${digest.readBigUInt64BE(0).toString(36).padStart(13, '0')}@bounces.example.net`;
  const parsed = parseReturnPath(old);
  assert.deepEqual(parsed && { node: parsed.node, deliveryId: parsed.deliveryId }, { node: null, deliveryId: 4711 });
  assert.equal(returnPathMatches(parsed!, messageId, key), true);
  assert.equal(returnPathMatches({ ...parsed!, node: 'eu1' }, messageId, key), false, 'an old tag does not pass for a new address');
});

test('survives MTAs that change the case of the address; the local part stays within 64 characters', () => {
  const address = formatReturnPath('abcdefgh', Number.MAX_SAFE_INTEGER, messageId, 'Bounces.Example.NET', key);
  assert.ok(address.indexOf('@') <= 64, address);
  const parsed = parseReturnPath(address.toUpperCase());
  assert.equal(parsed?.node, 'abcdefgh');
  assert.equal(parsed?.deliveryId, Number.MAX_SAFE_INTEGER);
  assert.equal(returnPathMatches(parsed!, messageId, key), true);
});

test('addresses that are not return paths', () => {
  for (const address of ['sender@example.com', 'b-1-short@example.net', 'b-1-0123456789abc', 'x-1-0123456789abc@example.net', 'b-1-0123456789ab_@example.net', 'b-abcdefghi-1-0123456789abc@example.net', 'b-n-1-2-0123456789abc@example.net', 'b--1-0123456789abc@example.net']) {
    assert.equal(parseReturnPath(address), null, address);
  }
});
