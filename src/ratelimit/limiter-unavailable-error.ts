/**
 * The shared limits (Redis) could not be asked, so the message can be neither allowed nor refused for its limits:
 * the caller answers with a temporary failure (SMTP 451, the HTTP API 500 InternalFailure) and the client sends again later. It is
 * never a reason to let the message through, which would let a fleet exceed the limits while Redis is away.
 */
export class LimiterUnavailableError extends Error {
  override readonly name = 'LimiterUnavailableError';

  constructor(cause: unknown) {
    super(`send limits unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
