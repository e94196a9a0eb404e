import type { MailEvent } from '../events/mail-event.js';
import type { EventLog } from './event-log.js';
import type { LocalSendStatistics } from './send-statistics.js';
import type { FeedbackRecords } from './feedback-records.js';
import type { ClaimedBatch, ClaimedDelivery, CompletedMessage, DeliveryLease, ResultBatch } from './delivery-records.js';
import type { MessageDetails, QueueFilter, QueueSelection, QueuedMessage, QueuedMessageSummary } from './queued-message.js';

/** The node-local delivery queue: message rows and one delivery row per recipient. */
export interface QueueStore {
  /**
   * Inserts the messages, their deliveries and the events their acceptance causes (Send) in one transaction, which
   * is committed (visible) when it returns and throws if it fails; the promise resolves once it is durable (fsynced,
   * off the event loop), and only then may anyone answer 250. With a `lease`, the deliveries are inserted leased to
   * its owner, and the promise gives them (else none).
   */
  insert(messages: readonly QueuedMessage[], events?: readonly MailEvent[], lease?: DeliveryLease | null): Promise<ClaimedDelivery[]>;
  get(id: string): QueuedMessage | null;
  list(filter?: QueueFilter): QueuedMessageSummary[];
  /** The message with every recipient's state and last result. */
  details(id: string): MessageDetails | null;
  /**
   * Removes up to `limit` messages that were complete (every recipient delivered, bounced or deleted) before
   * `before`, with their deliveries' results; returns how many. Bounces and complaints about them no longer match.
   */
  removeCompleted(before: number, limit: number): number;
  /** Spool file names of messages still being delivered (to find orphans: files of unacknowledged or finished messages). */
  bodyFileNames(): Set<string>;
  readonly leases: DeliveryLeases;
  readonly events: EventLog;
  readonly statistics: LocalSendStatistics;
  readonly operations: QueueOperations;
  readonly sources: SourceVolumeStore;
  /** Bounces and complaints that come back after delivery (feedback intake). */
  readonly feedback: FeedbackRecords;
  /** The key that authenticates return-path tokens, created on first use. */
  returnPathKey(): Buffer;
  /** A random id of this queue database (its event log), created on first use: a new database has another. */
  instanceId(): string;
  close(): void;
}

/** What the delivery engine does with delivery rows. */
export interface DeliveryLeases {
  /** The name this process's leases carry (lease_owner). */
  readonly owner: string;
  /** Returns leased deliveries left by a process that is gone to the queue; the number returned. */
  recoverLeases(now: number): number;
  /**
   * Leases up to `limit` deliveries due at `now`, oldest due first, with the messages they belong to, leaving out
   * those for `excludedDomains` (destinations whose ready queue is full).
   */
  claim(now: number, limit: number, leaseMs: number, excludedDomains?: readonly string[]): ClaimedBatch;
  /** The earliest next_attempt_at of a queued delivery outside `excludedDomains`, null when none waits. */
  nextDueAt(excludedDomains?: readonly string[]): number | null;
  /**
   * Applies results, releases, signatures, volume counts and events in one transaction, committed when it returns
   * (throws if it fails); the promise gives the messages that became complete once the commit is durable.
   */
  record(batch: ResultBatch, now: number): Promise<CompletedMessage[]>;
}

/** Operator actions (`relaygate queue …`); each returns the number of deliveries it changed. In-flight deliveries are left alone. */
export interface QueueOperations {
  /** Queued deliveries become due now. */
  retry(selection: QueueSelection, now: number): number;
  /** Queued deliveries wait for release. */
  hold(selection: QueueSelection): number;
  /** Held deliveries become due now. */
  release(selection: QueueSelection, now: number): number;
  /** Queued and held deliveries end without delivery or bounce; returns the messages that became complete too. */
  delete(selection: QueueSelection, now: number): { deliveries: number; completed: CompletedMessage[] };
}

/** Daily recipient counts per source address and warm-up start days, for warm-up caps. */
export interface SourceVolumeStore {
  recipientsOn(day: string): Map<string, number>;
  warmupStarts(): Map<string, string>;
  /** Records the day an address without a configured start began warming up; an existing record is kept. */
  startWarmup(address: string, day: string): void;
  /** Drops counts of days before `day`. */
  pruneBefore(day: string): void;
}
