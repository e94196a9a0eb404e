import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import type { SuppressionReason } from '../../store/configuration-sets.js';
import { NotFoundError, type ControlStore } from '../../store/control-store.js';
import type { SuppressedDestination, SuppressionListFilter } from '../../store/suppression.js';
import { output, parseSuppressedReasons, table, UsageError, withControlStore } from '../cli-context.js';

type DataFormat = 'csv' | 'json';
type ImportAction = 'put' | 'delete';

/** SES's LastUpdateTime: epoch seconds with the milliseconds as a fraction. */
const epochSeconds = (date: Date) => date.getTime() / 1000;

const summaryJson = (entry: SuppressedDestination) => ({ EmailAddress: entry.emailAddress, Reason: entry.reason, LastUpdateTime: epochSeconds(entry.lastUpdateTime) });

const destinationJson = (entry: SuppressedDestination) => ({
  ...summaryJson(entry),
  Attributes: { ...(entry.messageId ? { MessageId: entry.messageId } : {}), ...(entry.feedbackId ? { FeedbackId: entry.feedbackId } : {}) },
});

/** An address the list can hold: one @, no spaces, within RFC 5321's lengths. */
const ADDRESS = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

function checkedAddress(value: string): string {
  if (!ADDRESS.test(value)) throw new UsageError(`"${value}" is not an email address`);
  return value;
}

function parseReason(value: string): SuppressionReason {
  const reason = value.trim().toUpperCase();
  if (reason !== 'BOUNCE' && reason !== 'COMPLAINT') throw new UsageError(`reason must be BOUNCE or COMPLAINT, got "${value}"`);
  return reason;
}

/** A date as ISO 8601 or Unix seconds (what `aws sesv2 list-suppressed-destinations --start-date` takes). */
function parseDate(value: string, option: string): Date {
  const date = /^\d+(\.\d+)?$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`${option} takes an ISO 8601 date or Unix seconds, got "${value}"`);
  return date;
}

function parseFormat(value: string): DataFormat {
  const format = value.toLowerCase();
  if (format !== 'csv' && format !== 'json') throw new UsageError(`--format takes csv or json, got "${value}"`);
  return format;
}

interface ImportRecord {
  emailAddress: string;
  reason: SuppressionReason | null;
}

/**
 * One line of an import file, as the guide gives them: CSV `address, REASON` (put) or `address` (delete); JSON lines
 * `{"emailAddress": …, "reason": …}`. Returns the record or why it failed.
 */
function parseImportLine(line: string, format: DataFormat, action: ImportAction): ImportRecord | string {
  let address: unknown;
  let reason: unknown;
  if (format === 'json') {
    try {
      ({ emailAddress: address, reason } = JSON.parse(line) as { emailAddress?: unknown; reason?: unknown });
    } catch {
      return 'not a JSON object';
    }
  } else {
    [address, reason] = line.split(',').map((field) => field.trim());
  }
  if (typeof address !== 'string' || !ADDRESS.test(address)) return 'invalid email address';
  if (action === 'delete') return { emailAddress: address, reason: null };
  if (typeof reason !== 'string' || !/^(BOUNCE|COMPLAINT)$/i.test(reason.trim())) return 'reason must be BOUNCE or COMPLAINT';
  return { emailAddress: address, reason: reason.trim().toUpperCase() as SuppressionReason };
}

async function requireAccount(store: ControlStore, accountId: string): Promise<void> {
  if (!(await store.accounts.get(accountId))) throw new NotFoundError(`account ${accountId}`);
}

