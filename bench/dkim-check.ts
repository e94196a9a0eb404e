import type { promises as dns } from 'node:dns';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';

/**
 * Verifies a delivered message's DKIM signatures against the keys published in DNS: null when one of `domain`
 * passes (dkim=pass), otherwise why not, in one line.
 */
export async function dkimFailure(raw: Buffer, domain: string, resolver: dns.Resolver): Promise<string | null> {
  const { results } = await dkimVerify(raw, { resolver: (name, type) => resolver.resolve(name, type) as Promise<string[][]> });
  const signatures = results.filter((result) => result.signingDomain);
  if (signatures.length === 0) return 'no DKIM-Signature';
  if (signatures.some((result) => result.signingDomain === domain && result.status.result === 'pass')) return null;
  const outcomes = signatures.map((result) => `d=${result.signingDomain} s=${result.selector} ${result.status.result}${result.status.comment ? ` (${result.status.comment})` : ''}`);
  return `no passing signature of ${domain}: ${outcomes.join(', ')}`;
}
