import { setTimeout as sleep } from 'node:timers/promises';
import { gcraDecide } from '../ratelimit/gcra.js';

/** Messages spaced evenly at a rate, with no burst (GCRA without tolerance), kept in this process. */
export class MessagePace {
  private tat: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Waits until the next message may start at `perSecond` messages per second (0 or less: at once). */
  async wait(perSecond: number): Promise<void> {
    if (perSecond <= 0) return;
    for (;;) {
      const decision = gcraDecide(this.tat, this.now(), 1000 / perSecond, 0, 1);
      if (decision.allowed) {
        this.tat = decision.tat;
        return;
      }
      await sleep(decision.retryAfterMs);
    }
  }
}
