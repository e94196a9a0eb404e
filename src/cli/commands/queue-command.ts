import { Command } from 'commander';
import { touchQueueWakeup } from '../../queue/queue-wakeup.js';
import type { DeliveryDetails, MessageDetails, QueueSelection, QueuedMessageSummary } from '../../queue/queued-message.js';
import { Spool } from '../../queue/spool.js';
import { SqliteQueueStore } from '../../queue/sqlite-queue-store.js';
import { NotFoundError } from '../../store/control-store.js';
import { commandConfig, output, table, UsageError } from '../cli-context.js';

const iso = (date: Date | null) => date?.toISOString() ?? null;

const summaryJson = (message: QueuedMessageSummary) => ({
  MessageId: message.id,
  AccountId: message.accountId,
  MailFrom: message.mailFrom,
  Recipients: message.recipients,
  Size: message.size,
  ReceivedAt: message.receivedAt.toISOString(),
  States: message.states,
});

/** A recipient's result under the names SES notifications use where they have one. */
const deliveryJson = (delivery: DeliveryDetails) => ({
  Recipient: delivery.recipient,
  State: delivery.state,
  Attempts: delivery.attempts,
  NextAttemptAt: iso(delivery.nextAttemptAt),
  FirstAttemptAt: iso(delivery.firstAttemptAt),
  LastAttemptAt: iso(delivery.lastAttemptAt),
  FinishedAt: iso(delivery.finishedAt),
  ProcessingTimeMillis: delivery.processingTimeMillis,
  SmtpResponse: delivery.response,
  RemoteMtaIp: delivery.remoteMta,
  MxHost: delivery.mxHost,
  SourceIp: delivery.sourceIp,
  ReportingMTA: delivery.reportingMta,
  BounceType: delivery.bounceType,
  BounceSubType: delivery.bounceSubType,
  Category: delivery.category,
});

const detailsJson = (message: MessageDetails) => ({
  MessageId: message.id,
  AccountId: message.accountId,
  MailFrom: message.mailFrom,
  Size: message.size,
  ReceivedAt: message.receivedAt.toISOString(),
  CompletedAt: iso(message.completedAt),
  Recipients: message.deliveries.map(deliveryJson),
});

const statesText = (states: QueuedMessageSummary['states']) =>
  Object.entries(states)
    .map(([state, count]) => `${state} ${count}`)
    .join(', ');

function detailsText(message: MessageDetails): string {
  const fields: Array<[string, string]> = [
    ['Message ID', message.id],
    ['Account', message.accountId],
    ['Mail from', message.mailFrom || '<>'],
    ['Size', String(message.size)],
    ['Received', message.receivedAt.toISOString()],
    ['Completed', iso(message.completedAt) ?? '-'],
  ];
  const header = fields.map(([label, value]) => `${`${label}:`.padEnd(12)}${value}`).join('\n');
  const rows = message.deliveries.map((delivery) => [
    delivery.recipient,
    delivery.state,
    String(delivery.attempts),
    iso(delivery.nextAttemptAt) ?? '-',
    delivery.bounceType && delivery.state === 'bounced' ? `${delivery.bounceType}/${delivery.bounceSubType}` : '-',
    delivery.response ?? '-',
  ]);
  return `${header}\n\n${table(['RECIPIENT', 'STATE', 'ATTEMPTS', 'NEXT ATTEMPT', 'BOUNCE', 'LAST RESPONSE'], rows)}`;
}

/** Runs `action` with the queue store of the configured data directory, closing it afterwards. */
export async function withQueue<T>(command: Command, action: (queue: SqliteQueueStore, dataDir: string) => T | Promise<T>): Promise<T> {
  const { dataDir } = commandConfig(command);
  const queue = SqliteQueueStore.open(dataDir);
  try {
    return await action(queue, dataDir);
  } finally {
    queue.close();
  }
}

interface SelectionOptions {
  domain?: string;
  account?: string;
  json?: boolean;
}

