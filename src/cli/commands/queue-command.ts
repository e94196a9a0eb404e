import { Command } from 'commander';
import { SqliteQueueStore } from '../../queue/sqlite-queue-store.js';
import type { QueuedMessageSummary } from '../../queue/queued-message.js';
import { commandConfig, output, table, UsageError } from '../cli-context.js';

const summaryJson = (message: QueuedMessageSummary) => ({
  MessageId: message.id,
  AccountId: message.accountId,
  MailFrom: message.mailFrom,
  Recipients: message.recipients,
  Size: message.size,
  ReceivedAt: message.receivedAt.toISOString(),
});

export function queueCommand(): Command {
  const command = new Command('queue').description("inspect this node's queue of accepted messages");

  command
    .command('list')
    .description('list queued messages, oldest first')
    .option('--account <accountId>', 'only this account')
    .option('--limit <n>', 'at most this many messages')
    .option('--json', 'print JSON')
    .action((options: { account?: string; limit?: string; json?: boolean }, self: Command) => {
      const limit = options.limit === undefined ? undefined : Number(options.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError('--limit must be a positive whole number');
      const queue = SqliteQueueStore.open(commandConfig(self).dataDir);
      try {
        const messages = queue.list({ accountId: options.account, limit });
        output(options.json, messages.map(summaryJson), () =>
          table(
            ['MESSAGE ID', 'ACCOUNT', 'FROM', 'RECIPIENTS', 'SIZE', 'RECEIVED'],
            messages.map((m) => [m.id, m.accountId, m.mailFrom || '<>', m.recipients.join(','), String(m.size), m.receivedAt.toISOString()]),
          ),
        );
      } finally {
        queue.close();
      }
    });

  return command;
}
