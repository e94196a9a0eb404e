import { processTree, statFields } from './process-tree.js';

// USER_HZ: the unit of /proc/<pid>/stat's CPU times, 100 on every Linux architecture Node runs on.
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (fields === null) throw new Error(`process ${pid} is gone`);
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * CPU seconds used so far by the processes under `roots`, exited children included: each process's own user and
 * system time plus that of its children it has reaped (cutime, cstime). A child's time moves into its parent's
 * cutime when it is reaped, so the sum over the live tree only grows, and the difference of two readings is what
 * the tree used in between — forked workers, a Postfix master's short-lived daemons and threads included.
 */
export function treeCpuSeconds(roots: number[]): number {
  let ticks = 0;
  for (const pid of processTree(...roots)) {
    const fields = statFields(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks / TICKS_PER_SECOND;
}
