import { createHash } from 'node:crypto';
import type { Identity, IdentityNotificationTopic } from '../../store/identities.js';
import type { MailEvent } from '../mail-event.js';
import { isNotificationType, NOTIFICATION_TYPES, notificationRecord, outboundRecord } from '../ses-records.js';
import { snsChannel } from './destination-subscription.js';
import type { Subscription } from './subscription.js';

export const NOTIFICATION_CONSUMER_PREFIX = 'notification:';

/** Finds the identities whose notification topics apply to an event's message (see identityNotifications). */
export type NotifyingIdentities = (event: MailEvent) => Promise<Identity[]>;

/** SNS notifications of SES identities carry no Subject. */
const NOTIFICATION_SUBJECT = '';

/** The topic name in the TopicArn of an identity's notifications, e.g. `ses-example_com-bounce`. */
export const notificationTopicName = (identity: string, type: string): string => `ses-${identity.replace(/[^A-Za-z0-9_-]/g, '_')}-${type.toLowerCase()}`;

/**
 * Identity notifications, one consumer per account and target (so a subscriber that is down holds back only the
 * notifications that go to it): every Bounce, Complaint and Delivery event whose notifying identity (of this
 * account) has a topic for that type at this target, in the notification JSON, with the original headers when the
 * identity asks for them.
 */
export function notificationSubscriptions(identities: readonly Identity[], region: string, notifyingIdentities: NotifyingIdentities): Subscription[] {
  const since = new Map<string, { accountId: string; target: string; since: number }>();
  for (const identity of identities) {
    for (const type of NOTIFICATION_TYPES) {
      const topic = identity.notifications[type];
      if (!topic) continue;
      const key = `${identity.accountId}\0${topic.target}`;
      const entry = since.get(key);
      if (!entry) since.set(key, { accountId: identity.accountId, target: topic.target, since: topic.since });
      else entry.since = Math.min(entry.since, topic.since);
    }
  }
  return [...since.values()].map(({ accountId, target, since: from }) => ({
    consumer: `${NOTIFICATION_CONSUMER_PREFIX}${accountId}:${createHash('sha256').update(target).digest('hex').slice(0, 16)}`,
    since: from,
    target,
    async route(event) {
      if (!isNotificationType(event.type)) return [];
      const routed = [];
      for (const identity of await notifyingIdentities(event)) {
        const topic: IdentityNotificationTopic | undefined = identity.notifications[event.type];
        if (identity.accountId !== accountId || !topic || topic.target !== target || event.at < topic.since) continue;
        routed.push({
          channel: snsChannel(region, accountId, notificationTopicName(identity.name, event.type), target),
          record: outboundRecord(event, notificationRecord(event as MailEvent & { type: typeof event.type }, topic.includeOriginalHeaders), NOTIFICATION_SUBJECT),
        });
      }
      return routed;
    },
  }));
}
