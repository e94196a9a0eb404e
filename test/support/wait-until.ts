import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `condition` until it holds. Past `timeoutMs` it throws, naming `what` was awaited, so a test whose condition
 * never comes fails instead of hanging.
 */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 20_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await sleep(intervalMs);
  }
}
