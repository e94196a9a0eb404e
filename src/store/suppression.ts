import type { ConfigurationSet, SuppressionReason } from './configuration-sets.js';

/** One address on an account's suppression list (SES's SuppressedDestination). */
export interface SuppressedDestination {
  accountId: string;
  /** Stored in lower case: a suppressed address stays suppressed whatever case a later message uses. */
  emailAddress: string;
  reason: SuppressionReason;
  lastUpdateTime: Date;
  /** The message and feedback (bounce or complaint) that added it; null when an operator or an import did. */
  messageId: string | null;
  feedbackId: string | null;
}

export interface SuppressionListFilter {
  reasons?: SuppressionReason[];
  /** Only entries updated after this time. */
  startDate?: Date;
  /** Only entries updated before this time. */
  endDate?: Date;
  pageSize?: number;
  /** The token of the previous page's last entry. */
  nextToken?: string;
}

export interface SuppressionPage {
  entries: SuppressedDestination[];
  /** Present when more entries follow. */
  nextToken?: string;
}

/** Reasons that add addresses automatically when the account has not chosen (SES's default for new accounts). */
export const DEFAULT_SUPPRESSED_REASONS: readonly SuppressionReason[] = ['BOUNCE', 'COMPLAINT'];

/** The account-level suppression list and each account's suppression attributes. */
export interface SuppressionStore {
  /** Adds or updates entries (one transaction); returns how many were written. */
  put(entries: ReadonlyArray<Omit<SuppressedDestination, 'lastUpdateTime'> & { lastUpdateTime?: Date }>): Promise<number>;
  get(accountId: string, emailAddress: string): Promise<SuppressedDestination | null>;
  /** Removes the addresses (one transaction); returns how many were on the list. */
  delete(accountId: string, emailAddresses: readonly string[]): Promise<number>;
  /** Entries by last update time, newest first, a page at a time. */
  list(accountId: string, filter?: SuppressionListFilter): Promise<SuppressionPage>;
  /** Which of the addresses are on the account's list (as given, not lower-cased). */
  suppressed(accountId: string, emailAddresses: readonly string[]): Promise<Set<string>>;
  /** The reasons that add addresses automatically for the account. */
  reasons(accountId: string): Promise<SuppressionReason[]>;
  setReasons(accountId: string, reasons: readonly SuppressionReason[]): Promise<void>;
}

/** The suppression list's key for an address. */
export const suppressionKey = (emailAddress: string): string => emailAddress.trim().toLowerCase();

/**
 * The reasons that apply to mail of an account sent with a configuration set: the set's own when it has them (an
 * empty list turns the list off for it), else the account's. No reasons: the list neither grows nor blocks.
 */
export async function effectiveSuppressedReasons(suppression: SuppressionStore, accountId: string, set: Pick<ConfigurationSet, 'suppressedReasons'> | null): Promise<SuppressionReason[]> {
  return set?.suppressedReasons ?? suppression.reasons(accountId);
}
