import { readdirSync, readFileSync } from 'node:fs';

/** A process's resident set now (VmRSS), in MiB; null once the process is gone. */
export function rssMiB(pid: number): number | null {
  return statusField(`/proc/${pid}/status`, 'VmRSS');
}

/** The kernel's high-water mark of a process's resident set (VmHWM), in MiB; null once the process is gone. */
export function peakRssMiB(pid: number): number | null {
  return statusField(`/proc/${pid}/status`, 'VmHWM');
}

/**
 * Samples the memory of a group of processes that changes while it is watched (Postfix forks and reaps its
 * daemons) and keeps the largest total. Each process counts with its proportional set size (Pss): shared pages
 * (libc, libssl, the program text) split between the processes that map them, so the total is what the group
 * really occupies rather than the same libraries counted forty times.
 */
export class GroupMemorySampler {
  private peakMiB = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly members: () => number[],
    intervalMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  /** Stops sampling and returns the peak total in MiB. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peakMiB;
  }

  private sample(): void {
    let total = 0;
    for (const pid of this.members()) total += statusField(`/proc/${pid}/smaps_rollup`, 'Pss') ?? 0;
    this.peakMiB = Math.max(this.peakMiB, total);
  }
}

/** The process and all its descendants, found through the parent ids in /proc. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue; // it exited while the list was read
    }
    // The command name in parentheses may contain spaces; the parent id is the second field after it.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  for (let queue = [rootPid]; queue.length > 0; ) {
    const pid = queue.shift() as number;
    tree.push(pid);
    queue = queue.concat(children.get(pid) ?? []);
  }
  return tree;
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
