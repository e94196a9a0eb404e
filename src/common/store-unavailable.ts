/**
 * A shared store the gateway depends on (the cluster's Redis behind the control store, the send limiter or the
 * destination shaping) could not be reached or could not answer now. It is not the request's fault and it passes:
 * submissions are answered with a temporary failure (SMTP `451 4.3.0 Temporary service failure`, HTTP 503
 * ServiceUnavailable) so that clients retry; mail already accepted is on the node's own disk and unaffected.
 */
export class StoreUnavailableError extends Error {
  constructor(
    /** What could not be reached, for logs: "control store", "send limiter", … */
    readonly store: string,
    cause?: unknown,
  ) {
    super(`${store} unavailable${cause instanceof Error ? `: ${cause.message}` : ''}`, cause === undefined ? undefined : { cause });
    this.name = 'StoreUnavailableError';
  }
}
