import { pino, type Logger } from 'pino';
import type { LogConfig } from '../config/schema.js';
import { redactSecrets } from './redact-secrets.js';

/** Structured JSON logs on stdout; credentials are redacted even if a caller logs them by mistake. */
export function createLogger(config: LogConfig, destination?: NodeJS.WritableStream): Logger {
  const logger = pino(
    { level: config.level, base: { service: 'relaygate' }, formatters: { log: redactSecrets } },
    destination as pino.DestinationStream | undefined,
  );
  // pino gives a child's bindings to no formatter; every child (of a child too) inherits this method from the root.
  const pinoChild = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return pinoChild.call(this, redactSecrets(bindings), options);
  } as Logger['child'];
  return logger;
}

export type { Logger };
