import { domainToASCII } from 'node:url';

/**
 * smtp-server turns punycode domains into Unicode; the gateway keeps envelopes in their 7-bit
 * form (as SES requires) so identities, queues and the next hop all see `xn--` labels.
 */
export function asciiAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at === -1) return address;
  const domain = address.slice(at + 1);
  if (domain.startsWith('[')) return address;
  return `${address.slice(0, at)}@${domainToASCII(domain) || domain}`;
}

/**
 * What makes two envelope recipients the same one: the local part exactly (local parts are
 * case-sensitive, as SES documents) and the domain in any case.
 */
export function recipientKey(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? address : `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
}
