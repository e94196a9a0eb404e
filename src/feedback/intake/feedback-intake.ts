import type { Logger } from 'pino';
import { parseReturnPath, returnPathMatches, type ParsedReturnPath } from '../../delivery/return-path.js';
import type { BounceRule } from '../../delivery/bounce/index.js';
import type { MailEvent } from '../../events/mail-event.js';
import type { FeedbackRecords, LateBounce } from '../../queue/feedback-records.js';
import type { DeadLetterFolder } from './dead-letter-folder.js';
import { bounceEvents, complaintEvent, type FeedbackTarget } from './feedback-events.js';
import type { FeedbackDomains } from './feedback-domains.js';
import type { FeedbackRouter, RoutedReport } from './feedback-router.js';
import { FeedbackRecorder } from './feedback-recorder.js';
import { readFeedback, type Feedback } from './read-feedback.js';

/**
 * Why a recipient is refused: not at a feedback domain (or source-routed): relay; at one but not of the return-path
 * form: not-issued; a return path naming no delivery: unknown-delivery; or one whose tag does not match: forged.
 */
export type RecipientRefusal = 'relay' | 'not-issued' | 'unknown-delivery' | 'forged';

/** An accepted recipient names a delivery of this node's queue, or (cluster mode) is a return path of another node. */
export type RecipientVerdict = { accepted: true; target: FeedbackTarget } | { accepted: true; node: string } | { accepted: false; refusal: RecipientRefusal };

/** What intake did with a message: recorded it, noted it, kept it as a dead letter, or passed it to the node it is for. */
export type IntakeOutcome = 'bounce' | 'complaint' | 'automatic-reply' | 'status-notice' | 'dead-letter' | 'forwarded';

export interface IntakeEnvelope {
  mailFrom: string;
  recipients: readonly string[];
  remoteAddress: string;
  /** What checkRecipient found for the accepted recipients (rows it names are never removed, so it still holds). */
  targets: readonly FeedbackTarget[];
  /** Accepted recipients that are return paths of other nodes (cluster mode), with their node; none when absent. */
  routed?: ReadonlyArray<{ node: string; recipient: string }>;
}

export type IntakeCounters = Record<IntakeOutcome | RecipientRefusal, number>;

export interface FeedbackIntakeDependencies {
  records: FeedbackRecords;
  returnPathKey: Buffer;
  /** This node's id (return paths name their node). */
  nodeId: string;
  /** Cluster mode: hands reports to other nodes' return paths to those nodes. */
  router?: FeedbackRouter;
  domains: FeedbackDomains;
  deadLetters: DeadLetterFolder;
  /** Domain of the Message-IDs the gateway sets, to find the message an ARF report returns. */
  messageIdDomain: string;
  log: Logger;
  /** Reads a message (default: readFeedback in this thread; the gateway uses a FeedbackParserPool). */
  read?: (raw: Buffer) => Promise<Feedback>;
  rules?: readonly BounceRule[];
  now?: () => number;
}

/** Return-path local parts use only these; anything else (%, !, quotes, +) at a feedback domain was never issued. */
const RETURN_PATH_CHARACTERS = /^[a-z0-9-]+$/i;

/**
 * Asynchronous feedback on the intake listeners: which recipients may be written to without authentication (return
 * paths the gateway issued, at its feedback domains), and what a message to them becomes (Bounce or Complaint
 * events, noted automatic replies, or a dead letter).
 */
export class FeedbackIntake {
  readonly counters: IntakeCounters = {
    bounce: 0,
    complaint: 0,
    'automatic-reply': 0,
    'status-notice': 0,
    'dead-letter': 0,
    forwarded: 0,
    relay: 0,
    'not-issued': 0,
    'unknown-delivery': 0,
    forged: 0,
  };
  private readonly recorder: FeedbackRecorder;
  /** Reports arriving or being read: a group commit waits a little for them. */
  private reading = 0;
  private readonly now: () => number;
  private readonly ownMessageId: RegExp;

  constructor(private readonly deps: FeedbackIntakeDependencies) {
    this.recorder = new FeedbackRecorder(deps.records, () => this.reading);
    this.now = deps.now ?? Date.now;
    this.ownMessageId = new RegExp(`^<([^@<>\\s]+)@${deps.messageIdDomain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}>$`, 'i');
  }

