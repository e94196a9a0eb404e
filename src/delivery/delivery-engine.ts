import { readFileSync } from 'node:fs';
import type { promises as dns } from 'node:dns';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config-error.js';
import { nodeIdOf } from '../config/node-id.js';
import type { GatewayConfig } from '../config/schema.js';
import { messageForEvents, producesEvents } from '../events/producers/message-for-events.js';
import type { MailEvent } from '../events/mail-event.js';
import { SIMULATOR_DOMAIN, domainOf } from '../message/addresses.js';
import { publicKeyFromPrivate, type DkimSigner } from '../message/dkim/index.js';
import type { ClaimedBatch, ClaimedDelivery, DeliveryLease, MessageForDelivery } from '../queue/delivery-records.js';
import type { DeliveryHandoff } from '../queue/message-acceptor.js';
import type { QueuedMessage } from '../queue/queued-message.js';
import type { QueueStore } from '../queue/queue-store.js';
import { watchQueueWakeup } from '../queue/queue-wakeup.js';
import type { Spool } from '../queue/spool.js';
import { defaultBounceRules, type BounceRule, type ReplyStage } from './bounce/index.js';
import { classifiedResult, deliveryResult, type AttemptContext } from './delivery-result.js';
import { ACCOUNT_SUPPRESSION } from './account-suppression.js';
import { simulatedComplaint, simulatedReply } from './simulator/mailbox-simulator.js';
import type { DeliverySettings } from './delivery-settings.js';
import { LocalDestinationThrottle, type DestinationThrottle } from './destination-throttle.js';
import { ExpiringMemo } from './expiring-memo.js';
import { GatewayReplies } from './gateway-replies.js';
import { createMtaStsChecker, type MtaStsChecker } from './mta-sts/index.js';
import { createResolver, DeliveryResolutionError, resolveDeliveryTargets, type DeliveryTarget } from './mx/index.js';
import { classifyLookupFailure } from './mx/lookup-failure.js';
import { ConnectFailure, MxConnector, SourceUnavailableError, type Connected, type Destination } from './mx-connector.js';
import { messageStream } from '../queue/message-content.js';
import { prepareMessage, type PreparedMessage } from './prepared-message.js';
import { ReadyQueue, type TransactionRunner } from './ready-queue.js';
import { recipientReplies, errorReply, errorStage, transactionReply } from './recipient-replies.js';
import type { RedisShaping } from './redis-shaping.js';
import { ResultRecorder } from './result-recorder.js';
import { resultEvents, type AttemptEventFacts, type ResultWithReply } from './result-events.js';
import { retryPolicy, type RetryPolicy } from './retry-schedule.js';
import { formatReturnPath } from './return-path.js';
import { shapingFor } from './shaping.js';
import type { SmtpError } from './smtp-client.js';
import { SourceAddresses } from './source-addresses.js';
import type { Transaction } from './transaction.js';

export interface DeliveryEngineDependencies {
  config: GatewayConfig;
  queue: QueueStore;
  spool: Spool;
  settings: DeliverySettings;
  log: Logger;
  /** Defaults to one built from config.dns. */
  resolver?: dns.Resolver;
  mtaSts?: MtaStsChecker;
  bounceRules?: readonly BounceRule[];
  /** Extra trust anchors (PEM) for certificates that must be verified (MTA-STS enforce). */
  tlsCa?: string[];
  /** Cluster mode: destination limits and warm-up counts held by the whole fleet; without it, by this node alone. */
  shaping?: RedisShaping;
  now?: () => number;
}

