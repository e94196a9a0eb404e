import addressparser from 'nodemailer/lib/addressparser';
import type { HeaderFields } from './header-section.js';

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

/** The domain of an address (everything after the last '@'), lower case. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Mailbox-simulator addresses need no verification and do not count toward the daily quota. */
export const SIMULATOR_DOMAIN = 'simulator.amazonses.com';

export const isSimulatorAddress = (address: string): boolean => domainOf(address) === SIMULATOR_DOMAIN;
