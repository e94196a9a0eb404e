import { describe } from 'node:test';
import { MemorySendLimiter } from '../../../src/ratelimit/index.js';
import { sendLimiterBehaviour } from './send-limiter-behaviour.js';

describe('MemorySendLimiter', () => {
  sendLimiterBehaviour(() => new MemorySendLimiter());
});
