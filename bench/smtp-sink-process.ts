import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { findExecutable } from './required-tools.js';
import { stopChild } from './stop-child.js';
import { freePort, waitUntilListening } from './tcp-port.js';

export interface Arrivals {
  /** Messages received since the sink started. */
  count: number;
  /** performance.now() when the count last changed. */
  lastArrivalAt: number;
}

export interface SmtpSink {
  host: string;
  port: number;
  arrivals(): Arrivals;
  /**
   * Resolves when `target` messages in all have arrived, or when none has arrived for `idleTimeoutMs` (then with
   * the count so far). `reachedAt` is when the target was reached, null when it was not.
   */
  waitForCount(target: number, idleTimeoutMs: number): Promise<{ count: number; reachedAt: number | null }>;
  stop(): Promise<void>;
}

/**
 * Postfix's smtp-sink as the MX both MTAs deliver to: it accepts everything and throws it away, fast enough (tens of
 * thousands of messages per second) never to be what is measured. With -c it prints its counters after every
 * message ("sess=3 quit=2 mesg=41\r"), which tells exactly when the last message has arrived.
 */
export async function startSmtpSink(host: string): Promise<SmtpSink> {
  const port = await freePort(host);
  // smtp-sink refuses to run as root without -u; it drops to that user after binding.
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = spawn(findExecutable('smtp-sink') ?? 'smtp-sink', [...user, '-c', `${host}:${port}`, '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const arrivals: Arrivals = { count: 0, lastArrivalAt: performance.now() };
  const listeners = new Set<() => void>();
  let pending = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (chunk: string) => {
    const updates = (pending + chunk).split('\r');
    pending = updates.pop() ?? '';
    const last = updates[updates.length - 1];
    const count = last === undefined ? NaN : Number(/mesg=(\d+)/.exec(last)?.[1]);
    if (!(count > arrivals.count)) return;
    arrivals.count = count;
    arrivals.lastArrivalAt = performance.now();
    for (const listener of listeners) listener();
  });
  let failure: Error | null = null;
  child.once('error', (error) => (failure ??= error));
  child.once('exit', (code, signal) => (failure ??= new Error(`smtp-sink exited (${signal ?? code}): ${stderr.trim()}`)));

  await waitUntilListening(host, port, 'smtp-sink', () => {
    if (failure) throw failure;
  });

  return {
    host,
    port,
    arrivals: () => ({ ...arrivals }),
    waitForCount(target, idleTimeoutMs) {
      const waitingSince = performance.now();
      return new Promise((resolve) => {
        const check = () => {
          if (arrivals.count >= target) finish(arrivals.lastArrivalAt);
          else if (performance.now() - Math.max(arrivals.lastArrivalAt, waitingSince) >= idleTimeoutMs || failure) finish(null);
        };
        const timer = setInterval(check, 200);
        const finish = (reachedAt: number | null) => {
          clearInterval(timer);
          listeners.delete(check);
          resolve({ count: arrivals.count, reachedAt });
        };
        listeners.add(check);
        check();
      });
    },
    stop: () => stopChild(child),
  };
}
