import test from 'node:test';
import assert from 'node:assert/strict';
import type { DeliveryResult } from '../../../src/queue/delivery-records.js';
import type { QueuedMessage } from '../../../src/queue/queued-message.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { tempDir } from '../../support/gateway-process.js';
import { queuedMessage } from './queued-message-fixture.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');

/** A message with its body in a spool file, received at `receivedAt`. */
function message(id: string, receivedAt: number, recipients: string[]): QueuedMessage {
  return { ...queuedMessage(id, recipients), body: null, bodyFile: `hour/${id}`, size: 100, receivedAt: new Date(receivedAt) };
}

function result(deliveryId: number, messageId: string, state: DeliveryResult['state'], at: number, nextAttemptAt: number | null = null): DeliveryResult {
  return { deliveryId, messageId, state, at, nextAttemptAt, response: state === 'delivered' ? '250 OK' : '451 later', remoteMta: '192.0.2.1', mxHost: 'mx.example.org', sourceIp: '', outgoingIp: '192.0.2.10', reportingMta: 'relaygate.test', bounceType: null, bounceSubType: null, category: null };
}

const empty = { results: [], releases: [], signatures: [], volumes: [], events: [] };

test('claims take the oldest due deliveries first, with their messages, and lease them', async () => {
  const queue = SqliteQueueStore.open(tempDir());
  await queue.insert([message('m1', T0, ['a@one.test', 'b@two.test']), message('m2', T0 + 1000, ['c@one.test'])]);
  assert.equal(queue.leases.nextDueAt(), T0);
  const first = queue.leases.claim(T0 + 500, 10, 60_000);
  assert.deepEqual(first.deliveries.map((delivery) => [delivery.messageId, delivery.recipient, delivery.domain, delivery.attempts]), [
    ['m1', 'a@one.test', 'one.test', 0],
    ['m1', 'b@two.test', 'two.test', 0],
  ], 'm2 is not due yet');
  assert.deepEqual([...first.messages.keys()], ['m1']);
  assert.equal(first.messages.get('m1')!.dkimSignature, null);
  assert.equal(queue.leases.nextDueAt(), T0 + 1000, 'leased deliveries are not waiting');
  assert.equal(queue.leases.claim(T0 + 5000, 10, 60_000).deliveries.length, 1);
  assert.equal(queue.leases.claim(T0 + 5000, 10, 60_000).deliveries.length, 0);
  assert.equal(queue.leases.nextDueAt(), null);
});

test('claims can leave out domains whose destination is saturated; so does the next due time', async () => {
  const queue = SqliteQueueStore.open(tempDir());
  await queue.insert([message('m1', T0, ['a@busy.test', 'b@busy.test', 'c@calm.test']), message('m2', T0 + 1000, ['d@busy.test'])]);
  assert.equal(queue.leases.nextDueAt(['busy.test']), T0);
  const claimed = queue.leases.claim(T0 + 5000, 10, 60_000, ['busy.test']);
  assert.deepEqual(claimed.deliveries.map((delivery) => delivery.recipient), ['c@calm.test']);
  assert.equal(queue.leases.nextDueAt(['busy.test']), null, 'only the excluded domain waits');
  assert.equal(queue.leases.nextDueAt(), T0);
  assert.deepEqual(queue.leases.claim(T0 + 5000, 10, 60_000).deliveries.map((delivery) => delivery.recipient), ['a@busy.test', 'b@busy.test', 'd@busy.test']);
});

test('results: deferred ones wait for their next attempt, final ones complete the message once, and the stored signature is kept', async () => {
  const queue = SqliteQueueStore.open(tempDir());
  await queue.insert([message('m1', T0, ['a@one.test', 'b@one.test'])]);
  const [a, b] = queue.leases.claim(T0, 10, 60_000).deliveries;
  const signature = Buffer.from('DKIM-Signature: v=1\r\n');
  const firstWrite = await queue.leases.record({ ...empty, results: [result(a!.id, 'm1', 'delivered', T0 + 10), result(b!.id, 'm1', 'queued', T0 + 10, T0 + 60_000)], signatures: [{ messageId: 'm1', signature }] }, T0 + 10);
  assert.deepEqual(firstWrite, [], 'one recipient still to go');
  assert.deepEqual(queue.list({ pendingOnly: true }).map((summary) => summary.states), [{ delivered: 1, deferred: 1 }]);
  assert.equal(queue.leases.nextDueAt(), T0 + 60_000);
  const retried = queue.leases.claim(T0 + 60_000, 10, 60_000);
  assert.deepEqual(retried.deliveries.map((delivery) => [delivery.recipient, delivery.attempts, delivery.sourceIp]), [['b@one.test', 1, '']]);
  assert.deepEqual(retried.messages.get('m1')!.dkimSignature, signature);
  // No session this time (no MX reached): the address of the last session is kept.
  const noSession = { ...result(b!.id, 'm1', 'bounced', T0 + 60_010), remoteMta: null, outgoingIp: null };
  const completed = await queue.leases.record({ ...empty, results: [noSession], signatures: [{ messageId: 'm1', signature: Buffer.from('other') }] }, T0 + 60_010);
  assert.deepEqual(completed, [{ id: 'm1', bodyFile: 'hour/m1' }]);
  assert.equal(queue.bodyFileNames().size, 0, 'a complete message has no body file to keep');
  const details = queue.details('m1')!;
  assert.equal(details.completedAt?.getTime(), T0 + 60_010);
  assert.deepEqual(details.deliveries.map((delivery) => [delivery.state, delivery.attempts, delivery.firstAttemptAt?.getTime(), delivery.finishedAt?.getTime(), delivery.outgoingIp]), [
    ['delivered', 1, T0 + 10, T0 + 10, '192.0.2.10'],
    ['bounced', 2, T0 + 10, T0 + 60_010, '192.0.2.10'],
  ]);
  assert.deepEqual(queue.leases.claim(T0 + 60_000, 10, 60_000).messages.size, 0);
  assert.deepEqual(await queue.leases.record({ ...empty, results: [result(b!.id, 'm1', 'bounced', T0 + 70_000)] }, T0 + 70_000), [], 'completed only once');
});

