import { readFileSync, readdirSync } from 'node:fs';

/** The session workers of a gateway: the processes whose parent is its primary and that run the worker script. */
export function sessionWorkers(primaryPid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === primaryPid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('session-worker.js');
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * Runs `work` while the processes `paused` are stopped (SIGSTOP). Each worker accepts connections from the shared
 * listening sockets itself, so while the others are stopped the one left takes every new connection.
 */
export async function whileStopped<T>(paused: readonly number[], work: () => Promise<T>): Promise<T> {
  for (const pid of paused) process.kill(pid, 'SIGSTOP');
  try {
    return await work();
  } finally {
    for (const pid of paused) process.kill(pid, 'SIGCONT');
  }
}
