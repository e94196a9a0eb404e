/**
 * Conversions between the text values written in a policy, the values callers put in a request
 * context, and the types the condition operators compare. Every parser answers `undefined` for text
 * it does not accept, so a policy can be rejected up front and a bad request value simply fails to match.
 */
import { isIP } from 'node:net';

/** One value of a request context key. */
export type ContextScalar = string | number | boolean | Date;

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const EPOCH_SECONDS = /^-?\d+(?:\.\d+)?$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseNumber(text: string): number | undefined {
  return DECIMAL.test(text.trim()) ? Number(text) : undefined;
}

/** Milliseconds since the epoch, from ISO 8601 (`2018-08-31T12:00Z`, `2019-07-30`) or epoch seconds. */
export function parseDateMillis(text: string): number | undefined {
  const trimmed = text.trim();
  if (EPOCH_SECONDS.test(trimmed)) return Number(trimmed) * 1000;
  const parts = ISO_8601.exec(trimmed);
  if (!parts) return undefined;
  const [, year, month, day, hour, , , zone] = parts;
  if (!isCalendarDate(Number(year), Number(month), Number(day))) return undefined;
  // A date-time without an offset is UTC in IAM, but JavaScript would read it as local time.
  let normalised = trimmed;
  if (hour !== undefined && zone === undefined) normalised += 'Z';
  else if (zone !== undefined && zone !== 'Z' && !zone.includes(':')) normalised = trimmed.slice(0, -2) + ':' + trimmed.slice(-2);
  const millis = Date.parse(normalised);
  return Number.isNaN(millis) ? undefined : millis;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function parseBool(text: string): boolean | undefined {
  const lower = text.trim().toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

export interface IpBlock {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `ADDRESS/PREFIX`, or a bare address meaning that one host. */
export function parseIpBlock(text: string): IpBlock | undefined {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const maxPrefix = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? maxPrefix : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= maxPrefix)) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export function contextText(value: ContextScalar): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

/** Dates count as epoch seconds, so `aws:EpochTime` may be given as a Date. */
export function contextNumber(value: ContextScalar): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.getTime() / 1000;
  return typeof value === 'string' ? parseNumber(value) : undefined;
}

export function contextMillis(value: ContextScalar): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value * 1000;
  return typeof value === 'string' ? parseDateMillis(value) : undefined;
}

export function contextBool(value: ContextScalar): boolean | undefined {
  if (typeof value === 'boolean') return value;
  return typeof value === 'string' ? parseBool(value) : undefined;
}
