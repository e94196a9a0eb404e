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
}

/**
 * Makes accepted messages durable before anyone answers 250: a body file is fsynced, then the
 * messages that finished in the same moment share one directory fsync and one SQLite commit
 * (group commit), so concurrent sessions do not pay one fsync each. Inline bodies ride in that commit,
 * and so do the messages' Send events.
 */
export class MessageAcceptor {
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
    await new Promise<void>((resolve, reject) => {
      this.waiting.push({ message, directory: file?.directory ?? null, resolve, reject });
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

  private async commit(): Promise<void> {
    this.scheduled = false;
    this.committing = true;
    const batch = this.waiting;
    this.waiting = [];
    try {
      await this.spool.syncDirectories(batch.flatMap((pending) => (pending.directory ? [pending.directory] : [])));
      const messages = batch.map((pending) => pending.message);
      this.queue.insert(messages, messages.filter(producesEvents).map(sendEvent));
      for (const pending of batch) pending.resolve();
      for (const listener of this.committedListeners) listener();
    } catch (error) {
      this.log.error({ err: error, messages: batch.length }, 'queue commit failed');
      for (const pending of batch) pending.reject(error as Error);
    } finally {
      this.committing = false;
      if (this.waiting.length > 0) this.schedule();
    }
  }
}
