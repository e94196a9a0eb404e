/**
 * The thread of a TreeMemorySampler (process-memory.ts). Reading /proc for the process tree and each process's
 * smaps_rollup takes 10–40 ms on a busy machine; on the load client's event loop, every 500 ms, it held back the
 * messages due meanwhile, and their time to 250 counted the wait.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { treePssMiB, type MemorySamplerData } from './process-memory.js';

const { roots, intervalMs } = workerData as MemorySamplerData;
let peakMiB = treePssMiB(roots);
const timer = setInterval(() => (peakMiB = Math.max(peakMiB, treePssMiB(roots))), intervalMs);

parentPort?.once('message', () => {
  clearInterval(timer);
  parentPort?.postMessage(Math.max(peakMiB, treePssMiB(roots)));
  parentPort?.close();
});
