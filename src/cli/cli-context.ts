import type { Command } from 'commander';
import { loadConfig, type ConfigOverrides } from '../config/load.js';
import type { GatewayConfig } from '../config/schema.js';
import { SqliteQueueStore } from '../queue/sqlite-queue-store.js';
import { openControlStore } from '../store/open-control-store.js';
import type { ControlStore } from '../store/control-store.js';
import type { SuppressionReason } from '../store/configuration-sets.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  redis?: string;
}

/** The configuration as the global --config/--data-dir/--redis options and a command's own overrides make it. */
export function commandConfig(command: Command, overrides: ConfigOverrides = {}): GatewayConfig {
  const global = command.optsWithGlobals<GlobalOptions>();
  return loadConfig(global.config ?? process.env.RELAYGATE_CONFIG, {
    dataDir: global.dataDir ?? process.env.RELAYGATE_DATA_DIR,
    redis: global.redis ?? process.env.RELAYGATE_REDIS,
    ...overrides,
  });
}

/** For connections a command opens: their failures reach the operator as the command's error, not as log lines. */
export const SILENT_LOG = { warn: () => undefined };

/** Runs `action` with the control store (the cluster's Redis with cluster.redisUrl or --redis, else the data directory's), closing it afterwards. */
export async function withControlStore<T>(command: Command, action: (store: ControlStore, config: GatewayConfig) => Promise<T>): Promise<T> {
  const config = commandConfig(command);
  const store = await openControlStore(config, SILENT_LOG);
  try {
    return await action(store, config);
  } finally {
    await store.close();
  }
}

/** Runs `action` with the queue database of the configured data directory, closing it afterwards. */
export async function withQueue<T>(command: Command, action: (queue: SqliteQueueStore, dataDir: string) => T | Promise<T>): Promise<T> {
  const { dataDir } = commandConfig(command);
  const queue = SqliteQueueStore.open(dataDir);
  try {
    return await action(queue, dataDir);
  } finally {
    queue.close();
  }
}

/** Prints `data` as JSON with --json, otherwise as the human-readable text. */
export function output(json: boolean | undefined, data: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
}

/** Formats rows as aligned columns with a header line. */
export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)';
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function parseBoolean(value: string, option: string): boolean {
  if (/^(true|yes|on|1)$/i.test(value)) return true;
  if (/^(false|no|off|0)$/i.test(value)) return false;
  throw new UsageError(`${option} takes true or false, got "${value}"`);
}

/** BOUNCE, COMPLAINT, both comma-separated, or none (an empty list). */
export function parseSuppressedReasons(value: string, option: string, alternatives = ''): SuppressionReason[] {
  if (value === '' || value === 'none') return [];
  const reasons = value.split(',').map((reason) => reason.trim().toUpperCase());
  if (reasons.some((reason) => reason !== 'BOUNCE' && reason !== 'COMPLAINT')) throw new UsageError(`${option} takes BOUNCE, COMPLAINT, both (comma-separated), none${alternatives}; got "${value}"`);
  return [...new Set(reasons)] as SuppressionReason[];
}

/** A mistake in the command line, reported without a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
