import type { Logger } from 'pino';
import type { EventLog } from '../../queue/event-log.js';
import type { ConfigurationSet } from '../../store/configuration-sets.js';
import type { Identity } from '../../store/identities.js';
import { createTransport, describeTarget, type TransportContext } from '../destinations/create-transport.js';
import type { Transport } from '../destinations/transport.js';
import { DESTINATION_CONSUMER_PREFIX, destinationSubscription } from './destination-subscription.js';
import { LogConsumer, type ConsumerOptions } from './log-consumer.js';
import { NOTIFICATION_CONSUMER_PREFIX, notificationSubscriptions, type NotifyingIdentities } from './notification-subscription.js';
import type { Channel, Subscription } from './subscription.js';

/** What the dispatcher reads from the control plane. */
export interface EventSettings {
  /** Configuration sets that have event destinations. */
  configurationSets(): Promise<ConfigurationSet[]>;
  /** Identities with at least one notification topic. */
  identitiesWithTopics(): Promise<Identity[]>;
  notifyingIdentities: NotifyingIdentities;
}

export interface DispatcherOptions extends ConsumerOptions {
  region: string;
  /** How often consumers look for events appended by other processes. */
  pollMs: number;
  /** How often destinations and topics are read again (changes made with the CLI take effect then). */
  refreshMs: number;
}

/**
 * Sends the event log to configuration-set event destinations and identity notification topics: one consumer per
 * destination (and per account and notification target), each with its own cursor, woken when a commit appends events
 * and on a timer (which also picks up changed settings and events appended by other processes).
 */
export class EventDispatcher {
  private readonly consumers = new Map<string, LogConsumer>();
  private readonly transports = new Map<string, Transport>();
  private timers: NodeJS.Timeout[] = [];
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly log: EventLog,
    private readonly settings: EventSettings,
    private readonly transportContext: TransportContext,
    private readonly options: DispatcherOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.log.onAppended(() => this.wakeAll());
    this.timers.push(
      setInterval(() => this.wakeAll(), this.options.pollMs),
      setInterval(() => {
        this.refreshing ??= this.refresh()
          .catch((error: unknown) => this.logger.error({ err: error }, 'cannot read event destinations and notification topics'))
          .finally(() => (this.refreshing = null));
      }, this.options.refreshMs),
    );
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.refreshing;
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.stop()));
    this.consumers.clear();
    await Promise.all([...this.transports.values()].map((transport) => transport.close().catch(() => undefined)));
    this.transports.clear();
  }

  private wakeAll(): void {
    for (const consumer of this.consumers.values()) consumer.wake();
  }

  /** Starts consumers for new destinations and topics, updates changed ones, forgets deleted ones. */
  private async refresh(): Promise<void> {
    const subscriptions = await this.subscriptions();
    const current = new Set(subscriptions.map((subscription) => subscription.consumer));
    for (const subscription of subscriptions) {
      const consumer = this.consumers.get(subscription.consumer);
      if (consumer) {
        consumer.update(subscription);
        continue;
      }
      this.log.start(subscription.consumer, subscription.since);
      this.consumers.set(subscription.consumer, new LogConsumer(subscription, this.log, (channel) => this.transport(channel), this.options, this.logger));
      this.logger.info({ consumer: subscription.consumer, target: describeTarget(subscription.target), backlog: this.log.backlog(subscription.consumer) }, 'event destination active');
    }
    for (const [name, consumer] of this.consumers) {
      if (current.has(name)) continue;
      await consumer.stop();
      this.consumers.delete(name);
    }
    // Also the cursors of destinations deleted while the gateway was down: they would hold back pruning forever.
    for (const { consumer } of this.log.consumers()) {
      const ours = consumer.startsWith(DESTINATION_CONSUMER_PREFIX) || consumer.startsWith(NOTIFICATION_CONSUMER_PREFIX);
      if (ours && !current.has(consumer)) {
        this.log.drop(consumer);
        this.logger.info({ consumer }, 'event destination removed');
      }
    }
    this.wakeAll();
  }

  private async subscriptions(): Promise<Subscription[]> {
    const sets = await this.settings.configurationSets();
    const destinations = sets.flatMap((set) => set.eventDestinations.map((destination) => destinationSubscription(set, destination, this.options.region)));
    return [...destinations, ...notificationSubscriptions(await this.settings.identitiesWithTopics(), this.options.region, this.settings.notifyingIdentities)];
  }

  /** One transport per target and topic, shared by the consumers that use it; created when first needed. */
  private transport(channel: Channel): Transport {
    const key = `${channel.target}\0${channel.topicArn}`;
    let transport = this.transports.get(key);
    if (!transport) {
      transport = createTransport(channel.target, channel, this.transportContext);
      this.transports.set(key, transport);
    }
    return transport;
  }
}