  /**
   * Decides whether an unauthenticated session may write to `address`: a return path that names a delivery of this
   * node's queue (whatever node it names: the id may have been changed since), or in cluster mode one of another node
   * of the cluster, which can only check it itself when the report reaches it.
   */
  async checkRecipient(address: string): Promise<RecipientVerdict> {
    const at = address.lastIndexOf('@');
    if (at <= 0 || !(await this.deps.domains.includes(address.slice(at + 1)))) return { accepted: false, refusal: 'relay' };
    const parsed = RETURN_PATH_CHARACTERS.test(address.slice(0, at)) ? parseReturnPath(address) : null;
    if (!parsed) return { accepted: false, refusal: 'not-issued' };
    const verdict = this.localVerdict(parsed);
    if (verdict.accepted || parsed.node === null || parsed.node === this.deps.nodeId) return verdict;
    return (await this.deps.router?.isNode(parsed.node)) ? { accepted: true, node: parsed.node } : verdict;
  }

  private localVerdict(parsed: ParsedReturnPath): Extract<RecipientVerdict, { target: FeedbackTarget }> | Extract<RecipientVerdict, { accepted: false }> {
    const delivery = this.deps.records.delivery(parsed.deliveryId);
    if (!delivery) return { accepted: false, refusal: 'unknown-delivery' };
    if (!returnPathMatches(parsed, delivery.messageId, this.deps.returnPathKey)) return { accepted: false, refusal: 'forged' };
    const message = this.deps.records.message(delivery.messageId);
    if (!message) return { accepted: false, refusal: 'unknown-delivery' };
    return { accepted: true, target: { delivery, message } };
  }

  /** Counts and logs a refused recipient (forged and unknown return paths are worth a warning: someone guesses). */
  refused(refusal: RecipientRefusal, address: string, remoteAddress: string): void {
    const count = ++this.counters[refusal];
    const level = refusal === 'forged' || refusal === 'unknown-delivery' ? 'warn' : 'info';
    this.deps.log[level]({ refusal, recipient: address, remoteAddress, count }, 'feedback recipient refused');
  }

  /**
   * Applies a message that came to return paths (`raw` may still be arriving: a group commit waits for it); resolves
   * once its outcome is durable (events committed, or the dead letter fsynced; a report for other nodes handed to
   * them first), so the session may answer 250.
   */
  async receive(envelope: IntakeEnvelope, raw: Buffer | Promise<Buffer>): Promise<IntakeOutcome> {
    if (envelope.routed?.length) {
      const message = await raw;
      await this.forward(envelope, message);
      if (envelope.targets.length === 0) return 'forwarded';
      raw = message;
    }
    const targets = [...new Map(envelope.targets.map((target) => [target.delivery.id, target])).values()];
    let message: Buffer;
    let outcome: ReturnType<FeedbackIntake['apply']>;
    this.reading++;
    try {
      message = await raw;
      outcome = this.apply(await (this.deps.read ?? readFeedback)(message), targets);
    } finally {
      this.reading--;
    }
    if ('deadLetter' in outcome || outcome.events.length === 0) this.recorder.settled();
    if ('deadLetter' in outcome) return this.keepDeadLetter(envelope, message, outcome.deadLetter);
    if (outcome.events.length > 0) await this.recorder.record({ events: outcome.events, bounces: outcome.bounces });
    const count = ++this.counters[outcome.kind];
    this.deps.log.info(
      { outcome: outcome.kind, messageIds: targets.map((target) => target.message.id), events: outcome.events.map((event) => event.id), remoteAddress: envelope.remoteAddress, count },
      `feedback ${outcome.kind === 'bounce' || outcome.kind === 'complaint' ? 'recorded' : 'noted'}`,
    );
    return outcome.kind;
  }

  /**
   * Applies a report that another node took for this node's return paths, as if it had come here: each recipient is
   * checked as at RCPT (refusals are logged; a report left with none is kept as a dead letter).
   */
  async receiveRouted(report: RoutedReport): Promise<IntakeOutcome> {
    const targets: FeedbackTarget[] = [];
    for (const recipient of report.recipients) {
      const verdict = await this.checkRecipient(recipient);
      if (verdict.accepted && 'target' in verdict) targets.push(verdict.target);
      else this.refused(verdict.accepted ? 'unknown-delivery' : verdict.refusal, recipient, report.remoteAddress);
    }
    return this.receive({ mailFrom: report.mailFrom, recipients: report.recipients, remoteAddress: report.remoteAddress, targets }, report.raw);
  }

