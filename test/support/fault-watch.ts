import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/log/logger.js';

/** A logger whose records (parsed) land in `records`, for asserting what a component logged. */
export function capturingLogger(): { log: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { log: createLogger({ level: 'info' }, sink), records };
}

/** Collects the process's unhandled promise rejections until `stop()` (which returns them). */
export function watchUnhandledRejections(): { stop(): unknown[] } {
  const rejections: unknown[] = [];
  const listener = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', listener);
  return {
    stop() {
      process.off('unhandledRejection', listener);
      return rejections;
    },
  };
}
