import { StoreUnavailableError } from '../common/store-unavailable.js';

/**
 * The shared limits (Redis) could not be asked, so the message can be neither allowed nor refused for its limits:
 * like any unavailable shared store it is answered with a temporary failure (SMTP 451 4.3.0, HTTP 503) and the
 * client sends again later. Past cluster.redisGraceSeconds (GraceSendLimiter) it is never a reason to let the message
 * through, which would let a fleet exceed the limits while Redis is away.
 */
export class LimiterUnavailableError extends StoreUnavailableError {
  override readonly name = 'LimiterUnavailableError';

  constructor(cause: unknown) {
    super('send limits', cause);
  }
}