test('deliveries inserted with a lease belong to its owner: no claim takes them, their results apply, and a process that starts queues them again', async () => {
  const dataDir = tempDir();
  const queue = SqliteQueueStore.open(dataDir);
  assert.deepEqual(await queue.insert([message('m0', T0, ['z@one.test'])]), [], 'without a lease, nothing is leased');
  const leased = await queue.insert([message('m1', T0, ['a@one.test', 'b@two.test'])], [], { owner: queue.leases.owner, until: T0 + 60_000 });
  assert.deepEqual(leased.map((delivery) => [delivery.messageId, delivery.recipient, delivery.domain, delivery.attempts, delivery.sourceIp]), [
    ['m1', 'a@one.test', 'one.test', 0, null],
    ['m1', 'b@two.test', 'two.test', 0, null],
  ]);
  assert.deepEqual(queue.details('m1')!.deliveries.map((delivery) => [delivery.recipient, delivery.state]), [
    ['a@one.test', 'leased'],
    ['b@two.test', 'leased'],
  ]);
  assert.deepEqual(queue.leases.claim(T0 + 5000, 10, 60_000).deliveries.map((delivery) => delivery.recipient), ['z@one.test'], 'only the queued one is claimed');
  await queue.leases.record({ ...empty, results: [result(leased[0]!.id, 'm1', 'delivered', T0 + 100)] }, T0 + 100);
  assert.deepEqual(queue.details('m1')!.deliveries.map((delivery) => delivery.state), ['delivered', 'leased']);

  const next = SqliteQueueStore.open(dataDir);
  assert.equal(next.leases.recoverLeases(T0 + 1000), 2, "b@two.test, and z@one.test claimed by the process that is gone");
  assert.deepEqual(next.leases.claim(T0 + 1000, 10, 60_000).deliveries.map((delivery) => delivery.recipient).sort(), ['b@two.test', 'z@one.test']);
});

test('releases hand a delivery back untried; a process that starts recovers every lease of one that died, and the late result of the dead one no longer applies', async () => {
  const dataDir = tempDir();
  const dead = SqliteQueueStore.open(dataDir);
  await dead.insert([message('m1', T0, ['a@one.test', 'b@one.test'])]);
  const [a, b] = dead.leases.claim(T0, 10, 60_000).deliveries;
  await dead.leases.record({ ...empty, releases: [{ deliveryId: a!.id, nextAttemptAt: T0 + 30_000 }] }, T0);
  assert.deepEqual(dead.details('m1')!.deliveries.map((delivery) => [delivery.state, delivery.attempts, delivery.nextAttemptAt?.getTime()]), [
    ['queued', 0, T0 + 30_000],
    ['leased', 0, undefined],
  ]);

  const next = SqliteQueueStore.open(dataDir);
  assert.equal(next.leases.recoverLeases(T0 + 1000), 1);
  await dead.leases.record({ ...empty, results: [result(b!.id, 'm1', 'delivered', T0 + 2000)] }, T0 + 2000);
  assert.deepEqual(next.details('m1')!.deliveries.map((delivery) => [delivery.state, delivery.attempts]), [
    ['queued', 0],
    ['queued', 0],
  ]);
  assert.deepEqual(next.leases.claim(T0 + 1000, 10, 60_000).deliveries.map((delivery) => delivery.recipient), ['b@one.test']);
});

test('operator actions apply to queued and held deliveries only, by message, domain or account', async () => {
  const queue = SqliteQueueStore.open(tempDir());
  await queue.insert([message('m1', T0, ['a@one.test', 'b@two.test']), message('m2', T0, ['c@one.test'])]);
  const [leased] = queue.leases.claim(T0, 1, 60_000).deliveries;
  assert.equal(leased!.recipient, 'a@one.test');
  assert.equal(queue.operations.hold({ domain: 'one.test' }), 1, 'the leased one is in flight and left alone');
  assert.equal(queue.operations.retry({ accountId: '111122223333' }, T0 + 5), 1, 'b@two.test');
  assert.equal(queue.operations.release({ messageId: 'm2' }, T0 + 7), 1);
  assert.deepEqual(queue.operations.delete({ messageId: 'm2' }, T0 + 9), { deliveries: 1, completed: [{ id: 'm2', bodyFile: 'hour/m2' }] });
  assert.deepEqual(queue.details('m2')!.deliveries.map((delivery) => [delivery.state, delivery.response]), [['deleted', 'Deleted by the operator']]);
  assert.throws(() => queue.operations.hold({}), /needs a message id, a domain or an account/);
});
