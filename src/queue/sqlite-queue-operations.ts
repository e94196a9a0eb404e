import { COMPLETE_MESSAGE_SQL } from './sqlite-message-row.js';
import type { SqliteDatabase } from '../store/sqlite/database.js';
import type { CompletedMessage } from './delivery-records.js';
import type { QueueOperations } from './queue-store.js';
import type { QueueSelection } from './queued-message.js';
import { deliverySelection } from './sqlite-queue-selection.js';

/** The condition of an operator action; an empty selection would act on the whole queue, so callers must say what they mean. */
function selectionCondition(selection: QueueSelection): { sql: string; params: Record<string, string> } {
  const condition = deliverySelection(selection);
  if (!condition) throw new Error('a queue selection needs a message id, a domain or an account');
  return condition;
}

export class SqliteQueueOperations implements QueueOperations {
  private readonly deleteAll;

  constructor(private readonly db: SqliteDatabase) {
    this.deleteAll = db.transaction((selection: QueueSelection, now: number) => {
      const { sql, params } = selectionCondition(selection);
      const messageIds = db
        .prepare(
          `UPDATE deliveries SET state = 'deleted', finished_at = @now, next_attempt_at = @now, last_response = 'Deleted by the operator'
           WHERE state IN ('queued', 'held') AND ${sql} RETURNING message_id`,
        )
        .pluck()
        .all({ ...params, now }) as string[];
      const complete = db.prepare(COMPLETE_MESSAGE_SQL);
      const completed: CompletedMessage[] = [];
      for (const id of new Set(messageIds)) {
        const row = complete.get({ id, now }) as { id: string; body_file: string } | undefined;
        if (row) completed.push({ id: row.id, bodyFile: row.body_file });
      }
      return { deliveries: messageIds.length, completed };
    });
  }

  retry(selection: QueueSelection, now: number): number {
    return this.update(`next_attempt_at = @now`, `state = 'queued'`, selection, { now });
  }

  hold(selection: QueueSelection): number {
    return this.update(`state = 'held'`, `state = 'queued'`, selection, {});
  }

  release(selection: QueueSelection, now: number): number {
    return this.update(`state = 'queued', next_attempt_at = @now`, `state = 'held'`, selection, { now });
  }

  delete(selection: QueueSelection, now: number): { deliveries: number; completed: CompletedMessage[] } {
    return this.deleteAll.immediate(selection, now);
  }

  private update(assignments: string, stateCondition: string, selection: QueueSelection, extra: Record<string, number>): number {
    const { sql, params } = selectionCondition(selection);
    return this.db.prepare(`UPDATE deliveries SET ${assignments} WHERE ${stateCondition} AND ${sql}`).run({ ...params, ...extra }).changes;
  }
}