function selection(messageId: string | undefined, options: SelectionOptions): QueueSelection {
  if (messageId === undefined && options.domain === undefined && options.account === undefined) {
    throw new UsageError('say which mail: a message id, --domain DOMAIN or --account ACCOUNT');
  }
  return { messageId, domain: options.domain, accountId: options.account };
}

/** retry, hold, release and delete: the same selection, a different change. */
function actionCommand(name: string, description: string, act: (queue: SqliteQueueStore, selection: QueueSelection, dataDir: string) => number | Promise<number>, done: string): Command {
  return new Command(name)
    .description(description)
    .argument('[messageId]', 'only this message')
    .option('--domain <domain>', 'only recipients at this domain')
    .option('--account <accountId>', "only this account's messages")
    .option('--json', 'print JSON')
    .action(async (messageId: string | undefined, options: SelectionOptions, self: Command) => {
      const changed = await withQueue(self, async (queue, dataDir) => {
        const count = await act(queue, selection(messageId, options), dataDir);
        // A running gateway learns of the change at once instead of at its next timer.
        if (count > 0) touchQueueWakeup(dataDir);
        return count;
      });
      output(options.json, { Action: name, Deliveries: changed }, () => `${changed} ${changed === 1 ? 'delivery' : 'deliveries'} ${done}`);
    });
}

export function queueCommand(): Command {
  const command = new Command('queue').description("inspect and manage this node's queue of accepted messages (recipients being delivered right now are left alone)");

  command
    .command('list')
    .description('list messages with recipients still to deliver (all messages with --all), oldest first')
    .option('--account <accountId>', 'only this account')
    .option('--domain <domain>', 'only messages with a recipient at this domain')
    .option('--all', 'include messages whose recipients are all delivered, bounced or deleted')
    .option('--limit <n>', 'at most this many messages')
    .option('--json', 'print JSON')
    .action(async (options: { account?: string; domain?: string; all?: boolean; limit?: string; json?: boolean }, self: Command) => {
      const limit = options.limit === undefined ? undefined : Number(options.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError('--limit must be a positive whole number');
      const messages = await withQueue(self, (queue) => queue.list({ accountId: options.account, domain: options.domain, pendingOnly: !options.all, limit }));
      output(options.json, messages.map(summaryJson), () =>
        table(
          ['MESSAGE ID', 'ACCOUNT', 'FROM', 'RECIPIENTS', 'SIZE', 'RECEIVED', 'STATES'],
          messages.map((m) => [m.id, m.accountId, m.mailFrom || '<>', m.recipients.join(','), String(m.size), m.receivedAt.toISOString(), statesText(m.states)]),
        ),
      );
    });

  command
    .command('show')
    .description("a message's recipients: state, attempts, next attempt and the last result (SMTP response, MX, bounce type)")
    .argument('<messageId>')
    .option('--json', 'print JSON')
    .action(async (messageId: string, options: { json?: boolean }, self: Command) => {
      const details = await withQueue(self, (queue) => queue.details(messageId));
      if (!details) throw new NotFoundError(`message ${messageId}`);
      output(options.json, detailsJson(details), () => detailsText(details));
    });

  command.addCommand(actionCommand('retry', 'try the selected queued and deferred recipients now', (queue, chosen) => queue.operations.retry(chosen, Date.now()), 'due now'));
  command.addCommand(actionCommand('hold', 'keep the selected queued recipients from delivery until released', (queue, chosen) => queue.operations.hold(chosen), 'held'));
  command.addCommand(actionCommand('release', 'make the selected held recipients due now', (queue, chosen) => queue.operations.release(chosen, Date.now()), 'released'));
  command.addCommand(
    actionCommand(
      'delete',
      'drop the selected queued and held recipients without delivering or bouncing them; results are kept',
      async (queue, chosen, dataDir) => {
        const { deliveries, completed } = queue.operations.delete(chosen, Date.now());
        const spool = new Spool(dataDir);
        // The body files of messages with nothing left to deliver go now; a file already gone is no error.
        await Promise.all(completed.filter(({ bodyFile }) => bodyFile !== '').map(({ bodyFile }) => spool.remove(bodyFile).catch(() => undefined)));
        return deliveries;
      },
      'deleted',
    ),
  );

  return command;
}
