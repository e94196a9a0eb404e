import type { Logger } from 'pino';
import { producesEvents, sendEvent } from '../events/producers/message-for-events.js';
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

  /** Calls `listener` after each commit, once the waiting sessions have their answer (the delivery engine wakes on it). */
  onCommitted(listener: () => void): void {
    this.committedListeners.push(listener);
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

  private insert(batch: readonly PendingCommit[]): Promise<void> {
    const messages = batch.map((pending) => pending.message);
    return this.queue.insert(messages, messages.filter(producesEvents).map(sendEvent));
  }

  private async commit(): Promise<void> {
    this.scheduled = false;
    this.committing = true;
    // A message retried after a failed group commit goes in a commit of its own.
    const batch = this.waiting[0]?.alone ? [this.waiting[0]] : this.waiting.filter((pending) => !pending.alone);
    this.waiting = this.waiting.filter((pending) => !batch.includes(pending));
    let durable: Promise<void>;
    try {
      await this.spool.syncDirectories(batch.flatMap((pending) => (pending.directory ? [pending.directory] : [])));
      durable = this.insert(batch);
    } catch (error) {
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
    try {
      await durable;
    } catch (error) {
      // Committed but not known to be on disk: no 250, so the client keeps its copy (a retry may then be delivered twice).
      this.log.error({ err: error, messages: batch.length }, 'queue commit could not be fsynced');
      for (const pending of batch) pending.reject(error as Error);
      return;
    }
    for (const pending of batch) pending.resolve();
    for (const listener of this.committedListeners) listener();
  }
}
