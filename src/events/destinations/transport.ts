/**
 * One record on its way to an event destination or a notification topic: the JSON text of an SES event record or
 * notification, with the id a receiver de-duplicates on (the MailEvent's id) and the message it concerns.
 */
export interface OutboundRecord {
  id: string;
  messageId: string;
  /** A short subject where the channel has one (the SNS envelope's Subject), e.g. "Amazon SES Email Event Notification". */
  subject: string;
  /** The record as JSON text, exactly what the receiver parses. */
  body: string;
  /** Milliseconds since the epoch of the event. */
  at: number;
}

/**
 * A channel to one destination (webhook URL, JSON-lines file, RabbitMQ exchange, Redis stream). `send` resolves when
 * the destination has taken every record (durably, as far as the channel can say) and rejects when it has not:
 * the dispatcher then retries the same records later, so a receiver may see a record twice but never loses one.
 */
export interface Transport {
  send(records: readonly OutboundRecord[]): Promise<void>;
  close(): Promise<void>;
}
