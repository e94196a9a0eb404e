import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import type { OptionReader } from './option-reader.js';

export interface HttpListenerConfig {
  host: string;
  port: number;
  /** HTTPS with the SMTP listeners' certificates (tls.*), or plain HTTP. */
  tls: boolean;
}

export interface HttpConfig {
  /** The SES API listeners (SigV4-authenticated). */
  listeners: HttpListenerConfig[];
  /** AES-256 key that encrypts the stored secret access keys; created (0600) on first use. */
  secretKeyFile: string;
  /** Where /metrics, /healthz and /readyz are served, without authentication; null turns it off. */
  metricsListen: { host: string; port: number } | null;
  /**
   * SNS topic ARNs that API callers may name as an event destination's SnsDestination.TopicArn, each with the event
   * target it stands for (https://…, file:…, amqp://…, redis://…?stream=…). Default: none.
   */
  snsTopics: Record<string, string>;
}

const SNS_TOPIC_ARN = /^arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

function readSnsTopics(reader: OptionReader): Record<string, string> {
  const value = reader.raw('snsTopics');
  if (value === undefined || value === null) return {};
  const option = reader.name('snsTopics');
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(option, 'must be a mapping of SNS topic ARN to event target');
  for (const [arn, target] of Object.entries(value)) {
    if (!SNS_TOPIC_ARN.test(arn)) throw new ConfigError(option, `"${arn}" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)`);
    if (typeof target !== 'string' || target.trim() === '') throw new ConfigError(`${option}.${arn}`, 'must be an event target (https://…, file:…, amqp://… or redis://…)');
  }
  return value as Record<string, string>;
}

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:=\s]+)):(\d{1,5})$/;

function parseHostPort(spec: string, option: string): { host: string; port: number } {
  const match = HOST_PORT.exec(spec.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new ConfigError(option, `"${spec}" is not HOST:PORT (for example 127.0.0.1:8080; port 0 picks a free port)`);
  const host = match[1] ?? match[2] ?? '';
  if (match[1] !== undefined && isIP(host) !== 6) throw new ConfigError(option, `"${host}" in brackets is not an IPv6 address`);
  return { host, port };
}

/** Parses `HOST:PORT=http` or `HOST:PORT=https`. */
export function parseHttpListenSpec(spec: string, option: string): HttpListenerConfig {
  const match = /^(.*)=(https?)$/i.exec(spec.trim());
  if (!match) throw new ConfigError(option, `"${spec}" is not HOST:PORT=http or HOST:PORT=https`);
  return { ...parseHostPort(match[1] ?? '', option), tls: match[2]?.toLowerCase() === 'https' };
}

export function formatHttpListener(listener: HttpListenerConfig): string {
  const host = isIP(listener.host) === 6 ? `[${listener.host}]` : listener.host;
  return `${host}:${listener.port}=${listener.tls ? 'https' : 'http'}`;
}

export function readHttpConfig(reader: OptionReader, dataDir: string): HttpConfig {
  const listeners = reader.stringList('listeners', ['127.0.0.1:8080=http']).map((spec, index) => parseHttpListenSpec(spec, reader.name(`listeners[${index}]`)));
  const secretKeyFile = reader.optionalString('secretKeyFile');
  const metrics = reader.raw('metricsListen');
  let metricsListen: HttpConfig['metricsListen'] = { host: '127.0.0.1', port: 9464 };
  if (metrics === null || metrics === false) metricsListen = null;
  else if (typeof metrics === 'string') metricsListen = parseHostPort(metrics, reader.name('metricsListen'));
  else if (metrics !== undefined) throw new ConfigError(reader.name('metricsListen'), 'must be HOST:PORT, or null to turn it off');
  const snsTopics = readSnsTopics(reader);
  reader.rejectUnknown();
  return { listeners, secretKeyFile: secretKeyFile ? resolve(secretKeyFile) : join(dataDir, 'secret.key'), metricsListen, snsTopics };
}
