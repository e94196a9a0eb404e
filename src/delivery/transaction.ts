import type { ClaimedDelivery } from '../queue/delivery-records.js';
import type { PreparedMessage } from './prepared-message.js';
import type { SourceAddress } from './source-addresses.js';

/** Recipients of one message at one domain, sent in one SMTP transaction. */
export interface Transaction {
  message: PreparedMessage;
  domain: string;
  deliveries: ClaimedDelivery[];
  source: SourceAddress;
  /** The envelope sender: the return path, or '' for the null sender. */
  mailFrom: string;
}
