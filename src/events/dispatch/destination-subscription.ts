import { createHash } from 'node:crypto';
import type { ConfigurationSet, EventDestination } from '../../store/configuration-sets.js';
import { destinationTakes, EVENT_SUBJECT, eventRecord, outboundRecord } from '../ses-records.js';
import type { Channel, Subscription } from './subscription.js';

export const DESTINATION_CONSUMER_PREFIX = 'destination:';

/** `arn:aws:sns:<region>:<account>:<topic>` and a stable subscription ARN under it for `target`. */
export function snsChannel(region: string, accountId: string, topic: string, target: string): Channel {
  const topicArn = `arn:aws:sns:${region}:${accountId}:${topic}`;
  const hex = createHash('sha256').update(`${topicArn}\n${target}`).digest('hex');
  const subscriptionId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return { target, topicArn, subscriptionArn: `${topicArn}:${subscriptionId}` };
}

/**
 * An event destination of a configuration set: the set's events (its account's messages that used it) of the
 * destination's types, as SES event records, to its target; the topic is named after the destination. A disabled
 * destination skips events (its cursor moves on), as SES sends nothing to it.
 */
export function destinationSubscription(set: ConfigurationSet, destination: EventDestination, region: string): Subscription {
  const channel = snsChannel(region, set.accountId, destination.name, destination.target);
  const includeHeaders = destination.includeOriginalHeaders ?? true;
  return {
    consumer: `${DESTINATION_CONSUMER_PREFIX}${set.accountId}:${set.name}:${destination.name}`,
    since: destination.createdAt ?? 0,
    target: destination.target,
    async route(event) {
      if (!destination.enabled || event.accountId !== set.accountId || event.configurationSet !== set.name || !destinationTakes(destination.eventTypes, event)) return [];
      return [{ channel, record: outboundRecord(event, eventRecord(event, includeHeaders), EVENT_SUBJECT) }];
    },
  };
}
