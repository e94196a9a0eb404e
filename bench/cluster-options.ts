import { parseArgs } from 'node:util';
import { UsageError } from '../src/cli/cli-context.js';
import { positiveInteger } from './bench-options.js';
import { WORKLOADS, type WorkloadShape } from './bench-workloads.js';

export interface ClusterBenchOptions {
  /** Node counts of the cluster runs, ascending. */
  nodes: number[];
  redisUrl: string;
  /** The reuse workload with the command line's overrides. */
  workload: WorkloadShape;
  runs: number;
  /** The open-loop rate (msg/s) of the latency comparison; null: no open loop. */
  rate: number | null;
  /** smtp.workers of every node, the embedded baseline's too; null leaves the key out (relaygate's default: one per core). */
  workers: number | null;
  drainTimeoutSeconds: number;
  timeoutSeconds: number;
  json: boolean;
}

export const CLUSTER_USAGE = `usage: npm run bench:cluster -- [options]

  --nodes N[,N...]                cluster sizes to measure, nodes started one by one (default 1,2,3)
  --redis URL                     the Redis the nodes share; the bench keeps to a key prefix of its own and deletes
                                  it at the end (default redis://127.0.0.1:6379/0)
  --messages N                    messages per run (default 5,000)
  --connections K                 concurrent SMTP sessions, spread over the nodes in turn (default 20)
  --per-connection N              messages per session before QUIT (default 50)
  --runs N                        runs per configuration; medians are reported (default 3)
  --rate MSG/S | off              the open loop of the latency comparison, embedded store against the smallest
                                  cluster (default 100)
  --workers N                     smtp.workers of every relaygate (default: not set, relaygate's own default of one
                                  per core)
  --drain-timeout SECONDS         give up on delivery after this long without progress (default 30)
  --timeout SECONDS               bound on the whole run (default 3600)
  --json                          print the result as JSON on stdout (progress goes to stderr)
  --help`;

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/0';
/**
 * A quarter of one node's peak on the project's 2-core machine: at a moderate load the comparison shows what cluster
 * mode adds; near saturation queueing decides the tail and the runs differ by tens of milliseconds.
 */
const DEFAULT_RATE = 100;

export function parseClusterOptions(argv: string[]): ClusterBenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      nodes: { type: 'string' },
      redis: { type: 'string' },
      messages: { type: 'string' },
      connections: { type: 'string' },
      'per-connection': { type: 'string' },
      runs: { type: 'string' },
      rate: { type: 'string' },
      workers: { type: 'string' },
      'drain-timeout': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const redisUrl = values.redis ?? DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\//.test(redisUrl)) throw new UsageError(`--redis takes a redis:// or rediss:// URL, got "${redisUrl}"`);
  const reuse = WORKLOADS.reuse;
  return {
    nodes: parseNodes(values.nodes ?? '1,2,3'),
    redisUrl,
    workload: {
      name: 'reuse',
      messages: positiveInteger(values.messages, reuse.messages, '--messages'),
      size: reuse.size,
      connections: positiveInteger(values.connections, reuse.connections, '--connections'),
      messagesPerConnection: positiveInteger(values['per-connection'], reuse.messagesPerConnection, '--per-connection'),
    },
    runs: positiveInteger(values.runs, 3, '--runs'),
    rate: values.rate === 'off' ? null : positiveInteger(values.rate, DEFAULT_RATE, '--rate'),
    workers: values.workers === undefined ? null : positiveInteger(values.workers, 0, '--workers'),
    drainTimeoutSeconds: positiveInteger(values['drain-timeout'], 30, '--drain-timeout'),
    timeoutSeconds: positiveInteger(values.timeout, 3600, '--timeout'),
    json: values.json ?? false,
  };
}

function parseNodes(text: string): number[] {
  const counts = text.split(',').map((count) => positiveInteger(count.trim(), 0, '--nodes'));
  return [...new Set(counts)].sort((a, b) => a - b);
}
