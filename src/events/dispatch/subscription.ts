import type { StoredMailEvent } from '../mail-event.js';
import type { OutboundRecord } from '../destinations/transport.js';

/** One channel records go out on: a target and the SNS topic (and subscription) it stands for. */
export interface Channel {
  target: string;
  topicArn: string;
  subscriptionArn: string;
}

export interface RoutedRecord {
  channel: Channel;
  record: OutboundRecord;
}

/**
 * One consumer of the event log: an event destination of a configuration set, or the identity notifications of an
 * account that go to one target. It keeps its own cursor, so one that cannot send holds back only itself.
 */
export interface Subscription {
  /** The cursor's name in the log, e.g. `destination:<account>:<set>:<name>`. */
  consumer: string;
  /** Where a new consumer's cursor starts: the first event at or after this time (ms). */
  since: number;
  /** The target, for logs (a password in it is masked there). */
  target: string;
  /** What this subscription sends for an event (nothing when the event is not for it). */
  route(event: StoredMailEvent): Promise<RoutedRecord[]>;
}
