import test, { after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { buildConfig } from '../../../src/config/load.js';
import { RedisShaping } from '../../../src/delivery/redis-shaping.js';
import { SourceAddresses, type SourceChoice } from '../../../src/delivery/source-addresses.js';
import { utcDay } from '../../../src/delivery/warmup-schedule.js';
import { createLogger } from '../../../src/log/logger.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { tempDir } from '../../support/gateway-process.js';
import { testKeySpace } from '../../support/test-redis.js';
import { waitUntil } from '../../support/wait-until.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const DAY = 86_400_000;
const log = createLogger({ level: 'silent' });
const space = testKeySpace('fleet-warmup');
const closing: Array<() => Promise<void>> = [];
// Each test's nodes leave the fleet after it, so the next counts only its own.
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});
after(() => space.cleanUp());

const warm = '192.0.2.10';
// Warm-up from day 0 at 3 recipients a day.
const config = (warming: string) =>
  buildConfig({ delivery: { pools: { default: { addresses: [{ address: warm }, { address: warming, warmup: true }] } }, warmup: { days: 10, firstDayLimit: 3, lastDayLimit: 100 } } }, { hostname: 'relaygate.test' }).delivery;

/** A node: its own queue.db, its own Redis connection, the fleet's warm-up counts. */
async function node(warming: string, now = NOW) {
  const redis = space.connect();
  const shaping = new RedisShaping(redis, { keyPrefix: space.prefix, leaseMs: 600, log });
  await shaping.start();
  const queue = SqliteQueueStore.open(tempDir());
  closing.push(async () => {
    await shaping.close();
    queue.close();
  });
  const sources = await SourceAddresses.open(config(warming), 'relaygate.test', queue.sources, log, now, shaping.warmup);
  return { shaping, redis, sources };
}

const source = (choice: SourceChoice) => {
  assert.ok('source' in choice, `a source, not ${JSON.stringify(choice)}`);
  return choice.source;
};

test('nodes share a warming address’s daily count and its start day', async () => {
  const warming = '192.0.2.12';
  const [a, b] = [await node(warming), await node(warming)];
  const picks: string[] = [];
  for (let i = 0; i < 3; i++) {
    for (const { sources } of [a, b]) picks.push(source(await sources.choose('default', null, 1, NOW)).address);
  }
  assert.deepEqual(picks, [warming, warming, warming, warm, warm, warm], 'three a day for the fleet, not for each node');
  assert.equal(await space.admin.get(`${space.prefix}warmup:${utcDay(NOW)}:${warming}`), '3');

  const nextDay = await node(warming, NOW + DAY);
  const chosen = source(await nextDay.sources.choose('default', null, 1, NOW + DAY));
  assert.equal(chosen.address, warming);
  assert.equal(chosen.warmupStartedOn, utcDay(NOW), 'the day the first node began, not the day this one started');
});

test('with Redis gone a node takes its share of the day’s count, and adds it to the fleet’s when Redis is back', async () => {
  const warming = '192.0.2.13';
  const [a, b] = [await node(warming), await node(warming)];
  await waitUntil(() => a.shaping.nodes === 2, 'the first node to see two live nodes');
  const ended = once(a.redis, 'end', { signal: AbortSignal.timeout(5000) });
  a.redis.disconnect();
  await ended;
  const picks: string[] = [];
  for (let i = 0; i < 3; i++) picks.push(source(await a.sources.choose('default', null, 1, NOW)).address);
  assert.deepEqual(picks, [warming, warming, warm], 'half of three, rounded up');

  await a.redis.connect();
  await waitUntil(() => a.shaping.reachable, 'Redis to be reachable again', 5000);
  assert.equal(await space.admin.get(`${space.prefix}warmup:${utcDay(NOW)}:${warming}`), '2');
  const more = [source(await b.sources.choose('default', null, 1, NOW)).address, source(await b.sources.choose('default', null, 1, NOW)).address];
  assert.deepEqual(more, [warming, warm], 'the other node sends the last one of the day');
});
