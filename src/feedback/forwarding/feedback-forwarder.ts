import type { Logger } from 'pino';
import { producesEvents } from '../../events/producers/message-for-events.js';
import type { EventHandler } from '../../events/event-consumer.js';
import type { MailEvent, StoredMailEvent } from '../../events/mail-event.js';
import { parseIdentityArn } from '../../policy/iam/index.js';
import type { QueueStore } from '../../queue/queue-store.js';
import { systemMessage, type QueuedMessage } from '../../queue/queued-message.js';
import { isSimulatorAddress } from '../../message/addresses.js';
import { simulatorScenario } from '../../delivery/simulator/mailbox-simulator.js';
import { feedbackReport, simulatorAutoReply, type FeedbackReport, type ReportOptions } from './feedback-report.js';
import type { FeedbackForwardingSettings } from './forwarding-settings.js';

export const FORWARDING_CONSUMER = 'feedback-forwarding';

export interface FeedbackForwarderDependencies {
  queue: QueueStore;
  settings: FeedbackForwardingSettings;
  report: Omit<ReportOptions, 'now'>;
  /** Called after reports were queued: the delivery engine takes them from there. */
  queued: () => void;
  log: Logger;
  now?: () => number;
}

type ReportedEvent = Extract<MailEvent, { type: 'Bounce' | 'Complaint' }>;

/**
 * Email feedback forwarding (SES's default): each Bounce and Complaint event becomes a report emailed to the
 * envelope sender of the message, queued for the outbound path from the null sender, so nothing can bounce back
 * to it. A consumer of the event log (run by an EventConsumer); a report's id derives from its event's, so an
 * event read again after a crash is not forwarded twice. No report is made about a message without a sender, about
 * one the gateway composed itself (a report: no loops), or when the sending identity has forwarding turned off.
 */
export class FeedbackForwarder implements EventHandler {
  readonly name = FORWARDING_CONSUMER;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly deps: FeedbackForwarderDependencies) {
    this.log = deps.log.child({ component: 'feedback-forwarding' });
    this.now = deps.now ?? Date.now;
  }

  async handle(events: readonly StoredMailEvent[]): Promise<void> {
    const { queue } = this.deps;
    const reports: QueuedMessage[] = [];
    const now = new Date(this.now());
    for (const event of events) {
      const made: FeedbackReport[] = [];
      if ((event.type === 'Bounce' || event.type === 'Complaint') && (await this.forwards(event))) made.push(feedbackReport(event, { ...this.deps.report, now }));
      // The mailbox simulator's ooto@ answers whatever the forwarding setting: it stands for the recipient's own reply.
      if (event.type === 'Delivery' && event.mail.source !== '') {
        for (const recipient of event.detail.recipients.filter((address) => simulatorScenario(address) === 'ooto' && isSimulatorAddress(address))) {
          made.push(simulatorAutoReply(event, recipient, { ...this.deps.report, now }));
        }
      }
      for (const report of made) if (!queue.get(report.id)) reports.push(this.queuedReport(event, report, now));
    }
    if (reports.length === 0) return;
    await queue.insert(reports);
    this.log.info({ reports: reports.map((report) => ({ id: report.id, to: report.recipients[0] })) }, 'feedback reports queued');
    this.deps.queued();
  }

  private async forwards(event: ReportedEvent): Promise<boolean> {
    if (event.mail.source === '') return false;
    const original = this.deps.queue.get(event.messageId);
    if (original && !producesEvents(original)) return false;
    const sentAs = identityOf(event.mail.sourceArn);
    return sentAs === null || this.deps.settings.forwardingEnabled(sentAs.accountId, sentAs.identity);
  }

  private queuedReport(event: MailEvent, report: FeedbackReport, now: Date): QueuedMessage {
    return systemMessage({
      id: report.id,
      accountId: event.accountId,
      mailFrom: '',
      recipient: report.recipient,
      header: Buffer.from(report.header, 'utf8'),
      body: Buffer.from(report.body, 'utf8'),
      receivedAt: now,
      hostname: this.deps.report.hostname,
      kind: 'feedback-report',
    });
  }
}

/** The identity a message was sent as (the owner's under sending authorization), from its sourceArn; null when unknown. */
function identityOf(sourceArn: string | undefined): { accountId: string; identity: string } | null {
  if (!sourceArn) return null;
  try {
    return parseIdentityArn(sourceArn);
  } catch {
    return null;
  }
}
