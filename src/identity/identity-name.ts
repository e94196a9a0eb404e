import { domainToASCII } from 'node:url';
import type { IdentityType } from '../store/identities.js';

export class IdentityNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityNameError';
  }
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function normalizeDomain(domain: string, input: string): string {
  const ascii = domainToASCII(domain.replace(/\.$/, ''));
  const labels = ascii.split('.');
  if (!ascii || ascii.length > 253 || labels.length < 2 || !labels.every((label) => LABEL.test(label))) {
    throw new IdentityNameError(`"${input}" is not a valid domain name (labels of at most 63 letters, digits or hyphens, 253 characters in all)`);
  }
  return ascii;
}

/**
 * An identity's stored name: domains in lower-case ASCII (punycode), as DNS is case-insensitive;
 * email addresses with the local part as written — SES treats it as case-sensitive — and the
 * domain normalised like a domain identity.
 */
export function normalizeIdentityName(input: string): { name: string; type: IdentityType } {
  const value = input.trim();
  const at = value.lastIndexOf('@');
  if (at === -1) return { name: normalizeDomain(value, input), type: 'Domain' };
  const local = value.slice(0, at);
  if (!local || local.length > 64 || /[\s<>()[\]\\,;:"@]/.test(local) || /[^\x21-\x7e]/.test(local)) {
    throw new IdentityNameError(`"${input}" is not a valid email address (the local part must be 1-64 printable ASCII characters)`);
  }
  return { name: `${local}@${normalizeDomain(value.slice(at + 1), input)}`, type: 'EmailAddress' };
}

export const identityDomain = (name: string): string => name.slice(name.lastIndexOf('@') + 1);
