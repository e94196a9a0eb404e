import type { AcquireRequest, AcquireResult, SendLimiter } from './send-limiter.js';

/**
 * A send limiter that reports how long each message's check took (`observe`, in seconds), failures included: in
 * cluster mode it is the Redis round trip every submission waits for before its 250.
 */
export function timedSendLimiter(limiter: SendLimiter, observe: (seconds: number) => void): SendLimiter {
  return {
    async acquire(request: AcquireRequest): Promise<AcquireResult> {
      const started = process.hrtime.bigint();
      try {
        return await limiter.acquire(request);
      } finally {
        observe(Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
    sentLast24Hours: (key, now) => limiter.sentLast24Hours(key, now),
    close: () => limiter.close(),
  };
}
