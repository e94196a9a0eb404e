import type { QueueSelection } from './queued-message.js';

/** The SQL condition on the deliveries table for a selection, with its named parameters; null when it names nothing. */
export function deliverySelection(selection: QueueSelection): { sql: string; params: Record<string, string> } | null {
  const conditions: string[] = [];
  const params: Record<string, string> = {};
  if (selection.messageId !== undefined) {
    conditions.push('message_id = @messageId');
    params.messageId = selection.messageId;
  }
  if (selection.domain !== undefined) {
    conditions.push('domain = @domain');
    params.domain = selection.domain.toLowerCase();
  }
  if (selection.accountId !== undefined) {
    conditions.push('message_id IN (SELECT id FROM messages WHERE account_id = @accountId)');
    params.accountId = selection.accountId;
  }
  return conditions.length > 0 ? { sql: conditions.join(' AND '), params } : null;
}
