import { DkimError } from './dkim-error.js';
import type { DkimPublicKey } from './keys.js';

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'i');

/** The TXT value to publish, e.g. "v=DKIM1; k=rsa; p=MIIB...". RSA-2048 values exceed 255 bytes, so zone files split them. */
export function dkimTxtRecord(key: DkimPublicKey): string {
  const keyType = key.algorithm === 'ed25519-sha256' ? 'ed25519' : 'rsa';
  return `v=DKIM1; k=${keyType}; p=${key.publicKeyDnsValue}`;
}

export function dkimRecordName(selector: string, domain: string): string {
  checkDkimNames(selector, domain);
  return `${selector}._domainkey.${domain}`.toLowerCase();
}

/** Selector and domain end up in DNS names and in the DKIM-Signature header, so only hostname syntax is allowed. */
export function checkDkimNames(selector: string, domain: string): void {
  if (!DOMAIN_NAME.test(selector)) throw new DkimError(`DKIM selector "${selector}" is not valid: use letters, digits and hyphens (dot-separated labels)`);
  if (!DOMAIN_NAME.test(domain) || !domain.includes('.')) {
    throw new DkimError(`DKIM signing domain "${domain}" is not a valid domain name (write internationalised names in their xn-- form)`);
  }
}
