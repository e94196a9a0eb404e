import { parseArgs } from 'node:util';
import { UsageError } from '../src/cli/cli-context.js';

export interface BenchOptions {
  messages: number;
  size: number;
  connections: number;
  newConnectionPerMessage: boolean;
  /** null: run the Postfix comparison when its tools are installed, skip it (saying why) otherwise. */
  comparePostfix: boolean | null;
  /** Install Postfix's missing tools with apt-get before the comparison. */
  install: boolean;
  json: boolean;
  /** Run relaygate a second time with a webhook event destination taking Send and Delivery events of every message. */
  events: boolean;
  /** How long delivery may make no progress before the undelivered messages count as lost. */
  drainTimeoutSeconds: number;
  /** Bound on the whole run, setup and teardown included. */
  timeoutSeconds: number;
}

export const USAGE = `usage: npm run bench -- [options]

  --messages N                    messages to submit (default 5000)
  --size BYTES                    size of each message, headers included (default 2048)
  --connections K                 concurrent SMTP sessions (default 20)
  --new-connection-per-message    one STARTTLS + AUTH session per message instead of reusing sessions
  --compare-postfix               run the same workload through a private Postfix + OpenDKIM
                                  (default: when postfix, opendkim and saslpasswd2 are installed)
  --no-compare-postfix            relaygate only
  --install                       apt-get install what the Postfix comparison lacks (needs root)
  --drain-timeout SECONDS         give up on delivery after this long without progress (default 30)
  --timeout SECONDS               bound on the whole run (default 600)
  --events                        run relaygate again with a webhook event destination taking Send + Delivery
                                  events of every message (batches of 100 records), and compare
  --json                          print the result as JSON on stdout (progress goes to stderr)
  --help`;

export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      messages: { type: 'string' },
      size: { type: 'string' },
      connections: { type: 'string' },
      'new-connection-per-message': { type: 'boolean' },
      'compare-postfix': { type: 'boolean' },
      // parseArgs learnt --no-* options only in Node 22, and Node 20 must keep working.
      'no-compare-postfix': { type: 'boolean' },
      install: { type: 'boolean' },
      'drain-timeout': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      events: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (values['compare-postfix'] && values['no-compare-postfix']) throw new UsageError('--compare-postfix and --no-compare-postfix contradict each other');
  const size = positiveInteger(values.size, 2048, '--size');
  return {
    messages: positiveInteger(values.messages, 5000, '--messages'),
    size,
    connections: positiveInteger(values.connections, 20, '--connections'),
    newConnectionPerMessage: values['new-connection-per-message'] ?? false,
    comparePostfix: values['compare-postfix'] ? true : values['no-compare-postfix'] ? false : null,
    install: values.install ?? false,
    json: values.json ?? false,
    events: values.events ?? false,
    drainTimeoutSeconds: positiveInteger(values['drain-timeout'], 30, '--drain-timeout'),
    timeoutSeconds: positiveInteger(values.timeout, 600, '--timeout'),
  };
}

/** An option's whole-number value above zero, or `fallback` when it is absent. */
export function positiveInteger(text: string | undefined, fallback: number, option: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`${option} takes a positive whole number, got "${text}"`);
  return value;
}
