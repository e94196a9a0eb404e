import { isIP } from 'node:net';
import { ConfigError } from './config-error.js';
import type { OptionReader } from './option-reader.js';

/** Event destinations (configuration sets) and identity notifications: how records are sent and signed. */
export interface EventsConfig {
  /** HOST:PORT of the small HTTP(S) listener serving the certificate that webhook signatures verify with (SigningCertURL); port 0 picks a free one. */
  httpListen: { host: string; port: number };
  /** Serve it over HTTPS with the gateway's TLS certificate (SNS subscriber libraries accept only https certificate URLs). */
  httpTls: boolean;
  /** Base of SigningCertURL and UnsubscribeURL as subscribers reach the listener; null: http(s)://HOST:PORT/ of httpListen (smtp.hostname for 0.0.0.0/::). */
  certificateUrlBase: string | null;
  /** Besides being woken by this process's commits, destinations look for new events this often (events appended by other processes, retries). */
  pollMs: number;
  /** Events a destination reads and sends at once (the most records in flight per destination). */
  batchSize: number;
  /** Webhook requests in flight at once per destination (records of one message always go one after another). */
  webhookConcurrency: number;
  /** A webhook request without an answer after this long has failed. */
  requestTimeoutMs: number;
  /** Delay after a failed send; it doubles after each further failure up to maxDelayMs (plus or minus 20 % jitter). */
  retry: { firstDelayMs: number; maxDelayMs: number };
  /** JSON-lines files: renamed to .1 (… .keep) when they would grow past maxBytes. */
  file: { maxBytes: number; keep: number };
  /** Events every consumer has passed are removed from the log once they are this old. */
  retentionHours: number;
}

export function readEventsConfig(reader: OptionReader): EventsConfig {
  const listen = reader.string('httpListen', '127.0.0.1:8081');
  const match = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(listen.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535 || (match[1] !== undefined && isIP(match[1]) !== 6)) {
    throw new ConfigError(reader.name('httpListen'), `"${listen}" is not HOST:PORT (for example 127.0.0.1:8081 or [::1]:8081)`);
  }
  const certificateUrlBase = reader.optionalString('certificateUrlBase');
  if (certificateUrlBase !== null && !/^https?:\/\/[^/\s]+\/(\S*\/)?$/.test(certificateUrlBase)) {
    throw new ConfigError(reader.name('certificateUrlBase'), `"${certificateUrlBase}" must be an http:// or https:// URL ending in "/"`);
  }
  const retryReader = reader.child('retry');
  const retry = { firstDelayMs: retryReader.integer('firstDelayMs', 1000, 10, 3_600_000), maxDelayMs: retryReader.integer('maxDelayMs', 60_000, 10, 3_600_000) };
  if (retry.maxDelayMs < retry.firstDelayMs) throw new ConfigError(retryReader.name('maxDelayMs'), 'must not be less than firstDelayMs');
  retryReader.rejectUnknown();
  const fileReader = reader.child('file');
  const file = { maxBytes: fileReader.integer('maxBytes', 100 * 1024 * 1024, 1024, 2 ** 40), keep: fileReader.integer('keep', 5, 0, 1000) };
  fileReader.rejectUnknown();
  const config: EventsConfig = {
    httpListen: { host: match[1] ?? match[2] ?? '', port },
    httpTls: reader.boolean('httpTls', false),
    certificateUrlBase,
    pollMs: reader.integer('pollMs', 1000, 10, 600_000),
    batchSize: reader.integer('batchSize', 500, 1, 10_000),
    webhookConcurrency: reader.integer('webhookConcurrency', 8, 1, 256),
    requestTimeoutMs: reader.integer('requestTimeoutMs', 15_000, 100, 600_000),
    retry,
    file,
    retentionHours: reader.integer('retentionHours', 72, 1, 24 * 365),
  };
  reader.rejectUnknown();
  return config;
}
