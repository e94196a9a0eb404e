import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { startGatewayProcess, tempDir } from '../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import type { SinkMx } from '../support/sink-mx.js';
import { startSinks, submit, testDeliveryConfig, waitForFinal } from '../support/delivery-fixture.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import { waitUntil } from '../support/wait-until.js';

let dns: TestDnsServer;
let burstSink: SinkMx;
let slowSink: SinkMx;
const slowTransactions: string[] = [];

before(async () => {
  [burstSink, slowSink] = (await startSinks([
    // Latency per message keeps deliveries in flight, and mail waiting behind them, when the gateway is killed.
    { host: '127.0.0.2', behaviour: (ctx) => (ctx.stage === 'DATA' ? { delayMs: 25 } : 'accept') },
    {
      host: '127.0.0.3',
      behaviour: (ctx) => {
        if (ctx.stage !== 'DATA') return 'accept';
        slowTransactions.push(ctx.rcptTo.join(','));
        return { delayMs: 1500 };
      },
    },
  ])) as [SinkMx, SinkMx];
  dns = await startDnsServer({
    'burst.test': { MX: [{ exchange: 'mx.burst.test', priority: 10 }] },
    'mx.burst.test': { A: ['127.0.0.2'] },
    'slow.test': { MX: [{ exchange: 'mx.slow.test', priority: 10 }] },
    'mx.slow.test': { A: ['127.0.0.3'] },
  });
});
after(async () => {
  await Promise.all([burstSink.close(), slowSink.close(), dns.close()]);
});

/** Message ids as the sink saw them, from the Message-ID header the gateway set. */
function deliveredIds(sink: SinkMx): string[] {
  return sink.messages.map((message) => /\r\nMessage-ID: <([^@>]+)@/.exec(message.raw.toString('latin1'))?.[1] ?? '?');
}

async function submitUntilStopped(gateway: GatewayProcess, credential: TestCredential, session: number, accepted: string[]): Promise<void> {
  for (let index = 0; ; index++) {
    try {
      accepted.push(await submit(gateway, credential, { to: [`s${session}m${index}@burst.test`] }));
    } catch {
      return;
    }
  }
}

test('SIGKILL during a delivery burst: after a restart on the same data directory every accepted message is delivered, duplicates only from transactions in flight', async () => {
  const maxConnections = 2;
  const config = testDeliveryConfig(dns, burstSink.port, { maxConnections });
  const dataDir = tempDir();
  const first = await startGatewayProcess({ dataDir, config, listen: ['127.0.0.1:0=tls'] });
  const credential = await provisionCredential(dataDir);
  const accepted: string[] = [];
  const sessions = Array.from({ length: 6 }, (_, session) => submitUntilStopped(first, credential, session, accepted));
  try {
    await waitUntil(() => burstSink.messages.length >= 40 && accepted.length - burstSink.messages.length >= 10, '40 messages at the sink and 10 waiting', 20_000, 10);
  } finally {
    await first.kill();
  }
  await Promise.all(sessions);
  const deliveredBeforeCrash = burstSink.messages.length;
  assert.ok(accepted.length > deliveredBeforeCrash, 'some accepted mail was still waiting when the gateway died');

  const second = await startGatewayProcess({ dataDir, config, listen: ['127.0.0.1:0=tls'] });
  try {
    for (const id of accepted) {
      const details = await waitForFinal(dataDir, id, 30_000);
      assert.equal(details.deliveries[0]!.state, 'delivered', id);
    }
  } finally {
    await second.stop();
  }
  const delivered = deliveredIds(burstSink);
  const missing = accepted.filter((id) => !delivered.includes(id));
  assert.deepEqual(missing, [], 'every message that got 250 reached the MX');
  const duplicates = delivered.length - new Set(delivered).size;
  // In flight at the kill: one transaction per connection, plus results of just-finished ones not yet written.
  assert.ok(duplicates <= 2 * maxConnections, `${duplicates} duplicates`);
  assert.ok(second.logs.some((record) => record.msg === 'deliveries left in flight by a previous run are queued again'), 'the dead process’s leases were recovered');
});

test('SIGTERM: transactions in flight finish, the rest stays queued (no lease left behind) and goes after a restart', async () => {
  const config = testDeliveryConfig(dns, slowSink.port, { maxConnections: 2 });
  const dataDir = tempDir();
  const gateway = await startGatewayProcess({ dataDir, config, listen: ['127.0.0.1:0=tls'] });
  const credential = await provisionCredential(dataDir);
  const ids: string[] = [];
  for (let index = 0; index < 6; index++) ids.push(await submit(gateway, credential, { to: [`user${index}@slow.test`] }));
  try {
    await waitUntil(() => slowTransactions.length >= 2, 'two transactions at the slow sink', 20_000, 10);
  } catch (error) {
    await gateway.kill();
    throw error;
  }
  assert.equal(await gateway.stop(), 0, 'clean exit');

  const queue = SqliteQueueStore.open(dataDir);
  let states: string[];
  try {
    states = ids.map((id) => queue.details(id)!.deliveries[0]!.state).sort();
  } finally {
    queue.close();
  }
  assert.deepEqual(states, ['delivered', 'delivered', 'queued', 'queued', 'queued', 'queued'], 'the two transactions in flight finished; the others were handed back untried');
  assert.equal(slowSink.messages.length, 2);

  const restarted = await startGatewayProcess({ dataDir, config, listen: ['127.0.0.1:0=tls'] });
  try {
    for (const id of ids) assert.equal((await waitForFinal(dataDir, id)).deliveries[0]!.state, 'delivered');
  } finally {
    await restarted.stop();
  }
  assert.equal(slowSink.messages.length, 6, 'each message delivered once');
});
