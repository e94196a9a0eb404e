import { fileURLToPath } from 'node:url';
import { JsonLinesTransport, type FileRotation } from './json-lines-transport.js';
import { createAmqpTransport, parseAmqpTarget } from './amqp-transport.js';
import { createRedisStreamTransport, parseRedisStreamTarget } from './redis-stream-transport.js';
import type { Transport } from './transport.js';
import { BATCH_SIZE_PARAMETER, MAX_BATCH_SIZE, WebhookTransport, type WebhookChannel, type WebhookOptions } from './webhook-transport.js';
import { urlWithoutPassword } from '../../common/url-without-password.js';

/** What the transports need besides the target: the webhook's signer and limits, the file's rotation. */
export interface TransportContext {
  webhook: WebhookOptions;
  file: FileRotation;
}

/** A target string an operator gave that no transport can take. */
export class TargetError extends Error {
  constructor(target: string, problem: string) {
    super(`event target ${describeTarget(target)}: ${problem}`);
    this.name = 'TargetError';
  }
}

/**
 * The transport for a destination's target, by scheme: `https://…`/`http://…` webhook (SNS envelope),
 * `file:/path/events.jsonl` (JSON lines), `amqp://…` (RabbitMQ), `redis://…` (a Redis stream).
 */
export function createTransport(target: string, channel: WebhookChannel, context: TransportContext): Transport {
  checkTarget(target);
  const url = new URL(target);
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return new WebhookTransport(url, channel, context.webhook);
    case 'file:':
      return new JsonLinesTransport(fileURLToPath(url), context.file);
    case 'amqp:':
    case 'amqps:':
      return createAmqpTransport(url);
    default:
      return createRedisStreamTransport(url);
  }
}

const SCHEMES = ['http:', 'https:', 'file:', 'amqp:', 'amqps:', 'redis:', 'rediss:'];

/** Checks a target an operator gives (the CLI does, before storing it); throws a TargetError naming the problem. */
export function checkTarget(target: string): void {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new TargetError(target, 'not a URL (use https://…, http://…, file:/path, amqp://… or redis://…)');
  }
  if (!SCHEMES.includes(url.protocol)) throw new TargetError(target, `unsupported scheme "${url.protocol}" (use https://…, http://…, file:/path, amqp://… or redis://…)`);
  const batch = url.searchParams.get(BATCH_SIZE_PARAMETER);
  if ((url.protocol === 'http:' || url.protocol === 'https:') && batch !== null && !(Number.isInteger(Number(batch)) && Number(batch) >= 1 && Number(batch) <= MAX_BATCH_SIZE)) {
    throw new TargetError(target, `${BATCH_SIZE_PARAMETER} must be a whole number from 1 to ${MAX_BATCH_SIZE}`);
  }
  try {
    if (url.protocol === 'amqp:' || url.protocol === 'amqps:') parseAmqpTarget(url);
    if (url.protocol === 'redis:' || url.protocol === 'rediss:') parseRedisStreamTarget(url);
  } catch (error) {
    throw new TargetError(target, (error as Error).message);
  }
}

/** The target as it may appear in logs and listings: without a password. */
export const describeTarget = urlWithoutPassword;
