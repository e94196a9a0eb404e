import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ClusterKeys } from '../../../src/cluster/cluster-keys.js';
import { NodeHeartbeatWriter, type NodeHeartbeat } from '../../../src/cluster/node-heartbeat.js';
import { createLogger } from '../../../src/log/logger.js';
import { testKeySpace } from '../../support/test-redis.js';
import { waitUntil } from '../../support/wait-until.js';

const space = testKeySpace('node-heartbeat');
after(() => space.cleanUp());
const redis = space.connect();

test('a queue depth that cannot be read skips a heartbeat with one warning, not an unhandled rejection, and the next beat is written', async () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  const lines: Array<Record<string, unknown>> = [];
  const output = new PassThrough();
  output.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)));
  let reads = 0;
  const keys = new ClusterKeys(space.prefix);
  const writer = new NodeHeartbeatWriter(
    redis,
    keys,
    'node-a',
    {
      listeners: () => ['127.0.0.1:2587=starttls'],
      queueDepth: () => {
        if (++reads === 1) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
        return { queued: 3 };
      },
    },
    100,
    createLogger({ level: 'info' }, output),
  );
  try {
    writer.start();
    await waitUntil(() => lines.some((line) => line.msg === 'heartbeat written again'), 'the next beat to be written', 5000);
    const heartbeat = JSON.parse((await redis.get(keys.heartbeat('node-a')))!) as NodeHeartbeat;
    assert.deepEqual(heartbeat.queue, { queued: 3 });
    const warnings = lines.filter((line) => String(line.msg).startsWith('cannot write the heartbeat'));
    assert.equal(warnings.length, 1);
    assert.equal((warnings[0]!.err as { message: string }).message, 'disk I/O error');
    assert.deepEqual(rejections, []);
  } finally {
    await writer.stop();
    process.off('unhandledRejection', onRejection);
  }
});