/** Deliveries claimed at once; one SQLite transaction each. */
const CLAIM_BATCH = 200;
/** Deliveries held by the engine at most (claimed, not yet recorded): bounds memory and the work a crash repeats. */
const MAX_IN_FLIGHT = 2000;
/** Informational: leases are recovered at start whatever their expiry, since one engine runs per data directory. */
const LEASE_MS = 15 * 60_000;
/** RFC 5321 4.5.3.1.8: a server must accept at least 100 recipients per transaction. */
const MAX_RECIPIENTS_PER_TRANSACTION = 100;
/** How long an idle connection is kept for mail that may follow (Postfix's smtp_connection_cache_time_limit). */
const CONNECTION_IDLE_MS = 2000;
/**
 * Transactions one destination may hold waiting. Beyond, mail is handed back to the queue (still due) and the domain
 * is left out of claims until its queue has drained to half, so a busy or slow destination cannot take every
 * in-flight slot from the others, and a burst to a fast one is not delayed either.
 */
const READY_QUEUE_LIMIT = 1000;
/** How long stop() waits for transactions in flight before it cuts their connections, and then for them to end. */
const STOP_GRACE_MS = 20_000;
const ABORT_WAIT_MS = 2000;
const MX_CACHE_MS = 60_000;
const FAILED_LOOKUP_CACHE_MS = 1000;
const MAIL_FROM_MX_CACHE_MS = 5 * 60_000;
/** When deliveries given back after a defect are tried again: late enough that a defect that repeats does not spin. */
const DEFECT_RETRY_MS = 60_000;
/** setTimeout's ceiling (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface InFlightMessage {
  row: MessageForDelivery;
  prepared: Promise<PreparedMessage>;
  /** Deliveries of the message still held by the engine. */
  holding: number;
}

/**
 * Moves accepted mail to the recipients' MX hosts. Scheduling (what is due) is separate from dispatch (which
 * connection sends it): due deliveries are leased from the queue in batches, grouped per message and recipient domain
 * into transactions, routed (MX hosts, MTA-STS, TLS policy, source address, shaping) and handed to the ready queue of
 * their destination, whose connections send them. Results are written in batches. Fresh mail it has room for is
 * leased in the commit that stores it and handed over from memory (DeliveryHandoff); otherwise the engine wakes when
 * mail is queued, when an operator changes the queue, at the next due time, and when results free capacity; it never
 * polls.
 */
export class DeliveryEngine implements TransactionRunner, DeliveryHandoff {
  private readonly config;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly resolver: dns.Resolver;
  private readonly mtaSts: MtaStsChecker;
  private readonly rules: readonly BounceRule[];
  private readonly policy: RetryPolicy;
  private readonly connector: MxConnector;
  private readonly recorder: ResultRecorder;
  private readonly mxTargets: ExpiringMemo<DeliveryTarget[]>;
  private readonly mailFromMx: ExpiringMemo<boolean>;
  private readonly messages = new Map<string, InFlightMessage>();
  private readonly readyQueues = new Map<string, ReadyQueue>();
  private readonly throttles = new Map<string, DestinationThrottle>();
  private readonly routing = new Set<Promise<void>>();
  /** Domains whose ready queue is full, with that queue: their deliveries wait in the queue until it drains. */
  private readonly saturated = new Map<string, ReadyQueue>();
  private sources!: SourceAddresses;
  private returnPathKey!: Buffer;
  private nodeId!: string;
  private gatewaySigner: DkimSigner | null = null;
  private unwatch: (() => void) | null = null;
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private wakeScheduled = false;
  private started = false;
  private stopping = false;
  private aborting = false;

