import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { processTree } from './process-tree.js';

/** A process's resident set now (VmRSS), in MiB; null once the process is gone. */
export function rssMiB(pid: number): number | null {
  return statusField(`/proc/${pid}/status`, 'VmRSS');
}

/** The kernel's high-water mark of a process's resident set (VmHWM), in MiB; null once the process is gone. */
export function peakRssMiB(pid: number): number | null {
  return statusField(`/proc/${pid}/status`, 'VmHWM');
}

/**
 * What the processes under `roots` occupy now, in MiB: the sum of their proportional set sizes (Pss), so shared
 * pages (libc, libssl, the program text, memory shared with forked children) are split between the processes that
 * map them rather than counted once per process.
 */
export function treePssMiB(roots: number[]): number {
  let total = 0;
  for (const pid of processTree(...roots)) total += statusField(`/proc/${pid}/smaps_rollup`, 'Pss') ?? 0;
  return total;
}

/** The sum of the high-water marks of the resident sets (VmHWM) of the processes under `roots` now, in MiB. */
export function treePeakRssMiB(roots: number[]): number {
  return processTree(...roots).reduce((total, pid) => total + (peakRssMiB(pid) ?? 0), 0);
}

export interface MemorySamplerData {
  roots: number[];
  intervalMs: number;
}

const SAMPLER_THREAD = new URL('./memory-sampler-thread.js', import.meta.url);

/**
 * Samples the memory of a group of processes that changes while it is watched (Postfix forks and reaps its
 * daemons, relaygate may fork workers) and keeps the largest total Pss (see treePssMiB), on a thread of its own so
 * that the load client's event loop never waits for /proc.
 */
export class TreeMemorySampler {
  private readonly thread: Worker;
  private readonly peakMiB: Promise<number>;

  constructor(roots: number[], intervalMs = 500) {
    const data: MemorySamplerData = { roots, intervalMs };
    this.thread = new Worker(SAMPLER_THREAD, { workerData: data });
    this.peakMiB = new Promise<number>((resolve, reject) => {
      this.thread.once('message', resolve);
      this.thread.once('error', reject);
      this.thread.once('exit', () => reject(new Error('the memory sampler thread ended without its figure')));
    });
    // A failure is reported by stop(); until then it must not count as unhandled.
    this.peakMiB.catch(() => undefined);
  }

  /** Stops sampling and resolves with the peak total in MiB (the same answer to every call). */
  stop(): Promise<number> {
    this.thread.postMessage('stop');
    return this.peakMiB;
  }
}

/** A "Name:   1234 kB" field of a /proc file, in MiB. */
function statusField(path: string, name: string): number | null {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return null;
  }
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) / 1024 : null;
}
