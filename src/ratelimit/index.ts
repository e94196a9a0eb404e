export type { AcquireDenied, AcquireRequest, AcquireResult, LimitReason, SendLimiter } from './send-limiter.js';
export { gcraDecide, gcraParameters, type GcraDecision, type GcraParameters } from './gcra.js';
export { GraceSendLimiter, type GraceSendLimiterOptions } from './grace-send-limiter.js';
export { LimiterUnavailableError } from './limiter-unavailable-error.js';
export { MemorySendLimiter } from './memory-send-limiter.js';
export { RedisSendLimiter, type RedisSendLimiterOptions } from './redis-send-limiter.js';
export { SqliteSendLimiter } from './sqlite-send-limiter.js';
