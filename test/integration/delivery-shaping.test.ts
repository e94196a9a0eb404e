import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { utcDay } from '../../src/delivery/warmup-schedule.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import type { SinkMx } from '../support/sink-mx.js';
import { startSinks, submit, testDeliveryConfig, waitForFinal } from '../support/delivery-fixture.js';

let dns: TestDnsServer;
let sinks: Record<string, SinkMx>;

before(async () => {
  const started = await startSinks([{ host: '127.0.0.12' }, { host: '127.0.0.13' }]);
  sinks = Object.fromEntries(started.map((sink) => [sink.host, sink]));
  dns = await startDnsServer({
    // Two domains hosted at one provider: different MX hosts, one shaping rule by MX suffix.
    'one.test': { MX: [{ exchange: 'mx-a.shaped.test', priority: 10 }] },
    'two.test': { MX: [{ exchange: 'mx-b.shaped.test', priority: 10 }] },
    'mx-a.shaped.test': { A: ['127.0.0.12'] },
    'mx-b.shaped.test': { A: ['127.0.0.12'] },
    'pool.test': { MX: [{ exchange: 'mx.pool.test', priority: 10 }] },
    'mx.pool.test': { A: ['127.0.0.13'] },
  });
});
after(async () => {
  await Promise.all([...Object.values(sinks).map((sink) => sink.close()), dns.close()]);
});

describe('traffic shaping', () => {
  let gateway: GatewayProcess;
  let credential: TestCredential;
  const limits = { maxConnections: 2, messagesPerConnection: 3, messagesPerSecond: 10 };

  before(async () => {
    gateway = await startGatewayProcess({
      config: testDeliveryConfig(dns, sinks['127.0.0.12']!.port, { shaping: [{ match: { mxSuffix: '.shaped.test' }, ...limits }] }),
    });
    credential = await provisionCredential(gateway.dataDir);
  });
  after(() => gateway.stop());

  test('a rule by MX suffix: both domains together stay within its connections, messages per connection and messages per second', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, (_, index) => submit(gateway, credential, { to: [`user${index}@${index % 2 ? 'one' : 'two'}.test`] })));
    for (const id of ids) assert.equal((await waitForFinal(gateway.dataDir, id)).deliveries[0]!.state, 'delivered');
    const sink = sinks['127.0.0.12']!;
    assert.equal(sink.messages.length, 20);
    assert.ok(sink.connections.maxConcurrent <= limits.maxConnections, `at most ${limits.maxConnections} connections at once, saw ${sink.connections.maxConcurrent}`);
    assert.ok(
      sink.connections.perConnectionMessageCounts.every((count) => count <= limits.messagesPerConnection),
      `at most ${limits.messagesPerConnection} messages per connection: ${sink.connections.perConnectionMessageCounts.join(',')}`,
    );
    // Arrival times are observed after the network, so one message of tolerance per window.
    const times = sink.messages.map((message) => message.receivedAt).sort((a, b) => a - b);
    const busiestSecond = Math.max(...times.map((start) => times.filter((time) => time >= start && time < start + 1000).length));
    assert.ok(busiestSecond <= limits.messagesPerSecond + 1, `at most ${limits.messagesPerSecond} messages in any second, saw ${busiestSecond}`);
  });
});

describe('IP pools and warm-up', () => {
  let gateway: GatewayProcess;
  let credential: TestCredential;

  before(async () => {
    gateway = await startGatewayProcess({
      config: {
        smtp: { hostname: 'relaygate.test' },
        ...testDeliveryConfig(dns, sinks['127.0.0.13']!.port, {
          pools: {
            default: {
              addresses: [
                // Not an address of this host: binding it fails, and the pool's other addresses take over.
                { address: '192.0.2.1' },
                { address: '127.0.0.2', ehloName: 'warming.relaygate.test', warmup: { startedOn: utcDay(Date.now()) } },
                { address: '127.0.0.3', ehloName: 'mta3.relaygate.test' },
              ],
            },
          },
          warmup: { days: 10, firstDayLimit: 2, lastDayLimit: 100 },
        }),
      },
    });
    credential = await provisionCredential(gateway.dataDir);
  });
  after(() => gateway.stop());

  test("a warming address takes its day's cap, the rest leaves from the warm address, and an address that cannot be bound is skipped", async () => {
    const ids = [];
    for (let index = 0; index < 5; index++) ids.push(await submit(gateway, credential, { to: [`user${index}@pool.test`] }));
    const details = await Promise.all(ids.map((id) => waitForFinal(gateway.dataDir, id)));
    const sources = details.map((message) => [message.deliveries[0]!.state, message.deliveries[0]!.sourceIp, message.deliveries[0]!.reportingMta]);
    assert.equal(sources.filter(([, source]) => source === '127.0.0.2').length, 2, 'first day of warm-up: 2 recipients');
    assert.equal(sources.filter(([, source]) => source === '127.0.0.3').length, 3);
    for (const [state, source, reportingMta] of sources) {
      assert.equal(state, 'delivered');
      assert.equal(reportingMta, source === '127.0.0.2' ? 'warming.relaygate.test' : 'mta3.relaygate.test', 'the EHLO name of the source address');
    }
    const seenBySink = sinks['127.0.0.13']!.messages.map((message) => message.remoteAddress).sort();
    assert.deepEqual(seenBySink, ['127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.3', '127.0.0.3']);
    assert.ok(gateway.logs.some((record) => record.msg === 'source address cannot be used; trying the others of its pool' && record.source === '192.0.2.1'));
  });
});
