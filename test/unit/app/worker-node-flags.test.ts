import test from 'node:test';
import assert from 'node:assert/strict';
import { workerNodeFlags } from '../../../src/app/workers/worker-pool.js';

test("a worker gets the primary's flags, its own semi-space size instead of the primary's, no pretenuring and a 32 MB old generation", () => {
  assert.deepEqual(workerNodeFlags(['--max-semi-space-size=16', '--cpu-prof']), ['--cpu-prof', '--max-semi-space-size=4', '--no-allocation-site-pretenuring', '--initial-old-space-size=32']);
});

test("an operator's --initial-old-space-size given to the primary is the workers' alone", () => {
  assert.deepEqual(workerNodeFlags(['--max-semi-space-size=4', '--initial-old-space-size=64']), ['--initial-old-space-size=64', '--max-semi-space-size=4', '--no-allocation-site-pretenuring']);
});
