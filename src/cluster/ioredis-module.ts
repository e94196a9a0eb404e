import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let loaded: typeof import('ioredis') | null = null;

/**
 * ioredis, loaded when the first Redis connection is made rather than by every process whose code could make one:
 * it takes about 2.5 MB of a process's heap, for nothing on a node without Redis. Loaded synchronously (it is a
 * CommonJS package), so that connecting stays synchronous for the callers.
 */
export function ioredis(): typeof import('ioredis') {
  return (loaded ??= require('ioredis') as typeof import('ioredis'));
}
