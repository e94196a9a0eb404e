import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { startEngine, type EngineHarness } from '../support/engine-harness.js';
import type { SinkMx } from '../support/sink-mx.js';
import { startSinks, testDeliveryConfig, waitForFinal } from '../support/delivery-fixture.js';

const HOUR = 3_600_000;
const MAILBOX_FULL = '452 4.2.2 <full@full.test>: Mailbox full';

describe('queue lifetime over: the deferral becomes a Transient bounce event', () => {
  let dns: TestDnsServer;
  let sink: SinkMx;
  let harness: EngineHarness;

  before(async () => {
    [sink] = (await startSinks([{ host: '127.0.0.30', behaviour: (ctx) => (ctx.stage === 'RCPT' ? MAILBOX_FULL : 'accept') }])) as [SinkMx];
    dns = await startDnsServer({ 'full.test': { MX: [{ exchange: 'mx.full.test', priority: 10 }] }, 'mx.full.test': { A: ['127.0.0.30'] } });
    // The engine's clock runs past the queue lifetime (the minimum, one hour), so the first 4xx is the last.
    harness = await startEngine({ config: testDeliveryConfig(dns, sink.port, { queueLifetimeHours: 1 }), now: () => Date.now() + HOUR + 60_000 });
  });
  after(async () => {
    await harness.stop();
    await Promise.all([sink.close(), dns.close()]);
  });

  test('4xx after the lifetime: one Bounce Transient/MailboxFull with the last reply, no DeliveryDelay', async () => {
    const id = await harness.accept({ to: ['full@full.test'] });
    const details = await waitForFinal(harness.dataDir, id);
    assert.deepEqual(details.deliveries.map((delivery) => [delivery.state, delivery.attempts]), [['bounced', 1]]);
    const events = harness.queue.events.read('test-reader', 100).filter((event) => event.messageId === id);
    assert.deepEqual(events.map((event) => event.type), ['Send', 'Bounce']);
    const bounce = events[1]!;
    assert.equal(bounce.type, 'Bounce');
    const at = details.deliveries[0]!.finishedAt!.getTime();
    assert.deepEqual(bounce.detail, {
      bounceType: 'Transient',
      bounceSubType: 'MailboxFull',
      bouncedRecipients: [{ emailAddress: 'full@full.test', action: 'failed', status: '4.2.2', diagnosticCode: `smtp; ${MAILBOX_FULL}` }],
      timestamp: new Date(at).toISOString(),
      feedbackId: bounce.id,
      reportingMTA: 'dns; relaygate.test',
      remoteMtaIp: '127.0.0.30',
    });
    assert.deepEqual(bounce.mail.destination, ['full@full.test'], 'rows without recipients in their metadata use the delivery recipients');
  });
});