  constructor(private readonly deps: DeliveryEngineDependencies) {
    this.config = deps.config.delivery;
    this.log = deps.log.child({ component: 'delivery' });
    this.now = deps.now ?? Date.now;
    this.resolver = deps.resolver ?? createResolver({ servers: deps.config.dns.servers, timeoutMs: deps.config.dns.timeoutMs, tries: 2 });
    this.mtaSts = deps.mtaSts ?? createMtaStsChecker({ resolver: this.resolver, now: this.now });
    this.rules = deps.bounceRules ?? defaultBounceRules();
    this.policy = retryPolicy(this.config);
    this.connector = new MxConnector(this.config, this.now, deps.tlsCa);
    this.recorder = new ResultRecorder(deps.queue.leases, deps.spool, this.log, (settled) => this.settled(settled), () => this.sources.takeVolumes(), this.now);
    this.mxTargets = new ExpiringMemo((settled) => (settled.ok || (settled.error instanceof DeliveryResolutionError && settled.error.permanent) ? MX_CACHE_MS : FAILED_LOOKUP_CACHE_MS), this.now);
    this.mailFromMx = new ExpiringMemo((settled) => (settled.ok ? MAIL_FROM_MX_CACHE_MS : FAILED_LOOKUP_CACHE_MS), this.now);
  }

  async start(): Promise<void> {
    const now = this.now();
    const recovered = this.deps.queue.leases.recoverLeases(now);
    if (recovered > 0) this.log.warn({ deliveries: recovered }, 'deliveries left in flight by a previous run are queued again');
    this.gatewaySigner = loadGatewaySigner(this.config.dkim);
    this.sources = await SourceAddresses.open(this.config, this.deps.config.smtp.hostname, this.deps.queue.sources, this.log, now, this.deps.shaping?.warmup);
    this.returnPathKey = this.deps.queue.returnPathKey();
    this.nodeId = nodeIdOf(this.deps.config);
    try {
      this.unwatch = watchQueueWakeup(this.deps.config.dataDir, () => this.wake());
    } catch (error) {
      this.log.warn({ err: error }, 'cannot watch for queue changes made with the CLI; they take effect at the next due delivery');
    }
    this.started = true;
    this.pump();
  }

  /** New mail or a queue change: look for due work soon (coalesced, never blocking the caller). */
  wake(): void {
    if (this.wakeScheduled || !this.started || this.stopping) return;
    this.wakeScheduled = true;
    setImmediate(() => this.pump());
  }

  /**
   * Fresh mail is leased in the commit that stores it when the engine can take all of it now: room in flight, and no
   * recipient at a saturated destination (whose mail waits in the queue). It does not pass mail due earlier: the
   * engine has room only once its last claim took all that was due, or when results have just freed some (and
   * then its next claim is already scheduled).
   */
  lease(messages: readonly QueuedMessage[]): DeliveryLease | null {
    if (!this.started || this.stopping) return null;
    let deliveries = 0;
    for (const message of messages) {
      if (this.saturated.size > 0 && message.recipients.some((recipient) => this.saturated.has(domainOf(recipient)))) return null;
      deliveries += message.recipients.length;
    }
    if (this.inFlight + deliveries > MAX_IN_FLIGHT) return null;
    this.inFlight += deliveries;
    return { owner: this.deps.queue.leases.owner, until: this.now() + LEASE_MS };
  }

  take(batch: ClaimedBatch): void {
    // Stopping since the lease (its results may be written already): the leases stay, and the next start queues them.
    if (!this.stopping) this.dispatch(batch);
  }

  cancel(messages: readonly QueuedMessage[]): void {
    for (const message of messages) this.inFlight -= message.recipients.length;
    // The room given back may be what queued mail waits for.
    this.wake();
  }

