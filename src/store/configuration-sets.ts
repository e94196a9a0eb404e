/** Configuration sets: groups of sending rules a message selects with X-SES-CONFIGURATION-SET. */

export type TlsPolicy = 'Require' | 'Optional';
export type SuppressionReason = 'BOUNCE' | 'COMPLAINT';

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
