import test from 'node:test';
import assert from 'node:assert/strict';
import { eventIdFor, feedbackIdFor, generateMessageId, MESSAGE_ID_PATTERN, nodeGroup, nodeOfId } from '../../../src/message/message-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test('a node id is packed into the last group of the UUID part, six bits a character, and read back', () => {
  assert.equal(nodeGroup('0'), '040000000000');
  assert.equal(nodeGroup('a'), '2c0000000000');
  assert.equal(nodeGroup('zzzzzzzz'), '924924924924');
  for (const node of ['0', 'a', 'z9', 'eu1', 'node0042', 'zzzzzzzz', '00000000']) {
    const id = generateMessageId(node, 1_700_000_000_000);
    assert.match(id, MESSAGE_ID_PATTERN);
    assert.equal(id.slice(41, 53), nodeGroup(node));
    assert.equal(nodeOfId(id), node, id);
  }
  for (const bad of ['', 'ABC', 'a-b', 'abcdefghi', 'é']) assert.throws(() => nodeGroup(bad), /not a node id/, bad);
});

test('message ids keep SES\'s shape: time first, a version 4 UUID, -000000', () => {
  const id = generateMessageId('eu1', 0x18b2c3d4e5f);
  assert.match(id, /^0100018b2c3d4e5f-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-000000$/);
  assert.notEqual(generateMessageId('eu1', 0x18b2c3d4e5f), id, 'the rest of the UUID is random');
});

test('event ids and feedback ids about a message name the message\'s node', () => {
  const messageId = generateMessageId('eu2');
  const eventId = eventIdFor(messageId);
  assert.match(eventId, UUID);
  assert.equal(nodeOfId(eventId), 'eu2');
  const feedbackId = feedbackIdFor(messageId, 1_700_000_000_000);
  assert.match(feedbackId, MESSAGE_ID_PATTERN);
  assert.equal(feedbackId.slice(0, 16), '0100018bcfe56800');
  assert.equal(nodeOfId(feedbackId), 'eu2');
  assert.equal(nodeOfId(eventIdFor('not-a-message-id')), null, 'an id of another form names no node');
});

test('groups that hold no node id', () => {
  for (const group of ['000000000000', 'ffffffffffff', '001000000000', '2c0040000000']) assert.equal(nodeOfId(`6fa2c3e4-58c0-4f38-9a0d-${group}`), null, group);
  assert.equal(nodeOfId('m-1'), null);
});
