import test from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { ClaimedBatch, DeliveryLease } from '../../../src/queue/delivery-records.js';
import { MessageAcceptor, type DeliveryHandoff } from '../../../src/queue/message-acceptor.js';
import type { QueuedMessage } from '../../../src/queue/queued-message.js';
import { Spool } from '../../../src/queue/spool.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { tempDir } from '../../support/gateway-process.js';
import { queuedMessage } from './queued-message-fixture.js';

/** With a signature made at acceptance and a tag, to show they are handed over too. */
const message = (id: string, recipients: string[]): QueuedMessage => ({
  ...queuedMessage(id, recipients),
  metadata: { sourceIp: '127.0.0.1', tls: true, heloName: 'client', ses: {}, configurationSet: null, tags: { team: ['mail'] } },
  dkimSignature: Buffer.from('DKIM-Signature: v=1\r\n'),
});

/** A delivery engine's side of the handoff with room for `room` deliveries, noting what it is given. */
class EngineWithRoom implements DeliveryHandoff {
  readonly taken: ClaimedBatch[] = [];
  readonly cancelled: string[][] = [];

  constructor(
    private readonly owner: string,
    private room: number,
  ) {}

  lease(messages: readonly QueuedMessage[]): DeliveryLease | null {
    const deliveries = messages.reduce((sum, queued) => sum + queued.recipients.length, 0);
    if (deliveries > this.room) return null;
    this.room -= deliveries;
    return { owner: this.owner, until: Date.now() + 60_000 };
  }

  take(batch: ClaimedBatch): void {
    this.taken.push(batch);
  }

  cancel(messages: readonly QueuedMessage[]): void {
    this.cancelled.push(messages.map((queued) => queued.id));
    this.room += messages.reduce((sum, queued) => sum + queued.recipients.length, 0);
  }
}

function setUp(room: number) {
  const dataDir = tempDir();
  const queue = SqliteQueueStore.open(dataDir);
  const acceptor = new MessageAcceptor(new Spool(dataDir), queue, pino({ level: 'silent' }));
  const engine = new EngineWithRoom(queue.leases.owner, room);
  acceptor.handOffTo(engine);
  let wakes = 0;
  acceptor.onCommitted(() => wakes++);
  return { queue, acceptor, engine, wakes: () => wakes };
}

test('mail the engine has room for is leased in its commit and handed over as it is in memory, without a wake-up to claim it', async () => {
  const { queue, acceptor, engine, wakes } = setUp(10);
  const first = message('m1', ['a@one.test', 'b@two.test']);
  const second = message('m2', ['c@one.test']);
  await Promise.all([acceptor.accept(first, null), acceptor.accept(second, null)]);
  assert.equal(engine.taken.length, 1, 'one group commit, one handoff');
  const [batch] = engine.taken;
  assert.deepEqual(batch!.deliveries.map((delivery) => [delivery.messageId, delivery.recipient, delivery.domain]), [
    ['m1', 'a@one.test', 'one.test'],
    ['m1', 'b@two.test', 'two.test'],
    ['m2', 'c@one.test', 'one.test'],
  ]);
  const handed = batch!.messages.get('m1')!;
  assert.equal(handed.header, first.header);
  assert.equal(handed.body, first.body);
  assert.deepEqual(handed.dkimSignature, first.dkimSignature);
  assert.equal(handed.receivedAt, first.receivedAt.getTime());
  assert.deepEqual(handed.metadata, first.metadata);
  for (const delivery of batch!.deliveries) {
    const stored = queue.details(delivery.messageId)!.deliveries.find((row) => row.recipient === delivery.recipient)!;
    assert.equal(stored.state, 'leased');
  }
  assert.equal(queue.leases.claim(Date.now() + 1000, 10, 60_000).deliveries.length, 0);
  assert.equal(wakes(), 0);
  queue.close();
});

test('mail the engine has no room for is queued and wakes it; a refused commit gives back what was reserved', async () => {
  const { queue, acceptor, engine, wakes } = setUp(2);
  await acceptor.accept(message('big', ['a@one.test', 'b@one.test', 'c@one.test']), null);
  assert.equal(engine.taken.length, 0);
  assert.equal(wakes(), 1);
  assert.deepEqual(queue.leases.claim(Date.now() + 1000, 10, 60_000).deliveries.map((delivery) => delivery.recipient), ['a@one.test', 'b@one.test', 'c@one.test']);

  // The same recipient twice breaks the deliveries' unique key: the commit fails, and nothing stays reserved.
  await assert.rejects(acceptor.accept(message('bad', ['dup@one.test', 'dup@one.test']), null));
  assert.deepEqual(engine.cancelled, [['bad']]);
  await acceptor.accept(message('pair', ['d@one.test', 'e@one.test']), null);
  assert.deepEqual(engine.taken.map((batch) => batch.deliveries.map((delivery) => delivery.recipient)), [['d@one.test', 'e@one.test']], 'the room given back serves the next message');
  queue.close();
});