export function suppressionCommand(): Command {
  const command = new Command('suppression').description(
    "manage an account's suppression list: addresses that bounced or complained are accepted but not delivered (SES's account-level suppression list)",
  );

  command
    .command('list')
    .description('list suppressed addresses, newest first, a page at a time (like ListSuppressedDestinations)')
    .requiredOption('--account <accountId>')
    .option('--reason <reasons>', 'only BOUNCE, COMPLAINT or both (comma-separated)')
    .option('--start-date <date>', 'only addresses added or updated after this date (ISO 8601 or Unix seconds)')
    .option('--end-date <date>', 'only addresses added or updated before this date')
    .option('--page-size <n>', 'entries per page (default 1000)')
    .option('--next-token <token>', 'the NextToken printed with the previous page')
    .option('--json', 'print JSON')
    .action(async (options: { account: string; reason?: string; startDate?: string; endDate?: string; pageSize?: string; nextToken?: string; json?: boolean }, self: Command) => {
      const filter: SuppressionListFilter = { nextToken: options.nextToken };
      if (options.reason !== undefined) filter.reasons = parseSuppressedReasons(options.reason, '--reason');
      if (options.startDate !== undefined) filter.startDate = parseDate(options.startDate, '--start-date');
      if (options.endDate !== undefined) filter.endDate = parseDate(options.endDate, '--end-date');
      if (options.pageSize !== undefined) {
        const size = Number(options.pageSize);
        if (!Number.isInteger(size) || size < 1 || size > 10_000) throw new UsageError('--page-size takes a whole number from 1 to 10000');
        filter.pageSize = size;
      }
      const page = await withControlStore(self, async (store) => {
        await requireAccount(store, options.account);
        return store.suppression.list(options.account, filter);
      });
      output(
        options.json,
        { SuppressedDestinationSummaries: page.entries.map(summaryJson), ...(page.nextToken ? { NextToken: page.nextToken } : {}) },
        () =>
          table(
            ['ADDRESS', 'REASON', 'LAST UPDATE'],
            page.entries.map((entry) => [entry.emailAddress, entry.reason, entry.lastUpdateTime.toISOString()]),
          ) + (page.nextToken ? `\nmore: --next-token ${page.nextToken}` : ''),
      );
    });

  command
    .command('get')
    .description('show one suppressed address, with the message and feedback that added it')
    .argument('<address>')
    .requiredOption('--account <accountId>')
    .option('--json', 'print JSON')
    .action(async (address: string, options: { account: string; json?: boolean }, self: Command) => {
      const entry = await withControlStore(self, (store) => store.suppression.get(options.account, address));
      if (!entry) throw new NotFoundError(`suppressed address ${address} in account ${options.account}`);
      const json = { SuppressedDestination: destinationJson(entry) };
      output(options.json, json, () => JSON.stringify(json, null, 2));
    });

  command
    .command('put')
    .description('add an address to the suppression list (or change its reason)')
    .argument('<address>')
    .requiredOption('--account <accountId>')
    .requiredOption('--reason <reason>', 'BOUNCE or COMPLAINT')
    .option('--json', 'print JSON')
    .action(async (address: string, options: { account: string; reason: string; json?: boolean }, self: Command) => {
      const reason = parseReason(options.reason);
      const entry = await withControlStore(self, async (store) => {
        await requireAccount(store, options.account);
        await store.suppression.put([{ accountId: options.account, emailAddress: checkedAddress(address), reason, messageId: null, feedbackId: null }]);
        return (await store.suppression.get(options.account, address))!;
      });
      output(options.json, { SuppressedDestination: destinationJson(entry) }, () => `suppressed ${entry.emailAddress} (${entry.reason})`);
    });

  command
    .command('delete')
    .description('remove an address from the suppression list')
    .argument('<address>')
    .requiredOption('--account <accountId>')
    .option('--json', 'print JSON')
    .action(async (address: string, options: { account: string; json?: boolean }, self: Command) => {
      const removed = await withControlStore(self, (store) => store.suppression.delete(options.account, [address]));
      if (removed === 0) throw new NotFoundError(`suppressed address ${address} in account ${options.account}`);
      output(options.json, { EmailAddress: address.toLowerCase(), Deleted: true }, () => `removed ${address.toLowerCase()} from the suppression list`);
    });

  command
    .command('import')
    .description('add (or remove) many addresses from a file in the guide\'s formats: CSV "address, REASON" lines, or JSON lines {"emailAddress": …, "reason": …}')
    .argument('<file>')
    .requiredOption('--account <accountId>')
    .option('--format <format>', 'csv or json (default: from the file name, else csv)')
    .option('--action <action>', 'put (add) or delete (remove; lines need only the address)', 'put')
    .option('--failed-records <file>', 'where lines that could not be imported are written (default FILE.failed)')
    .option('--json', 'print JSON')
    .action(async (file: string, options: { account: string; format?: string; action: string; failedRecords?: string; json?: boolean }, self: Command) => {
      const action = options.action.toLowerCase();
      if (action !== 'put' && action !== 'delete') throw new UsageError(`--action takes put or delete, got "${options.action}"`);
      const format = options.format ? parseFormat(options.format) : /\.(json|jsonl|ndjson)$/i.test(file) ? 'json' : 'csv';
      const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((line) => line.trim() !== '');
      const records: ImportRecord[] = [];
      const failed: string[] = [];
      lines.forEach((line, index) => {
        const parsed = parseImportLine(line, format, action);
        if (typeof parsed === 'string') failed.push(`${index + 1}: ${parsed}: ${line}`);
        else records.push(parsed);
      });
      const processed = await withControlStore(self, async (store) => {
        await requireAccount(store, options.account);
        if (action === 'delete') return store.suppression.delete(options.account, records.map((record) => record.emailAddress));
        return store.suppression.put(records.map((record) => ({ accountId: options.account, emailAddress: record.emailAddress, reason: record.reason!, messageId: null, feedbackId: null })));
      });
      const failedFile = options.failedRecords ?? `${file}.failed`;
      if (failed.length > 0) writeFileSync(failedFile, `${failed.join('\n')}\n`);
      const job = {
        JobStatus: 'COMPLETED',
        ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: action.toUpperCase() } },
        ImportDataSource: { File: file, DataFormat: format.toUpperCase() },
        ProcessedRecordsCount: processed,
        FailedRecordsCount: failed.length,
        ...(failed.length > 0 ? { FailureInfo: { FailedRecordsFile: failedFile } } : {}),
      };
      output(options.json, job, () =>
        [`${action === 'put' ? 'imported' : 'removed'} ${processed} addresses`, ...(failed.length > 0 ? [`${failed.length} lines failed (line: reason: text) in ${failedFile}`] : [])].join('\n'),
      );
    });

  command
    .command('export')
    .description('write the suppression list in the import formats (to standard output)')
    .requiredOption('--account <accountId>')
    .option('--format <format>', 'csv or json', 'csv')
    .option('--reason <reasons>', 'only BOUNCE, COMPLAINT or both')
    .action(async (options: { account: string; format: string; reason?: string }, self: Command) => {
      const format = parseFormat(options.format);
      const reasons = options.reason === undefined ? undefined : parseSuppressedReasons(options.reason, '--reason');
      await withControlStore(self, async (store) => {
        await requireAccount(store, options.account);
        let nextToken: string | undefined;
        do {
          const page = await store.suppression.list(options.account, { reasons, nextToken, pageSize: 10_000 });
          const text = page.entries.map((entry) =>
            format === 'csv' ? `${entry.emailAddress}, ${entry.reason}` : JSON.stringify({ emailAddress: entry.emailAddress, reason: entry.reason }),
          );
          if (text.length > 0) process.stdout.write(`${text.join('\n')}\n`);
          nextToken = page.nextToken;
        } while (nextToken);
      });
    });

  command
    .command('attributes')
    .description("show or set which feedback adds addresses automatically for an account (default BOUNCE,COMPLAINT, as SES's for new accounts)")
    .requiredOption('--account <accountId>')
    .option('--suppressed-reasons <reasons>', 'BOUNCE, COMPLAINT, both (comma-separated), or none to turn automatic additions off')
    .option('--json', 'print JSON')
    .action(async (options: { account: string; suppressedReasons?: string; json?: boolean }, self: Command) => {
      const reasons = await withControlStore(self, async (store) => {
        await requireAccount(store, options.account);
        if (options.suppressedReasons !== undefined) await store.suppression.setReasons(options.account, parseSuppressedReasons(options.suppressedReasons, '--suppressed-reasons'));
        return store.suppression.reasons(options.account);
      });
      output(options.json, { SuppressionAttributes: { SuppressedReasons: reasons } }, () => `suppressed reasons: ${reasons.join(', ') || 'none'}`);
    });

  return command;
}
