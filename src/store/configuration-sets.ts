/** Configuration sets: groups of sending rules a message selects with X-SES-CONFIGURATION-SET. */

export type TlsPolicy = 'Require' | 'Optional';
export type SuppressionReason = 'BOUNCE' | 'COMPLAINT';

/** Names of configuration sets and of their event destinations: 1-64 letters, digits, '-' and '_'. */
export const CONFIGURATION_SET_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** SES's event types, as event destinations list them (MatchingEventTypes). */
export const EVENT_DESTINATION_TYPES: readonly string[] = ['SEND', 'REJECT', 'BOUNCE', 'COMPLAINT', 'DELIVERY', 'OPEN', 'CLICK', 'RENDERING_FAILURE', 'DELIVERY_DELAY', 'SUBSCRIPTION'];
/** SES allows this many event destinations in one configuration set. */
export const MAX_EVENT_DESTINATIONS = 10;

export interface EventDestination {
  name: string;
  enabled: boolean;
  /** SES event types, e.g. SEND, DELIVERY, BOUNCE, COMPLAINT, REJECT, DELIVERY_DELAY. */
  eventTypes: string[];
  /** Where events go (webhook URL, file path, …); used by the events layer. */
  target: string;
  /** Whether records carry the message's original headers (mail.headers, headersTruncated, commonHeaders); absent: true, as SES's records do. */
  includeOriginalHeaders?: boolean;
  /** When the destination was added (ms): it gets the events from then on. Absent (older sets): every event in the log. */
  createdAt?: number;
}

export interface ConfigurationSet {
  accountId: string;
  name: string;
  sendingEnabled: boolean;
  tlsPolicy: TlsPolicy;
  sendingPoolName: string | null;
  /** Reasons that add addresses to the account's suppression list for messages sent with this set; null: the account's. */
  suppressedReasons: SuppressionReason[] | null;
  eventDestinations: EventDestination[];
  createdAt: Date;
}

export type NewConfigurationSet = Omit<ConfigurationSet, 'createdAt'>;

export interface ConfigurationSetStore {
  create(set: NewConfigurationSet): Promise<ConfigurationSet>;
  get(accountId: string, name: string): Promise<ConfigurationSet | null>;
  list(accountId?: string): Promise<ConfigurationSet[]>;
  update(accountId: string, name: string, changes: Partial<Omit<ConfigurationSet, 'accountId' | 'name' | 'createdAt'>>): Promise<ConfigurationSet>;
  delete(accountId: string, name: string): Promise<boolean>;
}
