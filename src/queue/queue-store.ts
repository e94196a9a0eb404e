import type { QueueFilter, QueuedMessage, QueuedMessageSummary } from './queued-message.js';

/** The node-local delivery queue: message rows and one delivery row per recipient. */
export interface QueueStore {
  /** Inserts the messages and their deliveries in one transaction; durable when it returns. */
  insert(messages: readonly QueuedMessage[]): void;
  get(id: string): QueuedMessage | null;
  list(filter?: QueueFilter): QueuedMessageSummary[];
  /** Spool file names the queue refers to (to find orphans left by a crash before commit). */
  bodyFileNames(): Set<string>;
  close(): void;
}
