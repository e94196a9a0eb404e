import type { MailEvent, StoredMailEvent } from '../events/mail-event.js';

/**
 * The queue database's append-only log of MailEvents (see events/mail-event.ts), read by named consumers, each
 * from its own cursor. Appending happens inside the queue store's transactions (acceptance, delivery results,
 * feedback), so an event exists exactly when the change that caused it was committed.
 */
export interface EventLog {
  /** Appends in a transaction of its own; producers inside another queue transaction pass their events to it instead. */
  append(events: readonly MailEvent[]): void;
  /** Up to `limit` events after the consumer's cursor, oldest first. The first read registers the consumer (from the log's start). */
  read(consumer: string, limit: number): StoredMailEvent[];
  /** Moves the consumer's cursor past `seq` (events up to it are done). */
  advance(consumer: string, seq: number): void;
  /** Events after the consumer's cursor. */
  backlog(consumer: string): number;
  /** Calls `listener` after every commit that appended events (in this process). */
  onAppended(listener: () => void): void;
  /** Drops events that every registered consumer has passed and that are older than `before` (ms); returns how many. */
  prune(before: number): number;
}
