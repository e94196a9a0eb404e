import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildConfig } from '../../../src/config/load.js';
import { LocalDestinationThrottle } from '../../../src/delivery/destination-throttle.js';
import { createResolver } from '../../../src/delivery/mx/index.js';
import { MxConnector, type Destination } from '../../../src/delivery/mx-connector.js';
import type { MtaStsChecker } from '../../../src/delivery/mta-sts/index.js';
import { ReadyQueue, type TransactionRunner } from '../../../src/delivery/ready-queue.js';
import type { Transaction } from '../../../src/delivery/transaction.js';
import { startDnsServer } from '../../support/dns-server.js';
import { waitForDetails } from '../../support/delivery-fixture.js';
import { startEngine } from '../../support/engine-harness.js';
import { watchUnhandledRejections } from '../../support/fault-watch.js';
import { startSinkMx } from '../../support/sink-mx.js';

/** Transactions are opaque to the ready queue: a name is enough to follow them. */
const transaction = (name: string) => ({ domain: name }) as unknown as Transaction;

/** A runner that records what the ready queue hands it and throws where the test says so. */
function faultyRunner(throwsOn: { send?: string; unsent?: boolean }) {
  const calls = { sent: [] as string[], unsent: [] as string[], failed: [] as Array<[string | null, string]> };
  const runner: TransactionRunner = {
    async send(transaction) {
      if (transaction.domain === throwsOn.send) throw new TypeError('a defect in send');
      calls.sent.push(transaction.domain);
      return null;
    },
    unsent(transaction) {
      calls.unsent.push(transaction.domain);
      if (throwsOn.unsent) throw new TypeError('a defect in unsent');
    },
    failed(error, transaction) {
      calls.failed.push([transaction?.domain ?? null, (error as Error).message]);
    },
  };
  return { runner, calls };
}

function readyQueue(port: number, runner: TransactionRunner, onEmpty: () => void, { maxConnections = 1, idleMs = 50 } = {}): ReadyQueue {
  const config = buildConfig({ delivery: { port, allowPrivateAddresses: true } }, { hostname: 'relaygate.test' });
  const destination: Destination = {
    targets: [{ exchange: 'mx.faults.test', priority: 10, addresses: ['127.0.0.1'], implicit: false }],
    source: { address: '', ehloName: 'relaygate.test', pool: 'default', warmupStartedOn: null },
    tls: 'opportunistic',
  };
  const throttle = new LocalDestinationThrottle({ maxConnections, messagesPerConnection: 100, messagesPerSecond: 0 });
  return new ReadyQueue(destination, throttle, new MxConnector(config.delivery), runner, idleMs, onEmpty);
}

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('ReadyQueue when its runner throws', () => {
  test('send throws: the runner is told, the connection is replaced, the next transactions are sent', async () => {
    const sink = await startSinkMx({ host: '127.0.0.1', starttls: false });
    const rejections = watchUnhandledRejections();
    try {
      const { runner, calls } = faultyRunner({ send: 'second' });
      let empty = false;
      const queue = readyQueue(sink.port, runner, () => (empty = true));
      for (const name of ['first', 'second', 'third', 'fourth']) queue.enqueue(transaction(name));
      await until(() => empty, 'the queue to empty');
      assert.deepEqual(calls.sent, ['first', 'third', 'fourth']);
      assert.deepEqual(calls.failed, [['second', 'a defect in send']]);
      assert.equal(sink.connections.opened, 2, 'the session in an unknown state was cut and another opened');
    } finally {
      await sink.close();
    }
    await sleep(10);
    assert.deepEqual(rejections.stop(), []);
  });

  test('unsent throws: the runner is told, for each transaction', async () => {
    const sink = await startSinkMx({ host: '127.0.0.1', starttls: false });
    await sink.close();
    const rejections = watchUnhandledRejections();
    const { runner, calls } = faultyRunner({ unsent: true });
    let empty = false;
    const queue = readyQueue(sink.port, runner, () => (empty = true));
    for (const name of ['first', 'second']) queue.enqueue(transaction(name));
    await until(() => empty, 'the queue to empty');
    assert.deepEqual(calls.unsent, ['first', 'second']);
    assert.deepEqual(calls.failed, [
      ['first', 'a defect in unsent'],
      ['second', 'a defect in unsent'],
    ]);
    await sleep(10);
    assert.deepEqual(rejections.stop(), []);
  });
});

test('DeliveryEngine: routing throws something that is not an Error; the delivery is deferred with the gateway fault, nothing escapes', async () => {
  const dns = await startDnsServer({ 'faults.test': { MX: [{ exchange: 'mx.faults.test', priority: 10 }] }, 'mx.faults.test': { A: ['127.0.0.1'] } });
  // An enforce policy, and a check of the MX against it that fails with `null`: the old handler read null.message.
  const mtaSts: MtaStsChecker = {
    policyFor: async () => ({ mode: 'enforce', mx: ['mx.faults.test'] }),
    allows: () => Promise.reject(null), // eslint-disable-line prefer-promise-reject-errors
  };
  const rejections = watchUnhandledRejections();
  const harness = await startEngine({
    config: { dns: { servers: [dns.address], timeoutMs: 500 }, delivery: { allowPrivateAddresses: true, retry: { firstDelaySeconds: 60, maxDelaySeconds: 60 } } },
    resolver: createResolver({ servers: [dns.address], timeoutMs: 500 }),
    mtaSts,
  });
  try {
    const id = await harness.accept({ to: ['user@faults.test'] });
    const details = await waitForDetails(harness.dataDir, id, (current) => current.deliveries[0]!.state === 'deferred');
    assert.equal(details.deliveries[0]!.response, '451 4.3.0 Delivery failed in the gateway: null');
  } finally {
    await harness.stop();
    await dns.close();
  }
  await sleep(10);
  assert.deepEqual(rejections.stop(), []);
});

test('ReadyQueue: connections that ran out of work after a burst beyond maxConnections linger for the next mail instead of closing', async () => {
  const sink = await startSinkMx({ host: '127.0.0.1', starttls: false });
  try {
    const sent: string[] = [];
    const runner: TransactionRunner = {
      async send(transaction) {
        await sleep(30);
        sent.push(transaction.domain);
        return null;
      },
      unsent: () => assert.fail('nothing is unsent'),
      failed: (error) => assert.fail(error as Error),
    };
    let empty = false;
    const queue = readyQueue(sink.port, runner, () => (empty = true), { maxConnections: 2, idleMs: 10_000 });
    // Two connections open; the third transaction waits for one of them, and asks the throttle for a third slot.
    for (const name of ['first', 'second', 'third']) queue.enqueue(transaction(name));
    await until(() => sent.length === 3, 'the burst to be sent');
    await sleep(50);
    assert.equal(sink.connections.current, 2, 'both connections idle, open');
    queue.enqueue(transaction('fourth'));
    await until(() => sent.length === 4, 'the next message');
    assert.equal(sink.connections.opened, 2, 'the next message went over an idle connection');
    queue.dropIdle();
    await until(() => empty, 'the queue to let its connections go');
  } finally {
    await sink.close();
  }
});
