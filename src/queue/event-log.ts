import type { MailEvent, StoredMailEvent } from '../events/mail-event.js';

/**
 * The queue database's append-only log of MailEvents (see events/mail-event.ts), read by named consumers, each
 * from its own cursor. Appending happens inside the queue store's transactions (acceptance, delivery results,
 * feedback), so an event exists exactly when the change that caused it was committed.
 */
export interface EventLog {
  /** Appends in a transaction of its own; producers inside another queue transaction pass their events to it instead. */
  append(events: readonly MailEvent[]): void;
  /**
   * Up to `limit` events after the consumer's cursor, oldest first. The first read registers the consumer (from the
   * log's start). Consumers may be handed the same event objects: they must not change them.
   */
  read(consumer: string, limit: number): StoredMailEvent[];
  /** Moves the consumer's cursor past `seq` (events up to it are done). */
  advance(consumer: string, seq: number): void;
  /** Events after the consumer's cursor. */
  backlog(consumer: string): number;
  /**
   * Registers a consumer that has no cursor yet at the first event of time `from` (ms) or later, so a consumer created
   * today (an event destination added to a busy configuration set) does not replay the log's past; a no-op otherwise.
   */
  start(consumer: string, from: number): void;
  /** The registered consumers and their cursors. */
  consumers(): Array<{ consumer: string; seq: number }>;
  /** Forgets a consumer (its destination was deleted), so its cursor no longer holds back pruning. */
  drop(consumer: string): void;
  /** Calls `listener` after every commit that appended events (in this process). */
  onAppended(listener: () => void): void;
  /** Drops events that every registered consumer has passed and that are older than `before` (ms); returns how many. */
  prune(before: number): number;
}
