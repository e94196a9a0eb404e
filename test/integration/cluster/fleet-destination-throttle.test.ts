import test, { after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Redis } from 'ioredis';
import type { ShapingLimits } from '../../../src/config/schema.js';
import type { DestinationThrottle } from '../../../src/delivery/destination-throttle.js';
import { RedisShaping } from '../../../src/delivery/redis-shaping.js';
import { createLogger } from '../../../src/log/logger.js';
import { capturingLogger } from '../../support/fault-watch.js';
import { countCommands, refusedPortUrl, testKeySpace } from '../../support/test-redis.js';
import { waitUntil } from '../../support/wait-until.js';

const space = testKeySpace('fleet-throttle');
const started: RedisShaping[] = [];
// Each test's nodes leave the fleet after it, so the next counts only its own.
afterEach(async () => {
  await Promise.all(started.splice(0).map((shaping) => shaping.close()));
});
after(() => space.cleanUp());

const DESTINATION = '|site mx.fleet.test';
const limits = (maxConnections: number, messagesPerSecond = 0): ShapingLimits => ({ maxConnections, messagesPerConnection: 100, messagesPerSecond });

/** A gateway node's shaping on a connection of its own; its lease ids start with `<name>:`. */
async function node(name: string, leaseMs: number, redis: Redis = space.connect(), log = createLogger({ level: 'silent' })): Promise<{ shaping: RedisShaping; redis: Redis }> {
  const shaping = new RedisShaping(redis, { keyPrefix: space.prefix, leaseMs, log, nodeId: name });
  started.push(shaping);
  await shaping.start();
  return { shaping, redis };
}

/** Connections open at once over every opener of a test, and the most seen. */
class OpenCount {
  now = 0;
  most = 0;
  opened(): void {
    this.most = Math.max(this.most, ++this.now);
  }
}

/** Stands for a ready queue: opens connections as its throttle allows, as ReadyQueue does, until `wanted` are open. */
class Opener {
  open = 0;
  private wanted = 0;
  private readonly retry = () => this.spawn();

  constructor(
    private readonly throttle: DestinationThrottle,
    private readonly count = new OpenCount(),
  ) {}

  /** Opens connections, as far as the throttle allows, or closes some until `connections` are open. */
  target(connections: number): void {
    this.wanted = connections;
    while (this.open > connections) this.close();
    this.spawn();
  }

  /** One connection closes (it has sent its share of messages) and another is wanted in its place. */
  replaceOne(): void {
    this.close();
    this.spawn();
  }

  private close(): void {
    this.open--;
    this.count.now--;
    this.throttle.closed();
  }

  private spawn(): void {
    while (this.open < this.wanted) {
      if (!this.throttle.tryOpen()) return this.throttle.whenFree(this.retry);
      this.open++;
      this.count.opened();
    }
  }
}

const leasesOf = (key: string) => space.admin.zrange(`${space.prefix}shaping:leases:${key}`, 0, -1);

test('two nodes never hold more connections than maxConnections; a slot freed on one goes to the other', async () => {
  const [a, b] = [await node('a', 30_000), await node('b', 30_000)];
  const count = new OpenCount();
  const onA = new Opener(a.shaping.throttle(DESTINATION, limits(3)), count);
  const onB = new Opener(b.shaping.throttle(DESTINATION, limits(3)), count);
  onA.target(3);
  onB.target(3);
  await waitUntil(() => onA.open + onB.open === 3, 'three connections');
  await new Promise((resolve) => setTimeout(resolve, 600)); // both keep asking meanwhile
  assert.equal(onA.open + onB.open, 3);
  assert.equal((await leasesOf(DESTINATION)).length, 3, 'one lease per open connection');

  onA.target(0);
  await waitUntil(() => onB.open === 3, 'the other node to take the freed slots');
  assert.equal(count.most, 3, 'never more than 3 at once');
  const leases = await leasesOf(DESTINATION);
  assert.equal(leases.length, 3);
  assert.ok(leases.every((lease) => lease.startsWith('b:')), `all held by the second node: ${leases.join(', ')}`);
  onB.target(0);
  await waitUntilAsync(async () => (await leasesOf(DESTINATION)).length === 0, 'every lease given back when its connection closed');
});

