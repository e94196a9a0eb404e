import test from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../../src/config/load.js';
import { SourceAddresses, type SourceChoice } from '../../../src/delivery/source-addresses.js';
import { createLogger } from '../../../src/log/logger.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { tempDir } from '../../support/gateway-process.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const log = createLogger({ level: 'silent' });

function sources(pools: Record<string, unknown>, queue = SqliteQueueStore.open(tempDir()), now = NOW) {
  const config = buildConfig({ delivery: { pools, warmup: { days: 10, firstDayLimit: 2, lastDayLimit: 100 } } }, { hostname: 'relaygate.test' });
  return { addresses: new SourceAddresses(config.delivery, 'relaygate.test', queue.sources, log, now), queue };
}

const address = async (choice: Promise<SourceChoice>) => {
  const chosen = await choice;
  return 'source' in chosen ? chosen.source.address : `wait until ${new Date(chosen.waitUntil).toISOString()}`;
};
/** Chooses `times` times in a row, each after the previous. */
async function picks(times: number, choose: () => Promise<SourceChoice>): Promise<string[]> {
  const chosen: string[] = [];
  for (let i = 0; i < times; i++) chosen.push(await address(choose()));
  return chosen;
}

test("a warming address takes recipients up to its day's cap, then the warm addresses of the pool take turns", async () => {
  const { addresses } = sources({
    default: { addresses: [{ address: '192.0.2.10' }, { address: '192.0.2.11' }, { address: '192.0.2.12', warmup: { startedOn: '2026-11-23' } }] },
  });
  assert.deepEqual(await picks(6, () => addresses.choose('default', null, 1, NOW)), ['192.0.2.12', '192.0.2.12', '192.0.2.10', '192.0.2.11', '192.0.2.10', '192.0.2.11']);
});

test('the previous attempt’s address is kept while it may send', async () => {
  const { addresses } = sources({ default: { addresses: [{ address: '192.0.2.10' }, { address: '192.0.2.11' }] } });
  const chosen: string[] = [];
  for (const previous of ['192.0.2.11', '192.0.2.11', '192.0.2.10', '198.51.100.1', null]) chosen.push(await address(addresses.choose('default', previous, 1, NOW)));
  assert.deepEqual(
    chosen,
    ['192.0.2.11', '192.0.2.11', '192.0.2.10', '192.0.2.10', '192.0.2.11'],
    'an address no longer in the pool falls back to the rotation',
  );
});

test('a pool with only warming addresses sends its excess from the default pool; without any warm address the mail waits for the next UTC day', async () => {
  const { addresses } = sources({
    default: { addresses: [{ address: '192.0.2.10' }] },
    fresh: { addresses: [{ address: '192.0.2.20', warmup: { startedOn: '2026-11-23' } }] },
    cold: { addresses: [{ address: '192.0.2.30', warmup: { startedOn: '2026-11-23' } }] },
  });
  assert.deepEqual(
    await picks(3, () => addresses.choose('fresh', null, 1, NOW)),
    ['192.0.2.20', '192.0.2.20', '192.0.2.10'],
  );
  const only = sources({ default: { addresses: [{ address: '192.0.2.30', warmup: { startedOn: '2026-11-23' } }] } }).addresses;
  assert.deepEqual(
    await picks(3, () => only.choose('default', null, 1, NOW)),
    ['192.0.2.30', '192.0.2.30', 'wait until 2026-11-24T00:00:00.000Z'],
  );
  assert.equal(await address(only.choose('default', null, 1, Date.parse('2026-11-24T00:00:01Z'))), '192.0.2.30', 'a new day, a new cap');
});

test('an address that could not be bound is left out for a while; a pool with none left waits for the first to come back', async () => {
  const { addresses } = sources({ default: { addresses: [{ address: '192.0.2.10' }, { address: '192.0.2.11' }] } });
  addresses.markUnusable('192.0.2.10', NOW);
  assert.deepEqual(await picks(3, () => addresses.choose('default', '192.0.2.10', 1, NOW)), ['192.0.2.11', '192.0.2.11', '192.0.2.11']);
  addresses.markUnusable('192.0.2.11', NOW + 1000);
  assert.equal(await address(addresses.choose('default', null, 1, NOW + 2000)), 'wait until 2026-11-23T10:05:00.000Z');
  assert.equal(await address(addresses.choose('default', null, 1, NOW + 5 * 60_000)), '192.0.2.10');
});

test('counts are persisted per day and read back by the next process, with the day a warm-up without a start date began', async () => {
  const first = sources({ default: { addresses: [{ address: '192.0.2.12', warmup: true }, { address: '192.0.2.10' }] } });
  assert.equal(await address(first.addresses.choose('default', null, 1, NOW)), '192.0.2.12');
  await first.queue.leases.record({ results: [], releases: [], signatures: [], volumes: first.addresses.takeVolumes(), events: [] }, NOW);
  assert.deepEqual(first.queue.sources.warmupStarts(), new Map([['192.0.2.12', '2026-11-23']]));
  assert.deepEqual(first.queue.sources.recipientsOn('2026-11-23'), new Map([['192.0.2.12', 1]]));

  const restarted = sources({ default: { addresses: [{ address: '192.0.2.12', warmup: true }, { address: '192.0.2.10' }] } }, first.queue, NOW + 3 * 86_400_000);
  assert.deepEqual(restarted.queue.sources.warmupStarts(), new Map([['192.0.2.12', '2026-11-23']]), 'the start day is kept, not moved to today');
  const sameDay = sources({ default: { addresses: [{ address: '192.0.2.12', warmup: true }, { address: '192.0.2.10' }] } }, SqliteQueueStore.open(tempDir()));
  await sameDay.queue.leases.record({ results: [], releases: [], signatures: [], volumes: [{ address: '192.0.2.12', day: '2026-11-23', recipients: 1 }], events: [] }, NOW);
  const reopened = sources({ default: { addresses: [{ address: '192.0.2.12', warmup: true }, { address: '192.0.2.10' }] } }, sameDay.queue);
  assert.deepEqual(await picks(2, () => reopened.addresses.choose('default', null, 1, NOW)), ['192.0.2.12', '192.0.2.10'], 'one of two already used today');
});

test('a configuration set naming a pool this node lacks uses the default pool', () => {
  const { addresses } = sources({ default: { addresses: [{ address: '192.0.2.10' }] }, other: { addresses: [{ address: '192.0.2.20' }] } });
  assert.equal(addresses.poolName(undefined), 'default');
  assert.equal(addresses.poolName('other'), 'other');
  assert.equal(addresses.poolName('ses-shared-pool'), 'default');
});

test('without pools, mail leaves from the system’s address with the gateway’s name', async () => {
  const { addresses } = sources({});
  const choice = await addresses.choose('default', null, 3, NOW);
  assert.deepEqual('source' in choice && choice.source, { address: '', ehloName: 'relaygate.test', pool: 'default', warmupStartedOn: null });
  assert.deepEqual(addresses.takeVolumes(), [], 'nothing to count for the system address');
});
