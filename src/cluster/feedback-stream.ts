import type { Redis } from 'ioredis';
import type { FeedbackRouter, RoutedReport } from '../feedback/intake/feedback-router.js';
import type { ClusterKeys } from './cluster-keys.js';

/**
 * Reports for another node's return paths go into that node's stream (`node:<id>:feedback`), one entry per report
 * with its envelope and bytes; the node reads it with a consumer group (feedback-inbox.ts). An entry is durable once
 * XADD returns, as far as Redis persists what it acknowledged (appendonly, README).
 */
export class RedisFeedbackRouter implements FeedbackRouter {
  /** Nodes found in the cluster's set of nodes: a node never leaves it, so once is enough. */
  private readonly known = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
  ) {}

  async isNode(node: string): Promise<boolean> {
    if (this.known.has(node)) return true;
    const member = (await this.redis.sismember(this.keys.nodes, node)) === 1;
    if (member) this.known.add(node);
    return member;
  }

  async forward(node: string, report: RoutedReport): Promise<void> {
    await this.redis.xadd(this.keys.feedback(node), '*', ...encodeReport(report));
  }
}

function encodeReport(report: RoutedReport): Array<string | Buffer> {
  return ['mailFrom', report.mailFrom, 'recipients', JSON.stringify(report.recipients), 'remoteAddress', report.remoteAddress, 'via', report.via, 'raw', report.raw];
}

/** A stream entry's report, or null when it lacks a field (written by a version that does not match this one). */
export function decodeReport(fields: readonly Buffer[]): RoutedReport | null {
  const values = new Map<string, Buffer>();
  for (let index = 0; index + 1 < fields.length; index += 2) values.set(fields[index]!.toString(), fields[index + 1]!);
  const text = (name: string) => values.get(name)?.toString('utf8');
  const [mailFrom, recipients, remoteAddress, via, raw] = [text('mailFrom'), text('recipients'), text('remoteAddress'), text('via'), values.get('raw')];
  if (mailFrom === undefined || recipients === undefined || remoteAddress === undefined || via === undefined || raw === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(recipients);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || !parsed.every((recipient) => typeof recipient === 'string')) return null;
  return { mailFrom, recipients: parsed, remoteAddress, via, raw };
}
