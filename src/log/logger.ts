import { pino, type Logger } from 'pino';
import type { LogConfig } from '../config/schema.js';

/** Structured JSON logs on stdout; credentials are redacted even if a caller logs them by mistake. */
export function createLogger(config: LogConfig, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level: config.level,
      base: { service: 'relaygate' },
      redact: { paths: ['password', '*.password', 'secretAccessKey', '*.secretAccessKey', 'smtpPassword', '*.smtpPassword'], censor: '[redacted]' },
    },
    destination as pino.DestinationStream | undefined,
  );
}

export type { Logger };
