import type { promises as dns } from 'node:dns';
import type { Identity, IdentityMailFrom, VerificationStatus } from '../store/identities.js';
import { verificationRecordName, verificationRecordValue } from './dns-records.js';
import { identityDomain } from './identity-name.js';

/** SES gives DNS changes 72 hours before a pending verification fails. */
export const VERIFICATION_WINDOW_MS = 72 * 3600_000;

/** What DNS said: the records are there, they are not, or it could not tell (SERVFAIL, timeout). */
export type DnsFinding = 'found' | 'missing' | 'unknown';

const ABSENT = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

async function txtValues(resolver: dns.Resolver, name: string): Promise<string[] | null> {
  try {
    return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
  } catch (error) {
    if (ABSENT.has((error as NodeJS.ErrnoException).code ?? '')) return [];
    return null;
  }
}

const compact = (value: string) => value.replace(/\s+/g, '');

/**
 * A domain is shown to be under the operator's control by its verification TXT record or by all of
 * its DKIM keys being published (the way SES verifies domains through DKIM).
 */
export async function findDomainProof(identity: Identity, resolver: dns.Resolver): Promise<DnsFinding> {
  const domain = identityDomain(identity.name);
  const token = await txtValues(resolver, verificationRecordName(domain));
  if (token?.includes(verificationRecordValue(identity.verificationToken))) return 'found';
  const keys = identity.dkim?.keys ?? [];
  const published = await Promise.all(
    keys.map(async (key) => {
      const values = await txtValues(resolver, `${key.selector}._domainkey.${domain}`);
      return values === null ? null : values.some((value) => compact(value).includes(`p=${key.publicKeyDnsValue}`));
    }),
  );
  if (keys.length > 0 && published.every((found) => found === true)) return 'found';
  return token === null || published.includes(null) ? 'unknown' : 'missing';
}

/**
 * A custom MAIL FROM domain needs exactly one MX record (SES's rule), pointing at the feedback host, and an SPF
 * record (without it, mail from that domain fails SPF and so DMARC's SPF alignment).
 */
export async function findMailFromMx(mailFrom: IdentityMailFrom, feedbackHost: string, resolver: dns.Resolver): Promise<DnsFinding> {
  let mxFound: boolean;
  try {
    const records = await resolver.resolveMx(mailFrom.domain);
    mxFound = records.length === 1 && records[0]?.exchange.toLowerCase().replace(/\.$/, '') === feedbackHost.toLowerCase();
  } catch (error) {
    if (!ABSENT.has((error as NodeJS.ErrnoException).code ?? '')) return 'unknown';
    mxFound = false;
  }
  if (!mxFound) return 'missing';
  const txt = await txtValues(resolver, mailFrom.domain);
  if (txt === null) return 'unknown';
  return txt.some((value) => /^v=spf1(\s|$)/i.test(value.trim())) ? 'found' : 'missing';
}

export interface StatusChange {
  status: VerificationStatus;
  pendingSince: Date | null;
}

/**
 * SES's verification states: Pending until found (Failed after 72 hours); Success until a re-check
 * finds the records gone (TemporaryFailure, with another 72 hours before Failed); an answer DNS could
 * not give changes nothing.
 */
export function nextStatus(current: VerificationStatus, pendingSince: Date | null, finding: DnsFinding, now: Date): StatusChange {
  if (finding === 'found') return { status: 'Success', pendingSince: null };
  const expired = (since: Date | null) => since !== null && now.getTime() - since.getTime() > VERIFICATION_WINDOW_MS;
  switch (current) {
    case 'Success':
      return finding === 'missing' ? { status: 'TemporaryFailure', pendingSince: now } : { status: 'Success', pendingSince: null };
    case 'Pending':
    case 'TemporaryFailure':
      return expired(pendingSince) ? { status: 'Failed', pendingSince: null } : { status: current, pendingSince: pendingSince ?? now };
    case 'Failed':
      return { status: 'Failed', pendingSince: null };
  }
}
