import type { MtaStsMode } from './mta-sts-checker.js';

export interface PublishedPolicy {
  mode: MtaStsMode;
  /** MX patterns in the order first published, lower-cased, each once. */
  mx: string[];
  maxAge: number;
}

/** RFC 8461 §3.2: max_age is at most 31557600 seconds (about a year). */
const MAX_AGE_LIMIT_S = 31_557_600;
const MODES: ReadonlySet<string> = new Set<MtaStsMode>(['enforce', 'testing', 'none']);

/**
 * Parses an mta-sts.txt policy body (RFC 8461 §3.2) in one pass: the text comes from any recipient domain's web
 * server, so repeated `mx` lines are collapsed through a Set rather than a list search. Throws on a policy that
 * RFC 8461 says to ignore (wrong version, unknown mode, bad max_age, no mx outside mode none).
 */
export function parsePolicyText(text: string): PublishedPolicy {
  let version: string | undefined;
  let mode: string | undefined;
  let maxAge: number | undefined;
  const mx = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'version') version = value;
    else if (key === 'mode') mode = value.toLowerCase();
    else if (key === 'max_age') maxAge = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
    else if (key === 'mx') mx.add(value.toLowerCase());
  }
  if (version !== 'STSv1') throw new Error('MTA-STS policy: version is not STSv1');
  if (mode === undefined || !MODES.has(mode)) throw new Error('MTA-STS policy: mode is not enforce, testing or none');
  if (maxAge === undefined || !(maxAge <= MAX_AGE_LIMIT_S)) throw new Error('MTA-STS policy: max_age is missing or out of range');
  if (mode !== 'none' && mx.size === 0) throw new Error('MTA-STS policy: no mx lines');
  return { mode: mode as MtaStsMode, mx: [...mx], maxAge };
}
