import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SqliteSendLimiter } from '../../../src/ratelimit/index.js';
import { T0, send } from './send-limiter-behaviour.js';

// Each worker thread opens its own connection, as a separate process would; this file is both the
// test and the workers' code.
const WORKERS = 4;
const ATTEMPTS_PER_WORKER = 100;
const rateLimited = { key: 'rate', maxSendRate: 10, max24HourSend: -1 };
const quotaLimited = { key: 'quota', maxSendRate: 0, max24HourSend: 150 };

interface WorkerInput {
  file: string;
  /** One Int32 counting workers that are ready, so they all start racing together. */
  startGate: SharedArrayBuffer;
}

interface Accepted {
  rate: number;
  quota: number;
}

async function competeForLimits({ file, startGate }: WorkerInput): Promise<Accepted> {
  const limiter = new SqliteSendLimiter(file);
  waitForAllWorkers(new Int32Array(startGate));
  const accepted: Accepted = { rate: 0, quota: 0 };
  for (let i = 0; i < ATTEMPTS_PER_WORKER; i++) {
    if ((await send(limiter, rateLimited, 1, T0)).ok) accepted.rate++;
    if ((await send(limiter, quotaLimited, 1, T0)).ok) accepted.quota++;
  }
  await limiter.close();
  return accepted;
}

/** Past this, a worker stops waiting for the others (one failed to start) and fails instead of blocking for ever. */
const START_TIMEOUT_MS = 20_000;

function waitForAllWorkers(gate: Int32Array): void {
  Atomics.add(gate, 0, 1);
  Atomics.notify(gate, 0);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (let ready = Atomics.load(gate, 0); ready < WORKERS; ready = Atomics.load(gate, 0)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`only ${ready} of ${WORKERS} workers started within ${START_TIMEOUT_MS} ms`);
    Atomics.wait(gate, 0, ready, left);
  }
}

function runWorker(input: WorkerInput): Promise<Accepted> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: input });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} without a result`)));
  });
}

if (isMainThread) {
  const directory = mkdtempSync(join(tmpdir(), 'relaygate-ratelimit-'));
  after(() => rmSync(directory, { recursive: true, force: true }));

  test('connections racing on one file never pass more than the limits allow', async () => {
    const input: WorkerInput = { file: join(directory, 'shared.db'), startGate: new SharedArrayBuffer(4) };
    const results = await Promise.all(Array.from({ length: WORKERS }, () => runWorker(input)));
    const total = (field: keyof Accepted): number => results.reduce((sum, accepted) => sum + accepted[field], 0);
    assert.equal(total('rate'), 10, 'one burst of the 10/s rate');
    assert.equal(total('quota'), 150, 'exactly the quota');

    const limiter = new SqliteSendLimiter(input.file);
    assert.equal(await limiter.sentLast24Hours('quota', T0), 150);
    await limiter.close();
  });
} else {
  parentPort?.postMessage(await competeForLimits(workerData as WorkerInput));
}
