import { withoutHeaders } from './event-builders.js';
import type { MailEvent, MailEventType } from './mail-event.js';
import type { OutboundRecord } from './destinations/transport.js';

/** The event types of a configuration set's event destination (SES's API enum), and the MailEvent type of each. */
export const DESTINATION_EVENT_TYPES: Readonly<Record<string, MailEventType>> = {
  SEND: 'Send',
  REJECT: 'Reject',
  DELIVERY: 'Delivery',
  BOUNCE: 'Bounce',
  COMPLAINT: 'Complaint',
  DELIVERY_DELAY: 'DeliveryDelay',
};

/** The key of each type's object in SES's records (lowerCamel, `deliveryDelay` at the top level). */
const DETAIL_KEYS: Readonly<Record<MailEventType, string>> = {
  Send: 'send',
  Reject: 'reject',
  Delivery: 'delivery',
  Bounce: 'bounce',
  Complaint: 'complaint',
  DeliveryDelay: 'deliveryDelay',
};

/** The SNS Subject SES gives event-publishing notifications. */
export const EVENT_SUBJECT = 'Amazon SES Email Event Notification';

/** Identity notifications are the older mechanism: these three types only. */
export type NotificationType = 'Bounce' | 'Complaint' | 'Delivery';
export const NOTIFICATION_TYPES: readonly NotificationType[] = ['Bounce', 'Complaint', 'Delivery'];

export const isNotificationType = (type: MailEventType): type is NotificationType => (NOTIFICATION_TYPES as readonly string[]).includes(type);

/** Whether an event destination that matches `eventTypes` (SES enum names, e.g. DELIVERY_DELAY) takes the event. */
export const destinationTakes = (eventTypes: readonly string[], event: MailEvent): boolean =>
  eventTypes.some((name) => DESTINATION_EVENT_TYPES[name] === event.type);

/** The event-publishing record: `{ eventType, mail, <type> }`, exactly as SES publishes it to SNS and Firehose. */
export function eventRecord(event: MailEvent, includeHeaders: boolean): Record<string, unknown> {
  return { eventType: event.type, mail: includeHeaders ? event.mail : withoutHeaders(event.mail), [DETAIL_KEYS[event.type]]: event.detail };
}

/**
 * The identity notification: `{ notificationType, <type>, mail }`, in the key order of the guide's examples (bounce
 * and complaint before mail, delivery after). Without "include original headers" the mail object has no
 * headersTruncated, headers or commonHeaders.
 */
export function notificationRecord(event: MailEvent & { type: NotificationType }, includeHeaders: boolean): Record<string, unknown> {
  const mail = includeHeaders ? event.mail : withoutHeaders(event.mail);
  const key = DETAIL_KEYS[event.type];
  return event.type === 'Delivery'
    ? { notificationType: event.type, mail, [key]: event.detail }
    : { notificationType: event.type, [key]: event.detail, mail };
}

/** The record on its way out: its JSON text, with the event's id for de-duplication. */
export const outboundRecord = (event: MailEvent, record: Record<string, unknown>, subject: string): OutboundRecord => ({
  id: event.id,
  messageId: event.messageId,
  subject,
  body: JSON.stringify(record),
  at: event.at,
});
