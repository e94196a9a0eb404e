import type { Logger } from 'pino';
import { producesEvents, sendEvent } from '../events/producers/message-for-events.js';
import type { ClaimedBatch, ClaimedDelivery, DeliveryLease, MessageForDelivery } from './delivery-records.js';
import type { QueueStore } from './queue-store.js';
import type { QueuedMessage } from './queued-message.js';
import type { Spool, SpoolFile } from './spool.js';

interface PendingCommit {
  message: QueuedMessage;
  /** The spool directory of the body file, when the body is not inline. */
  directory: string | null;
  resolve: () => void;
  reject: (error: Error) => void;
  /** Set after a failed group commit: committed on its own, so its failure is only its own. */
  alone?: boolean;
}

/** Makes an accepted message durable: resolves once it is committed, before anyone answers 250. */
export interface Acceptor {
  accept(message: QueuedMessage, file: SpoolFile | null): Promise<void>;
}

/**
 * Takes fresh mail straight to delivery: its deliveries are leased in the commit that inserts them, and the messages
 * go over as they are in memory, so the engine does not claim them back from the queue (a write transaction, and the
 * bodies read again). Mail it cannot take at once is queued as usual.
 */
export interface DeliveryHandoff {
  /** A lease for every delivery of `messages` if they can all be taken now (capacity reserved), else null. */
  lease(messages: readonly QueuedMessage[]): DeliveryLease | null;
  /** The leased deliveries, committed and durable, with their messages (a handoff that is stopping may leave them leased). */
  take(batch: ClaimedBatch): void;
  /** What `lease` reserved for `messages` will not come: the commit failed. */
  cancel(messages: readonly QueuedMessage[]): void;
}

/**
 * Makes accepted messages durable before anyone answers 250: a body file is fsynced, then the
 * messages that finished in the same moment share one directory fsync and one SQLite commit
 * (group commit), so concurrent sessions do not pay one fsync each. Inline bodies ride in that commit,
 * and so do the messages' Send events.
 */
export class MessageAcceptor implements Acceptor {
  private waiting: PendingCommit[] = [];
  private scheduled = false;
  private committing = false;
  private readonly committedListeners: Array<() => void> = [];
  private handoff: DeliveryHandoff | null = null;

  constructor(
    private readonly spool: Spool,
    private readonly queue: QueueStore,
    private readonly log: Logger,
  ) {}

  async accept(message: QueuedMessage, file: SpoolFile | null): Promise<void> {
    if (file) await this.spool.sync(file);
    await this.commitSynced(message, file?.directory ?? null);
  }

  /** Commits a message whose body file (in `directory`) is already fsynced: a session worker's (app/workers). */
  commitSynced(message: QueuedMessage, directory: string | null): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ message, directory, resolve, reject });
      this.schedule();
    });
  }

  /** Calls `listener` after each commit that queued mail, once the waiting sessions have their answer (the delivery engine wakes on it). */
  onCommitted(listener: () => void): void {
    this.committedListeners.push(listener);
  }

  /** Offers each commit's mail to `handoff` before it is inserted. */
  handOffTo(handoff: DeliveryHandoff): void {
    this.handoff = handoff;
  }

  /** Removes body files that no queue row refers to: a crash came between writing and committing, so no 250 was given. */
  async removeOrphans(files: readonly string[]): Promise<number> {
    const known = this.queue.bodyFileNames();
    const orphans = files.filter((name) => !known.has(name));
    await Promise.all(orphans.map((name) => this.spool.remove(name)));
    return orphans.length;
  }

  private schedule(): void {
    if (this.scheduled || this.committing) return;
    this.scheduled = true;
    setImmediate(() => void this.commit());
  }

  private async commit(): Promise<void> {
    this.scheduled = false;
    this.committing = true;
    // A message retried after a failed group commit goes in a commit of its own.
    const batch = this.waiting[0]?.alone ? [this.waiting[0]] : this.waiting.filter((pending) => !pending.alone);
    this.waiting = this.waiting.filter((pending) => !batch.includes(pending));
    const messages = batch.map((pending) => pending.message);
    let lease: DeliveryLease | null = null;
    let durable: Promise<ClaimedDelivery[]>;
    try {
      await this.spool.syncDirectories(batch.flatMap((pending) => (pending.directory ? [pending.directory] : [])));
      lease = this.handoff?.lease(messages) ?? null;
      durable = this.queue.insert(messages, messages.filter(producesEvents).map(sendEvent), lease);
    } catch (error) {
      if (lease) this.handoff?.cancel(messages);
      if (batch.length === 1) {
        this.log.error({ err: error, messageId: batch[0]!.message.id }, 'queue commit failed');
        batch[0]!.reject(error as Error);
      } else {
        // One message the store refuses must not fail the others that happened to share its commit.
        this.log.warn({ err: error, messages: batch.length }, 'group commit failed; committing its messages one by one');
        for (const pending of batch) this.waiting.unshift({ ...pending, alone: true });
      }
      return;
    } finally {
      // The next batch commits while this one's fsync runs; the fsyncs themselves are grouped (WalSync).
      this.committing = false;
      if (this.waiting.length > 0) this.schedule();
    }
    let leased: ClaimedDelivery[];
    try {
      leased = await durable;
    } catch (error) {
      // Committed but not known to be on disk: no 250, so the client keeps its copy (a retry may then be delivered twice).
      // Deliveries leased in the commit wait for the next start, which queues every lease again.
      this.log.error({ err: error, messages: batch.length }, 'queue commit could not be fsynced');
      if (lease) this.handoff?.cancel(messages);
      for (const pending of batch) pending.reject(error as Error);
      return;
    }
    for (const pending of batch) pending.resolve();
    if (lease) this.handoff?.take({ deliveries: leased, messages: new Map(messages.map((message) => [message.id, forDelivery(message)])) });
    else for (const listener of this.committedListeners) listener();
  }
}

/** The message as the delivery engine reads it from the queue (sqlite-delivery-leases.ts), from memory instead. */
function forDelivery(message: QueuedMessage): MessageForDelivery {
  return {
    id: message.id,
    accountId: message.accountId,
    mailFrom: message.mailFrom,
    header: message.header,
    body: message.body,
    bodyFile: message.bodyFile,
    size: message.size,
    receivedAt: message.receivedAt.getTime(),
    metadata: message.metadata,
    dkimSignature: message.dkimSignature ?? null,
  };
}
