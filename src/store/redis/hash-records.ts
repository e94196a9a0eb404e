import type { Redis } from 'ioredis';
import { AlreadyExistsError, NotFoundError } from '../control-store.js';
import { runScript } from './control-scripts.js';

/**
 * A record as a Redis hash: every field JSON, dates as epoch milliseconds, so nested values (DKIM keys, event
 * destinations, notification topics) round-trip exactly and stay readable in redis-cli.
 */
export function hashFields(record: object): string[] {
  const fields: string[] = [];
  for (const [field, value] of Object.entries(record)) {
    if (value !== undefined) fields.push(field, JSON.stringify(value instanceof Date ? value.getTime() : value));
  }
  return fields;
}

/** The record a hash holds (null for a missing key), with the named fields turned back into dates. */
export function fromHash<T>(hash: Record<string, string>, dateFields: readonly (keyof T & string)[]): T | null {
  const fields = Object.entries(hash);
  if (fields.length === 0) return null;
  const record: Record<string, unknown> = {};
  for (const [field, value] of fields) record[field] = JSON.parse(value);
  for (const field of dateFields) if (typeof record[field] === 'number') record[field] = new Date(record[field]);
  return record as T;
}

/** The replies of a pipeline or MULTI, failing with its first error. */
export function pipelineReplies(results: Array<[Error | null, unknown]> | null): unknown[] {
  if (!results) throw new Error('Redis transaction aborted');
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/** The records of the keys, in order, skipping keys that no longer exist (deleted between the index read and this). */
export async function readRecords<T>(redis: Redis, keys: readonly string[], dateFields: readonly (keyof T & string)[]): Promise<T[]> {
  if (keys.length === 0) return [];
  const hashes = pipelineReplies(await redis.pipeline(keys.map((key) => ['hgetall', key])).exec()) as Array<Record<string, string>>;
  return hashes.flatMap((hash) => fromHash<T>(hash, dateFields) ?? []);
}

export interface NewRecord {
  key: string;
  /** What the record is, for AlreadyExistsError ("account 1234…"). */
  what: string;
  /** The account the record belongs to, which must exist (as SQLite's foreign keys demand); null for an account itself. */
  account: { id: string; key: string } | null;
  /** Sorted sets the record joins, each with its score. */
  indexes: ReadonlyArray<readonly [key: string, score: number]>;
  member: string;
  record: object;
}

/** Writes a record and its index entries at once; fails if it exists or its account does not. */
export async function insertRecord(redis: Redis, record: NewRecord): Promise<void> {
  const keys = [record.key, record.account?.key ?? record.key, ...record.indexes.map(([key]) => key)];
  const args = [...record.indexes.map(([, score]) => score), record.member, ...hashFields(record.record)];
  const result = await runScript(redis, 'relaygateCreateRecord', keys, args);
  if (result === 'exists') throw new AlreadyExistsError(record.what);
  if (result === 'no-account') throw new NotFoundError(`account ${record.account?.id}`);
}

/** Rewrites every field of an existing record; NotFoundError when it was deleted meanwhile. */
export async function replaceRecord(redis: Redis, key: string, what: string, record: object): Promise<void> {
  if ((await runScript(redis, 'relaygateReplaceRecord', [key], hashFields(record))) !== 1) throw new NotFoundError(what);
}
