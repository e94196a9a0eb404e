import test from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createResolver } from '../../../src/delivery/mx/index.js';
import { waitForFinal } from '../../support/delivery-fixture.js';
import { startDnsServer } from '../../support/dns-server.js';
import { startEngine } from '../../support/engine-harness.js';
import { startSinkMx } from '../../support/sink-mx.js';

test('DeliveryEngine: wakes with nothing due (results settling, the engine woken again) claim nothing; queued mail is still claimed and delivered', async () => {
  const sink = await startSinkMx({ host: '127.0.0.1', starttls: false });
  const dns = await startDnsServer({ 'claims.test': { MX: [{ exchange: 'mx.claims.test', priority: 10 }] }, 'mx.claims.test': { A: ['127.0.0.1'] } });
  const harness = await startEngine({
    config: { dns: { servers: [dns.address], timeoutMs: 500 }, delivery: { port: sink.port, allowPrivateAddresses: true } },
    resolver: createResolver({ servers: [dns.address], timeoutMs: 500 }),
  });
  const { leases } = harness.queue;
  const claim = leases.claim.bind(leases);
  const claimed: number[] = [];
  leases.claim = (...args) => {
    const batch = claim(...args);
    claimed.push(batch.deliveries.length);
    return batch;
  };
  try {
    const first = await Promise.all([harness.accept({ to: ['a@claims.test'] }), harness.accept({ to: ['b@claims.test'] })]);
    await Promise.all(first.map((id) => waitForFinal(harness.dataDir, id)));
    // Each result batch frees capacity and wakes the engine; so do the commits and these calls.
    for (let wake = 0; wake < 3; wake++) {
      harness.engine.wake();
      await sleep(20);
    }
    assert.ok(claimed.length > 0, 'the queued messages were claimed');
    assert.ok(!claimed.includes(0), `no claim came back empty: ${JSON.stringify(claimed)}`);
    assert.equal(claimed.reduce((sum, count) => sum + count, 0), 2);

    const next = await harness.accept({ to: ['c@claims.test'] });
    await waitForFinal(harness.dataDir, next);
    assert.equal(claimed.reduce((sum, count) => sum + count, 0), 3, 'mail queued later is claimed');
    assert.ok(!claimed.includes(0), `no claim came back empty: ${JSON.stringify(claimed)}`);
    assert.deepEqual(sink.messages.map((message) => message.rcptTo).sort(), [['a@claims.test'], ['b@claims.test'], ['c@claims.test']]);
  } finally {
    await harness.stop();
    await dns.close();
    await sink.close();
  }
});
