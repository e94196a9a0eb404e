import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { submissionTargets, type MtaUnderTest } from './mta-under-test.js';
import { treePeakRssMiB, treePssMiB, TreeMemorySampler } from './process-memory.js';
import { processTree } from './process-tree.js';
import { SmtpClientSession, type SessionTarget } from './smtp-client-session.js';

export interface IdleSessionsResult {
  mta: string;
  /** Sessions asked for, and those that completed STARTTLS + AUTH. */
  sessions: number;
  opened: number;
  /** Why the others could not be opened, by error. */
  failures: Record<string, number>;
  /** The relay's total Pss before the sessions were opened. */
  baselinePssMiB: number;
  /** Its total Pss with every session open and idle for a second. */
  pssMiB: number;
  /** The largest total Pss sampled (every 500 ms) while the sessions were opened and held. */
  peakPssMiB: number;
  /** The sum of the processes' resident-set high-water marks (VmHWM), reset just before the sessions were opened. */
  peakRssMiB: number;
}

/** Handshakes in flight at once: enough to open a thousand sessions in seconds, few enough not to hit handshake timeouts. */
const OPEN_CONCURRENCY = 50;
/** Lets the relay settle (buffers released, a collection run) before the memory is read. */
const SETTLE_MS = 1000;

/** Opens `count` sessions (STARTTLS + AUTH) to the MTA, holds them idle, and reads what the relay's processes occupy. */
export async function measureIdleSessions(mta: MtaUnderTest, count: number): Promise<IdleSessionsResult> {
  const roots = mta.processRoots();
  const baselinePssMiB = treePssMiB(roots);
  resetPeakRss(roots);
  const sampler = new TreeMemorySampler(roots);
  const targets = submissionTargets(mta);
  const sessions: SmtpClientSession[] = [];
  const failures: Record<string, number> = {};
  let next = 0;
  const opener = async () => {
    while (next < count) {
      const target = targets[next++ % targets.length] as SessionTarget;
      try {
        sessions.push(await SmtpClientSession.open(target));
      } catch (error) {
        const reason = (error as Error).message;
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, opener));
    await sleep(SETTLE_MS);
    return {
      mta: mta.name,
      sessions: count,
      opened: sessions.length,
      failures,
      baselinePssMiB,
      pssMiB: treePssMiB(roots),
      peakPssMiB: await sampler.stop(),
      peakRssMiB: treePeakRssMiB(roots),
    };
  } finally {
    await sampler.stop().catch(() => undefined);
    await Promise.all(sessions.map((session) => session.quit().catch(() => session.destroy())));
  }
}

/** Writing 5 to clear_refs resets a process's VmHWM to its current resident set (Linux 4.0+; needs the right to ptrace it). */
function resetPeakRss(roots: number[]): void {
  for (const pid of processTree(...roots)) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // not allowed or gone: its VmHWM then covers its whole life
    }
  }
}