test('a live node renews its leases; those of a node that died lapse after the lease time', async () => {
  const key = `${DESTINATION}:lapse`;
  const leaseMs = 900;
  const [a, b] = [await node('a', leaseMs), await node('b', leaseMs)];
  const onA = new Opener(a.shaping.throttle(key, limits(2)));
  const onB = new Opener(b.shaping.throttle(key, limits(2)));
  onA.target(2);
  await waitUntil(() => onA.open === 2, 'the first node to open both slots');
  onB.target(1);
  await new Promise((resolve) => setTimeout(resolve, 3 * leaseMs));
  assert.equal(onB.open, 0, 'three lease times later the first node still holds its slots');

  const diedAt = Date.now();
  a.redis.disconnect(); // as SIGKILL: nothing is given back, and the leases are no longer renewed
  await waitUntil(() => onB.open === 1, 'the dead node’s lease to lapse', 10_000);
  // Renewed at most a third of a lease time before it died, its last lease ran at least two thirds more.
  assert.ok(Date.now() - diedAt >= leaseMs / 2, 'not before the lease could have lapsed');
  assert.deepEqual((await leasesOf(key)).map((lease) => lease.split(':')[0]), ['b'], 'the dead node’s leases are gone');
});

test('the pace is one reservation (one round trip) per message, shared by the nodes', async () => {
  const key = `${DESTINATION}:pace`;
  const [a, b] = [await node('a', 30_000), await node('b', 30_000)];
  const onA = a.shaping.throttle(key, limits(2, 20));
  const onB = b.shaping.throttle(key, limits(2, 20));
  const commands = countCommands(a.redis);
  const startedAt = Date.now();
  const finished = await Promise.all(Array.from({ length: 8 }, (_, index) => (index % 2 ? onB : onA).pace().then(() => Date.now() - startedAt)));
  assert.equal(commands.sent, 4, 'one call for each of the first node’s four messages');
  finished.sort((x, y) => x - y);
  // 20 per second: the k-th message may not start before k × 50 ms (a timer may fire up to a millisecond early).
  finished.forEach((at, index) => assert.ok(at >= index * 50 - 2, `message ${index} started after ${at} ms`));
});

test('with Redis gone mid-way a node keeps delivering on its share of the limits, and returns to the fleet’s when Redis is back', async () => {
  const key = `${DESTINATION}:outage`;
  const { log, records } = capturingLogger();
  const a = await node('a', 600, space.connect(), log);
  const b = await node('b', 600);
  await waitUntil(() => a.shaping.nodes === 2 && b.shaping.nodes === 2, 'both nodes to see two live nodes');

  const ended = once(a.redis, 'end', { signal: AbortSignal.timeout(5000) });
  a.redis.disconnect();
  await ended;
  const throttle = a.shaping.throttle(key, limits(4, 10));
  const onA = new Opener(throttle);
  onA.target(5);
  await waitUntil(() => onA.open === 2, 'half of the four connections');
  assert.equal(a.shaping.reachable, false);
  assert.ok(records.some((record) => record.level === 40 && /Redis unreachable/.test(String(record.msg))), 'the fallback is logged');
  onA.replaceOne();
  assert.equal(onA.open, 2, 'a freed slot is used again at once');

  const startedAt = Date.now();
  for (let i = 0; i < 3; i++) await throttle.pace();
  assert.ok(Date.now() - startedAt >= 2 * 200 - 2, 'half of 10 per second: 200 ms apart');

  await a.redis.connect();
  await waitUntil(() => a.shaping.reachable, 'Redis to be reachable again', 5000);
  onA.target(0);
  onA.target(3);
  await waitUntil(() => onA.open === 3, 'leases from Redis again');
  assert.equal((await leasesOf(key)).length, 3);
  assert.ok(records.some((record) => /Redis reachable again/.test(String(record.msg))));
});

test('a node that cannot reach Redis at all starts on its own limits', async () => {
  const { shaping } = await node('alone', 3000, space.connect(await refusedPortUrl()));
  assert.equal(shaping.reachable, false);
  assert.equal(shaping.nodes, 1);
  const onIt = new Opener(shaping.throttle(`${DESTINATION}:alone`, limits(3, 1000)));
  onIt.target(4);
  assert.equal(onIt.open, 3);
  await shaping.throttle(`${DESTINATION}:alone`, limits(3, 1000)).pace();
});

async function waitUntilAsync(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
