import { Command } from 'commander';
import { output, table, withQueue } from '../cli-context.js';

export function eventsCommand(): Command {
  const command = new Command('events').description('the event log and the consumers reading it (event destinations, notification topics)');

  command
    .command('status')
    .description("each consumer's position in the event log and its backlog (events not yet sent: a destination that is down grows it)")
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, self: Command) => {
      const consumers = await withQueue(self, (queue) =>
        queue.events.consumers().map(({ consumer, seq }) => ({ Consumer: consumer, Position: seq, Backlog: queue.events.backlog(consumer) })),
      );
      output(options.json, consumers, () =>
        table(
          ['CONSUMER', 'POSITION', 'BACKLOG'],
          consumers.map((entry) => [entry.Consumer, String(entry.Position), String(entry.Backlog)]),
        ),
      );
    });

  return command;
}
