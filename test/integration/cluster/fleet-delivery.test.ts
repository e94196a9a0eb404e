import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { RedisShaping } from '../../../src/delivery/redis-shaping.js';
import { createLogger } from '../../../src/log/logger.js';
import { startDnsServer, type TestDnsServer } from '../../support/dns-server.js';
import { startSinks, testDeliveryConfig, waitForFinal } from '../../support/delivery-fixture.js';
import { startEngine, type EngineHarness } from '../../support/engine-harness.js';
import type { SinkMx } from '../../support/sink-mx.js';
import { testKeySpace } from '../../support/test-redis.js';

// Two delivery engines with their own queues, sharing one Redis as two gateway nodes would.
const limits = { maxConnections: 2, messagesPerConnection: 2, messagesPerSecond: 10 };
const space = testKeySpace('fleet-delivery');
let dns: TestDnsServer;
let sink: SinkMx;
const nodes: Array<{ engine: EngineHarness; shaping: RedisShaping }> = [];

before(async () => {
  // A slow answer to DATA keeps connections open long enough for the nodes to want more than their share.
  [sink] = (await startSinks([{ host: '127.0.0.31', behaviour: (ctx) => (ctx.stage === 'DATA' ? { delayMs: 100 } : 'accept') }])) as [SinkMx];
  dns = await startDnsServer({ 'fleet.test': { MX: [{ exchange: 'mx.fleet.test', priority: 10 }] }, 'mx.fleet.test': { A: ['127.0.0.31'] } });
  for (let i = 0; i < 2; i++) {
    const shaping = new RedisShaping(space.connect(), { keyPrefix: space.prefix, leaseMs: 30_000, log: createLogger({ level: 'silent' }) });
    await shaping.start();
    const engine = await startEngine({ config: testDeliveryConfig(dns, sink.port, { shaping: [{ match: { domain: 'fleet.test' }, ...limits }] }), shaping });
    nodes.push({ engine, shaping });
  }
});
after(async () => {
  for (const { engine, shaping } of nodes) {
    await engine.stop();
    await shaping.close();
  }
  await Promise.all([sink.close(), dns.close(), space.cleanUp()]);
});

test('two nodes together keep to one shaping rule’s connections and messages per second, and give every lease back', async () => {
  const ids = await Promise.all(nodes.flatMap(({ engine }) => Array.from({ length: 8 }, (_, index) => engine.accept({ to: [`user${index}@fleet.test`] }).then((id) => ({ engine, id })))));
  for (const { engine, id } of ids) assert.equal((await waitForFinal(engine.dataDir, id)).deliveries[0]!.state, 'delivered');
  assert.equal(sink.messages.length, 16);
  assert.ok(sink.connections.maxConcurrent <= limits.maxConnections, `at most ${limits.maxConnections} connections at once from the fleet, saw ${sink.connections.maxConcurrent}`);
  // Arrival times are observed after the network, so one message of tolerance per window.
  const times = sink.messages.map((message) => message.receivedAt).sort((a, b) => a - b);
  const busiestSecond = Math.max(...times.map((start) => times.filter((time) => time >= start && time < start + 1000).length));
  assert.ok(busiestSecond <= limits.messagesPerSecond + 1, `at most ${limits.messagesPerSecond} messages in any second from the fleet, saw ${busiestSecond}`);
  const leases = `${space.prefix}shaping:leases:|rule 0`;
  const deadline = Date.now() + 10_000;
  while ((await space.admin.zcard(leases)) > 0) {
    assert.ok(Date.now() < deadline, 'the leases are given back once the connections close');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});
