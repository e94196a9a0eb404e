/**
 * `npm run bench:hot-paths`: the per-message steps that the primary and the session workers run on their event loops,
 * each timed alone in this process, so a change to one can be measured without the noise of a whole relay on a shared
 * machine (bench.ts measures that). Prints the mean time per operation.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { fillBody } from './bench-message.js';
import { RelaxedBodyHash } from '../src/message/dkim/relaxed-canonicalization.js';
import { LineEndingNormalizer } from '../src/message/line-ending-normalizer.js';
import { LineScanner } from '../src/message/line-scanner.js';
import { createLogger } from '../src/log/logger.js';
import type { DeliveryResult } from '../src/queue/delivery-records.js';
import type { QueuedMessage } from '../src/queue/queued-message.js';
import { SqliteQueueStore } from '../src/queue/sqlite-queue-store.js';

/** The body the scanning steps run over, about the large workload's (bench-workloads.ts). */
const SCANNED_BODY_BYTES = 100_000;
/** TLS records carry at most 16 KB: the size of the chunks a session reads. */
const CHUNK_BYTES = 16 * 1024;

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '3000' }, iterations: { type: 'string', default: '2000' }, help: { type: 'boolean', default: false } },
});
if (values.help) {
  process.stdout.write(`usage: npm run bench:hot-paths -- [--messages N] [--iterations N]

  --messages N     queue cycles (insert, claim, record) per body size (default 3000)
  --iterations N   runs of each body-scanning step over a 100 KB body (default 2000)
`);
  process.exit(0);
}
const messages = Number(values.messages);
const iterations = Number(values.iterations);

const elapsedMs = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;

/** Messages through the queue as the primary handles them: each committed, leased for delivery, its result recorded. */
async function timeQueue(bodyBytes: number): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'relaygate-hot-paths-'));
  const store = SqliteQueueStore.open(dataDir);
  const header = Buffer.from('From: sender@source.test\r\nTo: rcpt@bench.example\r\nSubject: hot paths\r\n');
  const body = Buffer.from(fillBody(bodyBytes), 'latin1');
  const totals = { insert: 0, claim: 0, record: 0 };
  try {
    for (let index = 0; index < messages; index++) {
      const recipient = `rcpt-${index}@bench.example`;
      const message: QueuedMessage = {
        id: randomUUID(),
        accountId: '111122223333',
        accessKeyId: 'AKIAHOTPATHS',
        mailFrom: 'sender@source.test',
        recipients: [recipient],
        header,
        body,
        bodyFile: '',
        size: header.length + 2 + body.length,
        receivedAt: new Date(),
        metadata: { sourceIp: '127.0.0.1', tls: true, heloName: 'client.test', ses: {}, configurationSet: null, tags: {}, recipients: [recipient] },
      };
      // Only the synchronous part holds the event loop; the fsync runs in libuv's pool and is awaited apart.
      let started = process.hrtime.bigint();
      const durable = store.insert([message]);
      totals.insert += elapsedMs(started);
      await durable;
      started = process.hrtime.bigint();
      const { deliveries } = store.leases.claim(Date.now(), 200, 60_000);
      totals.claim += elapsedMs(started);
      const results: DeliveryResult[] = deliveries.map((delivery) => ({
        deliveryId: delivery.id,
        messageId: delivery.messageId,
        state: 'delivered',
        at: Date.now(),
        nextAttemptAt: null,
        response: '250 2.0.0 Ok',
        remoteMta: '127.0.0.1',
        mxHost: 'mx.bench.example',
        sourceIp: '',
        outgoingIp: '127.0.0.1',
        reportingMta: 'relay.test',
        bounceType: null,
        bounceSubType: null,
        category: null,
      }));
      started = process.hrtime.bigint();
      const recorded = store.leases.record({ results, releases: [], signatures: [], volumes: [], events: [] }, Date.now());
      totals.record += elapsedMs(started);
      await recorded;
    }
  } finally {
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const per = (total: number) => `${((total / messages) * 1000).toFixed(0)} µs`;
  return `queue, ${bodyBytes} B body: insert ${per(totals.insert)}, claim ${per(totals.claim)}, record ${per(totals.record)} per message`;
}

function timeBodyStep(name: string, step: (chunks: Buffer[]) => void): string {
  const body = Buffer.from(fillBody(SCANNED_BODY_BYTES), 'latin1');
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += CHUNK_BYTES) chunks.push(body.subarray(offset, offset + CHUNK_BYTES));
  for (let warm = 0; warm < iterations / 10; warm++) step(chunks);
  const started = process.hrtime.bigint();
  for (let index = 0; index < iterations; index++) step(chunks);
  return `${name}: ${((elapsedMs(started) / iterations) * 1000).toFixed(0)} µs per ${body.length} B body`;
}

/** A session's log line as a worker writes one per accepted message, to a destination that drops it. */
function timeLogLine(): string {
  const log = createLogger({ level: 'info' }, new Writable({ write: (_chunk, _encoding, callback) => callback() })).child({ worker: 1, session: 'bench' });
  const lines = iterations * 100;
  const write = (index: number) => log.info({ messageId: `m${index}`, accountId: '123456789012', recipients: 3, bytes: SCANNED_BODY_BYTES }, 'message accepted');
  for (let warm = 0; warm < lines / 10; warm++) write(warm);
  const started = process.hrtime.bigint();
  for (let index = 0; index < lines; index++) write(index);
  return `log line (credentials redacted): ${((elapsedMs(started) / lines) * 1000).toFixed(2)} µs per line`;
}

const lines = [
  await timeQueue(1400),
  await timeQueue(100_000),
  timeBodyStep('DKIM relaxed body hash', (chunks) => {
    const hash = new RelaxedBodyHash();
    for (const chunk of chunks) hash.update(chunk);
    hash.digest();
  }),
  timeBodyStep('SHA-256 alone, for comparison', (chunks) => {
    const hash = createHash('sha256');
    for (const chunk of chunks) hash.update(chunk);
    hash.digest();
  }),
  timeBodyStep('line-ending normalisation', (chunks) => {
    const normalizer = new LineEndingNormalizer();
    for (const chunk of chunks) normalizer._transform(chunk, 'binary', () => undefined);
  }),
  timeBodyStep('line scan (NUL, 8-bit, long lines)', (chunks) => {
    const scanner = new LineScanner();
    for (const chunk of chunks) scanner.scan(chunk);
    scanner.end();
  }),
  timeLogLine(),
];
process.stdout.write(`${lines.join('\n')}\n`);
