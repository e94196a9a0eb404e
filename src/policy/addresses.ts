import addressparser from 'nodemailer/lib/addressparser';
import type { HeaderFields } from '../message/header-section.js';

export interface Mailbox {
  address: string;
  displayName: string;
}

/** The mailboxes of an address header (groups flattened); empty when the header is absent or unparsable. */
export function headerMailboxes(headers: HeaderFields, name: string): Mailbox[] {
  const value = headers.first(name);
  if (value === undefined) return [];
  return addressparser(value, { flatten: true })
    .filter((entry) => entry.address)
    .map((entry) => ({ address: entry.address, displayName: entry.name }));
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * The names an address can be verified under, most specific first: the address without its
 * `+label` (local part as written; the domain is case-insensitive), then its domain and each parent.
 */
export function identityCandidates(address: string): string[] {
  const at = address.lastIndexOf('@');
  const domain = domainOf(address);
  const candidates: string[] = [];
  if (at > 0) candidates.push(`${address.slice(0, at).replace(/\+.*$/, '')}@${domain}`);
  const labels = domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) candidates.push(labels.slice(i).join('.'));
  return candidates;
}

/** Mailbox-simulator addresses need no verification and do not count toward the daily quota. */
export const SIMULATOR_DOMAIN = 'simulator.amazonses.com';

export const isSimulatorAddress = (address: string): boolean => domainOf(address) === SIMULATOR_DOMAIN;
