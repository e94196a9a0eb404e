import type { MessageForEvents } from '../events/event-builders.js';
import type { MailEvent } from '../events/mail-event.js';
import type { DeliveryState } from './delivery-records.js';

/** The delivery a return path names (the first recipient of one transaction). */
export interface ReturnPathDelivery {
  id: number;
  messageId: string;
  recipient: string;
  domain: string;
  state: DeliveryState;
  /** The message's recipients at that domain, the transaction's among them (a transaction never spans domains). */
  domainRecipients: string[];
}

/** A bounce that came back after the delivery was accepted, to note on the recipient's row. */
export interface LateBounce {
  messageId: string;
  recipient: string;
  bounceType: string;
  bounceSubType: string;
  category: string;
}

export interface FeedbackBatch {
  events: MailEvent[];
  bounces: LateBounce[];
}

/** What feedback intake reads and writes in the queue: return paths' deliveries, their messages, and late bounces. */
export interface FeedbackRecords {
  delivery(id: number): ReturnPathDelivery | null;
  /** The message as events describe it (every recipient, the metadata kept at acceptance), or null when unknown. */
  message(id: string): MessageForEvents | null;
  /** Appends the events and notes the bounces on delivered rows, in one transaction; durable when it returns. */
  record(batch: FeedbackBatch): void;
}