  /** Hands the report to each node whose return paths it was addressed to; resolves once it is durable for all. */
  private async forward(envelope: IntakeEnvelope, raw: Buffer): Promise<void> {
    const byNode = new Map<string, string[]>();
    for (const { node, recipient } of envelope.routed ?? []) byNode.set(node, [...(byNode.get(node) ?? []), recipient]);
    const router = this.deps.router;
    if (!router) throw new Error('a report for another node without a cluster to pass it through');
    for (const [node, recipients] of byNode) {
      await router.forward(node, { mailFrom: envelope.mailFrom, recipients, remoteAddress: envelope.remoteAddress, via: this.deps.nodeId, raw });
      const count = ++this.counters.forwarded;
      this.deps.log.info({ outcome: 'forwarded', node, recipients, remoteAddress: envelope.remoteAddress, size: raw.length, count }, 'feedback passed to the node that sent the mail');
    }
  }

  private apply(feedback: Feedback, targets: FeedbackTarget[]): { kind: IntakeOutcome; events: MailEvent[]; bounces: LateBounce[] } | { deadLetter: string } {
    if (targets.length === 0) return { deadLetter: 'no recipient names a delivery of this gateway' };
    const now = this.now();
    switch (feedback.kind) {
      case 'unreadable':
        return { deadLetter: feedback.reason };
      case 'automatic-reply':
        return { kind: 'automatic-reply', events: [], bounces: [] };
      case 'abuse-report':
        return { kind: 'complaint', events: targets.map((target) => this.complaint(target, feedback, now)), bounces: [] };
      case 'delivery-status': {
        const outcomes = targets.map((target) => bounceEvents(target, feedback.header, feedback.report, now, this.deps.rules));
        const events = outcomes.flatMap((outcome) => outcome.events);
        const unmatched = outcomes.flatMap((outcome) => outcome.unmatched);
        if (events.length === 0 && unmatched.length > 0) return { deadLetter: `no failed recipient of the DSN (${unmatched.join(', ')}) is a recipient of the returned transaction` };
        if (unmatched.length > 0) this.deps.log.warn({ unmatched, messageIds: targets.map((target) => target.message.id) }, 'DSN recipients that are no recipient of the returned transaction were left out');
        return events.length > 0 ? { kind: 'bounce', events, bounces: outcomes.flatMap((outcome) => outcome.bounces) } : { kind: 'status-notice', events: [], bounces: [] };
      }
    }
  }

  /**
   * The complaint about the message the report returns when it is one of ours from the same account (its Message-ID
   * is `<id@messageIdDomain>`), with all its recipients as candidates; else about the return path's message, with
   * the transaction's recipients.
   */
  private complaint(target: FeedbackTarget, feedback: Extract<Feedback, { kind: 'abuse-report' }>, now: number): MailEvent {
    const reportedId = this.ownMessageId.exec(feedback.reported?.messageId ?? '')?.[1];
    const reported = reportedId && reportedId !== target.message.id ? this.deps.records.message(reportedId) : null;
    if (reported && reported.accountId === target.message.accountId) {
      return complaintEvent(reported, reported.recipients, feedback.header, feedback.report, feedback.reported, now);
    }
    return complaintEvent(target.message, target.delivery.domainRecipients, feedback.header, feedback.report, feedback.reported, now);
  }

  private async keepDeadLetter(envelope: IntakeEnvelope, raw: Buffer, reason: string): Promise<IntakeOutcome> {
    const { file, removed } = await this.deps.deadLetters.keep(raw, { reason, mailFrom: envelope.mailFrom, recipients: envelope.recipients, remoteAddress: envelope.remoteAddress, receivedAt: this.now() });
    const count = ++this.counters['dead-letter'];
    this.deps.log.warn({ file, reason, directory: this.deps.deadLetters.directory, remoteAddress: envelope.remoteAddress, size: raw.length, count }, 'feedback kept in the dead-letter folder');
    if (removed.length > 0) {
      this.deps.log.warn({ removed: removed.length, oldestRemoved: removed[0], newestRemoved: removed.at(-1), directory: this.deps.deadLetters.directory }, 'oldest dead letters removed: the folder is at smtp.deadLetterMaxBytes');
    }
    return 'dead-letter';
  }
}