  /**
   * Graceful stop: no new work; transactions not yet started go back to the queue; those in flight may finish for
   * STOP_GRACE_MS, then their connections are cut and their deliveries handed back too (the remote may have the
   * message already: at least once). Every result is written before it returns.
   */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.unwatch?.();
    const running: Array<Promise<void>> = [...this.routing];
    for (const queue of this.readyQueues.values()) {
      const { unsent, done } = queue.stop();
      for (const transaction of unsent) this.release(transaction.deliveries, this.now());
      running.push(done);
    }
    const settledWithin = (ms: number) => Promise.race([Promise.all(running).then(() => true), sleep(ms, false, { ref: false })]);
    if (!(await settledWithin(STOP_GRACE_MS))) {
      this.aborting = true;
      this.log.warn('transactions still in flight at shutdown are cut off and queued again');
      for (const queue of this.readyQueues.values()) queue.abort();
      // A connection still being opened is not cut: its deliveries stay leased, and the next start queues them again.
      await settledWithin(ABORT_WAIT_MS);
    }
    await this.recorder.flush();
  }

  private pump(): void {
    this.wakeScheduled = false;
    if (this.stopping) return;
    const now = this.now();
    for (const [domain, queue] of this.saturated) if (queue.waiting < READY_QUEUE_LIMIT / 2) this.saturated.delete(domain);
    const excluded = [...this.saturated.keys()];
    try {
      // Most wakes find nothing due (fresh mail comes over in the commit that queues it, and results wake the engine
      // too): reading the earliest due time first spares them the write transaction of an empty claim.
      const { leases } = this.deps.queue;
      let next = leases.nextDueAt(excluded);
      while (next !== null && next <= now && this.inFlight < MAX_IN_FLIGHT) {
        const limit = Math.min(CLAIM_BATCH, MAX_IN_FLIGHT - this.inFlight);
        const batch = leases.claim(now, limit, LEASE_MS, excluded);
        if (batch.deliveries.length === 0) break;
        this.inFlight += batch.deliveries.length;
        this.dispatch(batch);
        next = batch.deliveries.length < limit ? leases.nextDueAt(excluded) : now;
      }
      this.armTimer(now, next);
    } catch (error) {
      this.log.error({ err: error }, 'could not read the queue; trying again shortly');
      this.setTimer(1000);
    }
  }

  /**
   * Sets the timer for `next`, the next due delivery outside saturated domains (woken by their results instead: their
   * mail is due already); with the engine full, settling results wakes it instead.
   */
  private armTimer(now: number, next: number | null): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight >= MAX_IN_FLIGHT) return;
    if (next !== null) this.setTimer(next - now);
  }

  private setTimer(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), Math.min(Math.max(delayMs, 1), MAX_TIMER_MS));
    this.timer.unref();
  }

  private settled(count: number): void {
    this.inFlight -= count;
    this.wake();
  }

  /** Groups a claimed batch into transactions: one per message and recipient domain, at most MAX_RECIPIENTS_PER_TRANSACTION recipients each. */
  private dispatch(batch: ClaimedBatch): void {
    const groups = new Map<string, ClaimedDelivery[][]>();
    for (const delivery of batch.deliveries) {
      const key = `${delivery.messageId} ${delivery.domain}`;
      const chunks = groups.get(key) ?? [];
      const last = chunks[chunks.length - 1];
      if (last && last.length < MAX_RECIPIENTS_PER_TRANSACTION) last.push(delivery);
      else groups.set(key, [...chunks, [delivery]]);
    }
    for (const deliveries of [...groups.values()].flat()) {
      const { messageId, domain } = deliveries[0]!;
      const message = this.holdMessage(batch.messages.get(messageId)!, deliveries.length);
      const routed = this.route(message, domain, deliveries).catch((error: unknown) => {
        this.log.error({ err: error, messageId, domain }, 'delivery routing failed');
        try {
          this.failBeforeSending(message.row, deliveries, GatewayReplies.internalError(errorText(error)), 'connect');
        } catch (recordError) {
          this.giveBack(messageId, deliveries, recordError);
        }
      });
      this.routing.add(routed);
      void routed.finally(() => this.routing.delete(routed));
    }
  }

  /** The message's shared data for `deliveries` more of its deliveries, prepared once while any is held. */
  private holdMessage(row: MessageForDelivery, deliveries: number): InFlightMessage {
    let message = this.messages.get(row.id);
    if (!message) {
      message = {
        row,
        holding: 0,
        prepared: prepareMessage(row, {
          settings: this.deps.settings,
          spool: this.deps.spool,
          feedbackDomain: this.config.feedbackDomain,
          gatewaySigner: this.gatewaySigner,
          poolName: (name) => this.sources.poolName(name),
          hasMx: (domain) => this.mailFromMx.get(domain, () => this.hasMx(domain)),
          storeSignature: (id, signature) => this.recorder.signature(id, signature),
        }),
      };
      // Failures are handled by each transaction that awaits it; this only keeps an unawaited rejection quiet.
      message.prepared.catch(() => undefined);
      this.messages.set(row.id, message);
    }
    message.holding += deliveries;
    return message;
  }

  /** Lets go of deliveries handed to the recorder; the message's shared data goes once none is held. */
  private letGo(messageId: string, count: number): void {
    const message = this.messages.get(messageId);
    if (message && (message.holding -= count) <= 0) this.messages.delete(messageId);
  }

  private async route(message: InFlightMessage, domain: string, claimed: ClaimedDelivery[]): Promise<void> {
    if (domain === SIMULATOR_DOMAIN) return this.simulate(message.row, claimed);
    const deliveries = await this.withoutSuppressed(message.row, claimed);
    if (deliveries.length === 0) return;
    let prepared: PreparedMessage;
    try {
      prepared = await message.prepared;
    } catch (error) {
      this.log.warn({ err: error, messageId: message.row.id }, 'message could not be prepared for delivery');
      return this.failBeforeSending(message.row, deliveries, GatewayReplies.preparationFailed(errorText(error)), 'connect');
    }
    if (prepared.rejection) return this.failBeforeSending(message.row, deliveries, prepared.rejection, 'mail');

    let targets: DeliveryTarget[];
    try {
      targets = await this.mxTargets.get(domain, () => resolveDeliveryTargets(domain, { resolver: this.resolver, allowPrivateAddresses: this.config.allowPrivateAddresses, maxAddresses: this.config.maxMxAddresses }));
    } catch (error) {
      if (!(error instanceof DeliveryResolutionError)) throw error;
      return this.failBeforeSending(message.row, deliveries, GatewayReplies.resolution(error), 'connect');
    }

    let tls: Destination['tls'] = prepared.tlsPolicy === 'Require' ? 'required' : 'opportunistic';
    const stsPolicy = await this.mtaSts.policyFor(domain).catch(() => null);
    if (stsPolicy?.mode === 'enforce') {
      const listed = await Promise.all(targets.map(async (target) => ((await this.mtaSts.allows(domain, target.exchange)).mxMatches ? target : null)));
      const allowed = listed.filter((target): target is DeliveryTarget => target !== null);
      if (allowed.length === 0) return this.failBeforeSending(message.row, deliveries, GatewayReplies.mtaStsNoMatchingMx(domain, targets.map((target) => target.exchange)), 'connect');
      targets = allowed;
      tls = 'verified';
    }
    await this.enqueue(prepared, domain, deliveries, { targets, tls });
  }

  /** Picks the source address and hands the transaction to its destination's ready queue. */
  private async enqueue(message: PreparedMessage, domain: string, deliveries: ClaimedDelivery[], { targets, tls }: Omit<Destination, 'source'>): Promise<void> {
    const now = this.now();
    if (this.stopping) return this.release(deliveries, now);
    const previous = deliveries.find((delivery) => delivery.sourceIp !== null)?.sourceIp ?? null;
    const choice = await this.sources.choose(message.pool, previous, deliveries.length, now);
    // The ready queues may have stopped while a fleet-wide warm-up count was asked for.
    if (this.stopping) return this.release(deliveries, now);
    if ('waitUntil' in choice) return this.release(deliveries, choice.waitUntil);
    const source = choice.source;
    const mailFrom = message.row.mailFrom === '' ? '' : formatReturnPath(this.nodeId, deliveries[0]!.id, message.row.id, message.returnPathDomain, this.returnPathKey);

    const hosts = [...new Set(targets.map((target) => target.exchange))];
    const site = [...hosts].sort().join(',');
    const queueKey = `${source.address}|${site}|${tls}`;
    let queue = this.readyQueues.get(queueKey);
    if (!queue) {
      const shaping = shapingFor(domain, hosts, site, this.config.shaping, this.config);
      const throttleKey = `${source.address}|${shaping.key}`;
      let throttle = this.throttles.get(throttleKey);
      if (!throttle) this.throttles.set(throttleKey, (throttle = this.deps.shaping?.throttle(throttleKey, shaping.limits) ?? new LocalDestinationThrottle(shaping.limits, this.now)));
      const created: ReadyQueue = new ReadyQueue({ targets, source, tls }, throttle, this.connector, this, CONNECTION_IDLE_MS, () => {
        if (this.readyQueues.get(queueKey) === created) this.readyQueues.delete(queueKey);
        if (throttle.idle) this.throttles.delete(throttleKey);
      });
      this.readyQueues.set(queueKey, (queue = created));
    }
    if (queue.waiting >= READY_QUEUE_LIMIT) {
      this.saturated.set(domain, queue);
      return this.release(deliveries, now);
    }
    queue.enqueue({ message, domain, deliveries, source, mailFrom });
  }

  async send(transaction: Transaction, connected: Connected): Promise<Transaction | null> {
    const { message, deliveries } = transaction;
    const recipients = deliveries.map((delivery) => delivery.recipient);
    const envelope = { from: transaction.mailFrom, to: recipients, size: message.row.size + message.signature.length };
    const outcome = await connected.client
      .send(envelope, messageStream(this.deps.spool, message.row, message.signature))
      .then((info) => ({ info }), (error: SmtpError) => ({ error }));
    const now = this.now();
    if (this.aborting && 'error' in outcome) {
      this.release(deliveries, now);
      return null;
    }
    const context = this.attemptContext(message.row, now, connected.remoteAddress, connected.mxHost, transaction.source, connected.client.localAddress);
    const replies = recipientReplies(recipients, outcome);
    const someAccepted = 'info' in outcome && outcome.info.accepted.length > 0;
    const continued: ClaimedDelivery[] = [];
    const recorded: ResultWithReply[] = [];
    deliveries.forEach((delivery, index) => {
      const { reply, stage } = replies[index]!;
      const { result, classification } = deliveryResult(delivery, reply, stage, context);
      // RFC 5321 4.5.3.1.10: the recipients refused for the transaction's size go in the next transaction.
      if (someAccepted && classification.category === 'too-many-recipients') {
        continued.push(delivery);
        return;
      }
      recorded.push({ recipient: delivery.recipient, result, classification, stage });
    });
    this.record(message.row, recorded, { remoteMtaIp: connected.remoteAddress, outgoingIp: connected.client.localAddress || null });
    const states = recorded.map(({ result }) => (result.state === 'queued' ? 'deferred' : result.state));
    this.letGo(message.row.id, deliveries.length - continued.length);
    this.log.info(
      {
        messageId: message.row.id,
        domain: transaction.domain,
        recipients: recipients.length,
        results: countStates(states),
        continued: continued.length || undefined,
        mx: connected.mxHost,
        remoteMta: connected.remoteAddress,
        source: transaction.source.address || undefined,
        tls: connected.client.secure,
        response: transactionReply(outcome),
      },
      'delivery attempt',
    );
    return continued.length > 0 ? { ...transaction, deliveries: continued } : null;
  }

  unsent(transaction: Transaction, error: Error, destination: Destination): void {
    const now = this.now();
    if (error instanceof SourceUnavailableError) {
      this.log.warn({ source: transaction.source.address, err: error }, 'source address cannot be used; trying the others of its pool');
      this.sources.markUnusable(transaction.source.address, now);
      this.enqueue(transaction.message, transaction.domain, transaction.deliveries, destination).catch((enqueueError: unknown) => this.giveBack(transaction.message.row.id, transaction.deliveries, enqueueError));
      return;
    }
    if (this.stopping) return this.release(transaction.deliveries, now);
    const failure = error as ConnectFailure;
    const reply = failure.permanent ? GatewayReplies.tlsRequired(failure.mxHost ?? transaction.domain, errorReply(failure.error)) : errorReply(failure.error);
    const stage: ReplyStage = failure.permanent ? 'tls' : errorStage(failure.error, 'connect');
    const context = this.attemptContext(transaction.message.row, now, failure.remoteAddress, failure.mxHost, transaction.source);
    // A host that refused the connection or did not answer was not contacted; one that replied was.
    const answered = typeof failure.error.response === 'string' ? failure.remoteAddress : null;
    this.recordAll(transaction.message.row, transaction.deliveries, reply, stage, context, answered);
    this.log.info({ messageId: transaction.message.row.id, domain: transaction.domain, recipients: transaction.deliveries.length, source: transaction.source.address || undefined, response: reply }, 'delivery attempt: no MX host took the session');
  }

  failed(error: unknown, transaction?: Transaction): void {
    if (transaction) return this.giveBack(transaction.message.row.id, transaction.deliveries, error);
    this.log.error({ err: error }, 'a delivery worker failed');
  }

  /** After a defect (an exception where a result was expected): the deliveries go back to the queue for a later attempt. */
  private giveBack(messageId: string, deliveries: ClaimedDelivery[], error: unknown): void {
    this.log.error({ err: error, messageId, domain: deliveries[0]?.domain, recipients: deliveries.length }, 'delivery failed inside the gateway; its deliveries are queued again');
    try {
      this.release(deliveries, this.now() + DEFECT_RETRY_MS);
    } catch (releaseError) {
      this.log.error({ err: releaseError, messageId }, 'could not queue the deliveries again; they stay leased until the next start');
    }
  }

  private failBeforeSending(row: MessageForDelivery, deliveries: ClaimedDelivery[], reply: string, stage: ReplyStage): void {
    const context = this.attemptContext(row, this.now(), null, null, null);
    this.recordAll(row, deliveries, reply, stage, context, null);
    this.log.info({ messageId: row.id, domain: deliveries[0]?.domain, recipients: deliveries.length, response: reply }, 'delivery attempt: not sent');
  }

  private recordAll(row: MessageForDelivery, deliveries: ClaimedDelivery[], reply: string, stage: ReplyStage, context: AttemptContext, remoteMtaIp: string | null): void {
    const recorded = deliveries.map((delivery) => ({ recipient: delivery.recipient, stage, ...deliveryResult(delivery, reply, stage, context) }));
    this.record(row, recorded, { remoteMtaIp, outgoingIp: null });
    this.letGo(row.id, deliveries.length);
  }

  /**
   * The mailbox simulator: every recipient gets its scenario's result at once, without DNS or a connection, and
   * complaint@ a Complaint besides its Delivery (ooto@'s automatic reply follows from its Delivery event).
   */
  private simulate(row: MessageForDelivery, deliveries: ClaimedDelivery[]): void {
    const context = this.attemptContext(row, this.now(), null, null, null);
    const recorded = deliveries.map((delivery) => {
      const simulated = simulatedReply(delivery.recipient);
      return { recipient: delivery.recipient, stage: 'data' as const, scenario: simulated.scenario, ...classifiedResult(delivery, simulated.reply, simulated.classification, context) };
    });
    const complained = recorded.filter((item) => item.scenario === 'complaint').map((item) => item.recipient);
    const complaints =
      complained.length > 0 && producesEvents(row)
        ? [simulatedComplaint(messageForEvents(row, complained), complained, context.at)]
        : [];
    this.record(row, recorded, { remoteMtaIp: null, outgoingIp: null }, complaints);
    this.letGo(row.id, deliveries.length);
    this.log.info({ messageId: row.id, recipients: deliveries.length, scenarios: recorded.map((item) => item.scenario) }, 'delivery attempt: mailbox simulator');
  }

  /** Records the recipients on the account's suppression list as bounced (Permanent/OnAccountSuppressionList) and returns the others. */
  private async withoutSuppressed(row: MessageForDelivery, deliveries: ClaimedDelivery[]): Promise<ClaimedDelivery[]> {
    if (!producesEvents(row)) return deliveries;
    const suppressed = await this.deps.settings.suppressedRecipients(row.accountId, row.metadata.configurationSet, deliveries.map((delivery) => delivery.recipient));
    if (suppressed.size === 0) return deliveries;
    const context = this.attemptContext(row, this.now(), null, null, null);
    const listed = deliveries.filter((delivery) => suppressed.has(delivery.recipient));
    const recorded = listed.map((delivery) => ({ recipient: delivery.recipient, stage: 'rcpt' as const, ...classifiedResult(delivery, ACCOUNT_SUPPRESSION.reply, ACCOUNT_SUPPRESSION.classification, context) }));
    this.record(row, recorded, { remoteMtaIp: null, outgoingIp: null });
    this.letGo(row.id, listed.length);
    this.log.info({ messageId: row.id, recipients: listed.length }, 'delivery attempt: recipients on the suppression list');
    return deliveries.filter((delivery) => !suppressed.has(delivery.recipient));
  }

  /** Hands one attempt's results to the recorder with the events they cause (Delivery, Bounce, DeliveryDelay, and any `extra`), written in one commit. */
  private record(row: MessageForDelivery, recorded: ResultWithReply[], attempt: Omit<AttemptEventFacts, 'expiresAt'>, extra: MailEvent[] = []): void {
    const events = producesEvents(row)
      ? [...resultEvents(messageForEvents(row, recorded.map((item) => item.recipient)), recorded, { ...attempt, expiresAt: row.receivedAt + this.policy.lifetimeMs }), ...extra]
      : [];
    this.recorder.results(recorded.map((item) => item.result), events);
  }

  private attemptContext(
    row: MessageForDelivery,
    at: number,
    remoteMta: string | null,
    mxHost: string | null,
    source: Transaction['source'] | null,
    outgoingIp: string | null = null,
  ): AttemptContext {
    return {
      at,
      receivedAt: row.receivedAt,
      remoteMta,
      mxHost,
      sourceIp: source ? source.address : null,
      outgoingIp,
      reportingMta: source?.ehloName ?? this.deps.config.smtp.hostname,
      policy: this.policy,
      rules: this.rules,
    };
  }

  private release(deliveries: ClaimedDelivery[], nextAttemptAt: number): void {
    for (const delivery of deliveries) this.recorder.release({ deliveryId: delivery.id, nextAttemptAt });
    if (deliveries[0]) this.letGo(deliveries[0].messageId, deliveries.length);
  }

  private async hasMx(domain: string): Promise<boolean> {
    try {
      return (await this.resolver.resolveMx(domain)).some((record) => record.exchange !== '' && record.exchange !== '.');
    } catch (error) {
      if (classifyLookupFailure(error) !== 'temporary') return false;
      throw error;
    }
  }
}

/** The gateway's own DKIM key (delivery.dkim), read from its file. */
export function loadGatewaySigner(config: GatewayConfig['delivery']['dkim']): DkimSigner | null {
  if (!config) return null;
  let privateKeyPem: string;
  try {
    privateKeyPem = readFileSync(config.keyFile, 'utf8');
  } catch (error) {
    throw new ConfigError('delivery.dkim.keyFile', `cannot read ${config.keyFile}: ${errorText(error)}`);
  }
  return { domain: config.domain, selector: config.selector, privateKeyPem, algorithm: publicKeyFromPrivate(privateKeyPem).algorithm };
}

/** The message of anything thrown, which need not be an Error. */
function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function countStates(states: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const state of states) counts[state] = (counts[state] ?? 0) + 1;
  return counts;
}
