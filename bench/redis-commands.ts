import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** The commands of one kind that relaygate's connections sent during a watch. */
export interface RedisCommandRow {
  /** The connection's name (CLIENT SETNAME: relaygate-send-limits, relaygate-control, …). */
  connection: string;
  /** Upper case; a command queued inside MULTI … EXEC is shown as `(MULTI) COMMAND`. */
  command: string;
  /** The first key under the bench's prefix, prefix removed and ids replaced by `…` (`limits:…`, `cp:suppression:…`). */
  key: string;
  calls: number;
  /** Round trips they took: a MULTI … EXEC block is one (its MULTI row counts it), anything else one per command. */
  roundTrips: number;
}

export interface RedisCommandTally {
  rows: RedisCommandRow[];
  commands: number;
  roundTrips: number;
  /** redis-server's own CPU time (user + system, the whole server) during the watch. */
  serverCpuMs: number;
}

export interface RedisCommandWatch {
  stop(): Promise<RedisCommandTally>;
}

const MARKER_TIMEOUT_MS = 10_000;

interface SourceCounts {
  /** It sent a command naming a key under the prefix: one of the nodes' connections, not another user of the same Redis. */
  ours: boolean;
  inTransaction: boolean;
  counts: Map<string, { command: string; key: string; calls: number; roundTrips: number }>;
}

/**
 * Counts what relaygate's nodes ask Redis, with MONITOR. INFO commandstats would count every client of the server
 * (the machine's Redis is shared) and cannot tell which part of relaygate sent a command; MONITOR names each
 * command's connection, whose name (CLIENT LIST) says what it serves. A connection counts as the nodes' once it
 * names a key under `keyPrefix`, which nobody else uses. Commands that scripts run inside Redis (source "lua") are
 * not round trips and are left out; an ioredis pipeline (several commands in one write, without MULTI) cannot be
 * told apart from separate round trips here and counts one per command.
 */
export async function watchRedisCommands(admin: Redis, keyPrefix: string): Promise<RedisCommandWatch> {
  const sources = new Map<string, SourceCounts>();
  const cpuBefore = await serverCpuMs(admin);
  const monitor = await admin.monitor();
  monitor.on('error', () => undefined);
  let onMarker: (() => void) | null = null;
  const marker = `relaygate-bench-marker-${randomUUID()}`;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const [name, ...rest] = args;
    if (!name || source === 'lua') return;
    if (name.toLowerCase() === 'echo' && rest[0] === marker) return onMarker?.();
    let counts = sources.get(source);
    if (!counts) sources.set(source, (counts = { ours: false, inTransaction: false, counts: new Map() }));
    const command = name.toUpperCase();
    const key = rest.find((arg) => arg.startsWith(keyPrefix));
    if (key !== undefined) counts.ours = true;
    const label = counts.inTransaction ? `(MULTI) ${command}` : command;
    const shape = key === undefined ? '' : keyShape(key.slice(keyPrefix.length));
    const row = counts.counts.get(`${label} ${shape}`) ?? { command: label, key: shape, calls: 0, roundTrips: 0 };
    row.calls++;
    if (!counts.inTransaction) row.roundTrips++;
    counts.counts.set(`${label} ${shape}`, row);
    if (command === 'MULTI') counts.inTransaction = true;
    else if (command === 'EXEC' || command === 'DISCARD') counts.inTransaction = false;
  });
  return {
    async stop() {
      // MONITOR's feed trails the commands: once it shows an ECHO sent now, it has shown everything before it.
      const seen = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('Redis MONITOR stopped reporting commands')), MARKER_TIMEOUT_MS);
        onMarker = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      await admin.echo(marker);
      await seen;
      monitor.disconnect();
      const names = await clientNames(admin);
      const rows = [...sources]
        .filter(([, counts]) => counts.ours)
        .flatMap(([source, counts]) => [...counts.counts.values()].map((row) => ({ connection: names.get(source) ?? '(closed before the end of the run)', ...row })));
      return tallyOf(rows, (await serverCpuMs(admin)) - cpuBefore);
    },
  };
}

/** The two tallies together (of two runs). */
export function addTallies(a: RedisCommandTally, b: RedisCommandTally): RedisCommandTally {
  return tallyOf([...a.rows, ...b.rows], a.serverCpuMs + b.serverCpuMs);
}

/** Rows of the same connection, command and key added up, most calls first, and the totals. */
function tallyOf(counted: RedisCommandRow[], serverCpuMs: number): RedisCommandTally {
  const rows = new Map<string, RedisCommandRow>();
  for (const row of counted) {
    const id = `${row.connection} ${row.command} ${row.key}`;
    const sum = rows.get(id) ?? { ...row, calls: 0, roundTrips: 0 };
    sum.calls += row.calls;
    sum.roundTrips += row.roundTrips;
    rows.set(id, sum);
  }
  const sorted = [...rows.values()].sort((x, y) => y.calls - x.calls);
  return {
    rows: sorted,
    commands: sorted.reduce((sum, row) => sum + row.calls, 0),
    roundTrips: sorted.reduce((sum, row) => sum + row.roundTrips, 0),
    serverCpuMs,
  };
}

/** A key without its ids, so that the same kind of key of every account, node or run falls in one row. */
function keyShape(key: string): string {
  return key
    .split(':')
    .map((part) => (/[0-9A-Z@.|]/.test(part) ? '…' : part))
    .join(':');
}

/** CLIENT LIST: each connection's address (as MONITOR names it) and name. */
async function clientNames(admin: Redis): Promise<Map<string, string>> {
  const list = (await admin.client('LIST')) as string;
  const names = new Map<string, string>();
  for (const line of list.split('\n')) {
    const fields = Object.fromEntries(line.trim().split(' ').map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)]));
    if (fields.addr) names.set(fields.addr, fields.name || '(no name)');
  }
  return names;
}

async function serverCpuMs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const seconds = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000;
}
