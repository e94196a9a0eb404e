import type { EventHandler } from '../../events/event-consumer.js';
import type { StoredMailEvent } from '../../events/mail-event.js';
import type { SubmissionObserver } from '../../submission/submit-message.js';
import { CallbackGauge, Counter, Histogram, MetricsRegistry } from './metrics-registry.js';

/** The event-log cursor of the metrics' delivery counters. */
export const METRICS_CONSUMER = 'metrics';

export interface MetricsSources {
  /** Open SMTP connections over all listeners. */
  smtpConnections(): number;
  /** Recipients per delivery state in the queue. */
  queueDepth(): Record<string, number>;
  /** Events each consumer of the log has still to process. */
  eventBacklog(): Record<string, number>;
}

/** The gateway's metrics: what the send path and the event log report, plus gauges read from the stores when scraped. */
export class GatewayMetrics {
  readonly registry = new MetricsRegistry();
  private readonly messages: Counter;
  private readonly accountRecipients: Counter;
  private readonly outcomes: Counter;
  private readonly latency: Histogram;
  private readonly sendLimitChecks: Histogram;
  readonly httpRequests: Counter;

  constructor(sources: MetricsSources) {
    const { registry } = this;
    registry.register(new CallbackGauge('relaygate_smtp_connections', 'Open SMTP connections.', () => [{ labels: {}, value: sources.smtpConnections() }]));
    this.messages = registry.register(new Counter('relaygate_messages_total', 'Messages submitted, by channel (smtp, http), result and SMTP reply code.'));
    this.accountRecipients = registry.register(new Counter('relaygate_account_recipients_total', 'Recipients of accepted messages per sending account (rate() gives the send rate).'));
    registry.register(
      new CallbackGauge('relaygate_queue_recipients', 'Recipients in the queue by delivery state.', () => Object.entries(sources.queueDepth()).map(([state, value]) => ({ labels: { state }, value }))),
    );
    this.outcomes = registry.register(new Counter('relaygate_delivery_outcomes_total', 'Delivery results per recipient: delivered, or bounced by bounce type.'));
    this.latency = registry.register(
      new Histogram('relaygate_delivery_latency_seconds', 'Time from acceptance to delivery at the recipient MX.', [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400]),
    );
    registry.register(
      new CallbackGauge('relaygate_event_backlog', 'Events in the event log each consumer has not processed yet.', () =>
        Object.entries(sources.eventBacklog()).map(([consumer, value]) => ({ labels: { consumer }, value })),
      ),
    );
    this.httpRequests = registry.register(new Counter('relaygate_http_requests_total', 'SES API requests by operation and HTTP status.'));
    this.sendLimitChecks = registry.register(
      new Histogram(
        'relaygate_send_limit_check_seconds',
        "Time each submission's send-rate and quota check took in the primary process (in cluster mode, its Redis round trip).",
        [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      ),
    );
  }

  /** Records one send-rate and quota check's duration (seconds). */
  readonly observeSendLimitCheck = (seconds: number): void => this.sendLimitChecks.observe(seconds);

  /** Counts what the send path decided (SMTP and HTTP alike). */
  readonly submissions: SubmissionObserver = (outcome) => {
    this.messages.inc({ channel: outcome.channel, result: outcome.accepted ? 'accepted' : 'refused', code: String(outcome.code) });
    if (outcome.accepted) this.accountRecipients.inc({ account: outcome.accountId }, outcome.recipients);
  };

  /** Follows the event log for delivery outcomes and latency. */
  readonly deliveryEvents: EventHandler = {
    name: METRICS_CONSUMER,
    handle: async (events: readonly StoredMailEvent[]) => {
      for (const event of events) {
        if (event.type === 'Delivery') {
          this.outcomes.inc({ outcome: 'delivered', bounce_type: '' }, event.detail.recipients.length);
          this.latency.observe(event.detail.processingTimeMillis / 1000);
        } else if (event.type === 'Bounce') {
          this.outcomes.inc({ outcome: 'bounced', bounce_type: event.detail.bounceType }, event.detail.bouncedRecipients.length);
        }
      }
    },
  };
}
