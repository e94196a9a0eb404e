import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { UsageError } from '../../src/cli/cli-context.js';
import { positiveInteger } from '../bench-options.js';

export interface FuzzCliOptions {
  seed: number;
  lines: number;
  concurrency: number;
  /** Replay this one session (its seed as printed with a finding) with its dialogue. */
  session: number | null;
  deadlineSeconds: number;
  drainTimeoutSeconds: number;
  /** After a crash, restart the gateway and go on. */
  keepGoing: boolean;
  json: boolean;
}

export const USAGE = `usage: npm run fuzz -- [options]

  --seed N                 seed of the run (default: a random one, printed); the same seed gives the same sessions
  --lines N                stop starting sessions once N lines have been sent (default 100000)
  --concurrency N          sessions at the same time (default 8)
  --session SEED           replay one session alone, printing its dialogue (the seed printed with a finding)
  --deadline SECONDS       a reply owed for this long on an open connection is a hang (default 15: above
                           the gateway's smtp.tlsHandshakeTimeoutSeconds, 10, which cuts a stalled handshake)
  --drain-timeout SECONDS  at the end, wait this long without a delivery before giving up on the rest (default 15)
  --keep-going             after a crash, start the gateway again on the same data directory and go on
                           (default: the run ends at the first crash)
  --json                   print the result as JSON on stdout (progress goes to stderr)
  --help

Exits 1 when the gateway crashed, hung, or sent a malformed or unsolicited reply; 2 on a usage error.`;

const MAX_SEED = 0xffff_ffff;

export function parseFuzzOptions(argv: string[]): FuzzCliOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      seed: { type: 'string' },
      lines: { type: 'string' },
      concurrency: { type: 'string' },
      session: { type: 'string' },
      deadline: { type: 'string' },
      'drain-timeout': { type: 'string' },
      'keep-going': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  return {
    seed: values.seed === undefined ? randomInt(MAX_SEED) : seed(values.seed, '--seed'),
    lines: positiveInteger(values.lines, 100_000, '--lines'),
    concurrency: positiveInteger(values.concurrency, 8, '--concurrency'),
    session: values.session === undefined ? null : seed(values.session, '--session'),
    deadlineSeconds: positiveInteger(values.deadline, 15, '--deadline'),
    drainTimeoutSeconds: positiveInteger(values['drain-timeout'], 15, '--drain-timeout'),
    keepGoing: values['keep-going'] ?? false,
    json: values.json ?? false,
  };
}

function seed(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_SEED) throw new UsageError(`${option} takes a whole number from 0 to ${MAX_SEED}, got "${text}"`);
  return value;
}
