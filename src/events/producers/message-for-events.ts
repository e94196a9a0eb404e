import type { MessageMetadata, QueuedMessage } from '../../queue/queued-message.js';
import { mailEvent, type MessageForEvents } from '../event-builders.js';
import type { MailEvent } from '../mail-event.js';

/** The queue row's fields every producer has at hand. */
export interface StoredMessage {
  id: string;
  accountId: string;
  mailFrom: string;
  /** Milliseconds since the epoch. */
  receivedAt: number;
  metadata: MessageMetadata;
}

/**
 * What events need to know about a stored message. `recipients` stands in for the envelope recipients of rows queued
 * before the metadata kept them.
 */
export function messageForEvents(message: StoredMessage, recipients: readonly string[]): MessageForEvents {
  const { metadata } = message;
  return {
    id: message.id,
    accountId: message.accountId,
    mailFrom: message.mailFrom,
    receivedAt: message.receivedAt,
    recipients: metadata.recipients ?? recipients,
    configurationSet: metadata.configurationSet,
    tags: metadata.tags,
    sourceIp: metadata.sourceIp,
    sourceArn: metadata.sourceArn,
    callerIdentity: metadata.callerIdentity,
    originalHeaders: metadata.originalHeaders,
    headersTruncated: metadata.headersTruncated,
  };
}

/** Whether events are produced for the message: not for those the gateway composes itself (verification mail, feedback reports). */
export const producesEvents = (message: { metadata: MessageMetadata }): boolean => message.metadata.systemMessage === undefined;

/** SES's Send event: the message was accepted (its `at` is the acceptance time). */
export function sendEvent(message: QueuedMessage): MailEvent {
  const receivedAt = message.receivedAt.getTime();
  return mailEvent('Send', messageForEvents({ ...message, receivedAt }, message.recipients), receivedAt, {});
}
