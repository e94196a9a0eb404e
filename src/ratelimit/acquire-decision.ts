import { gcraDecide, gcraParameters } from './gcra.js';
import type { AcquireDenied, AcquireRequest } from './send-limiter.js';

/** On success, the TAT to store (undefined when the rate is unlimited and there is nothing to store). */
export type AcquireDecision = { ok: true; tat: number | undefined } | AcquireDenied;

/** The quota-then-rate decision of `SendLimiter.acquire`, given what the store holds for the key. */
export function decideAcquire(
  request: AcquireRequest,
  now: number,
  sentLast24h: number,
  tat: number | undefined,
): AcquireDecision {
  assertValidRequest(request);
  if (request.max24HourSend !== -1 && sentLast24h + request.quotaRecipients > request.max24HourSend) {
    return { ok: false, reason: 'quota' };
  }
  if (request.maxSendRate <= 0) return { ok: true, tat: undefined };
  const { emissionMs, burstToleranceMs } = gcraParameters(request.maxSendRate, request.burst);
  const rate = gcraDecide(tat, now, emissionMs, burstToleranceMs, request.rateRecipients);
  if (!rate.allowed) return { ok: false, reason: 'rate', retryAfterMs: rate.retryAfterMs };
  return { ok: true, tat: rate.tat };
}

/** Bad limits would silently disable a check (NaN compares false), so they are refused loudly (RangeError). */
export function assertValidRequest(request: AcquireRequest): void {
  const counts = { rateRecipients: request.rateRecipients, quotaRecipients: request.quotaRecipients };
  for (const [name, value] of Object.entries(counts)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
  if (!Number.isFinite(request.maxSendRate)) throw new RangeError(`maxSendRate must be finite, got ${request.maxSendRate}`);
  if (!Number.isSafeInteger(request.max24HourSend) || request.max24HourSend < -1) {
    throw new RangeError(`max24HourSend must be an integer >= -1, got ${request.max24HourSend}`);
  }
  if (request.burst !== undefined && (!Number.isSafeInteger(request.burst) || request.burst < 1)) {
    throw new RangeError(`burst must be a positive integer, got ${request.burst}`);
  }
}
