import type { Redis } from 'ioredis';

/** Statuses of a connection attempt under way (the first, or one of the reconnections). */
const FIRST_CONNECT = new Set(['connecting', 'connect']);

/**
 * Waits, at most `timeoutMs`, while a connection attempt is under way. A connection made with enableOfflineQueue off
 * refuses commands until it is ready, so the first command of a process (a CLI command, the first message after
 * start) would fail although Redis is there. Between attempts, while Redis is away, it returns at once. Never
 * rejects: the command that follows reports any failure.
 */
export async function untilConnectAttemptEnds(redis: Redis, timeoutMs: number): Promise<void> {
  if (!FIRST_CONNECT.has(redis.status)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const event of ['ready', 'error', 'end'] as const) redis.off(event, done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    for (const event of ['ready', 'error', 'end'] as const) redis.once(event, done);
  });
}
