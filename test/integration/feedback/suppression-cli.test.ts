import test, { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../support/gateway-process.js';
import { cli, cliJson } from '../../support/cli-runner.js';

const ACCOUNT = '123456789012';

describe('relaygate suppression', () => {
  const dataDir = tempDir();
  before(async () => {
    assert.equal((await cli(dataDir, 'account', 'create', '--id', ACCOUNT)).code, 0);
  });

  test('put, get, list and delete in SES shapes; addresses are compared without regard to case', async () => {
    const put = await cliJson<{ SuppressedDestination: { EmailAddress: string; Reason: string; LastUpdateTime: number; Attributes: object } }>(
      dataDir, 'suppression', 'put', 'Bounced@Example.COM', '--account', ACCOUNT, '--reason', 'bounce',
    );
    assert.equal(put.SuppressedDestination.EmailAddress, 'bounced@example.com');
    assert.equal(put.SuppressedDestination.Reason, 'BOUNCE');
    assert.ok(Math.abs(put.SuppressedDestination.LastUpdateTime - Date.now() / 1000) < 60, 'LastUpdateTime is epoch seconds');
    assert.deepEqual(put.SuppressedDestination.Attributes, {});

    const got = await cliJson<typeof put>(dataDir, 'suppression', 'get', 'BOUNCED@example.com', '--account', ACCOUNT);
    assert.deepEqual(got, put);
    await cliJson(dataDir, 'suppression', 'put', 'complained@example.com', '--account', ACCOUNT, '--reason', 'COMPLAINT');

    const listed = await cliJson<{ SuppressedDestinationSummaries: Array<{ EmailAddress: string; Reason: string }> }>(dataDir, 'suppression', 'list', '--account', ACCOUNT);
    assert.deepEqual(listed.SuppressedDestinationSummaries.map((entry) => [entry.EmailAddress, entry.Reason]).sort(), [
      ['bounced@example.com', 'BOUNCE'],
      ['complained@example.com', 'COMPLAINT'],
    ]);
    const complaints = await cliJson<typeof listed>(dataDir, 'suppression', 'list', '--account', ACCOUNT, '--reason', 'COMPLAINT');
    assert.deepEqual(complaints.SuppressedDestinationSummaries.map((entry) => entry.EmailAddress), ['complained@example.com']);
    const future = await cliJson<typeof listed>(dataDir, 'suppression', 'list', '--account', ACCOUNT, '--start-date', String(Math.floor(Date.now() / 1000) + 3600));
    assert.deepEqual(future.SuppressedDestinationSummaries, []);

    assert.equal((await cli(dataDir, 'suppression', 'delete', 'complained@EXAMPLE.com', '--account', ACCOUNT)).code, 0);
    const missing = await cli(dataDir, 'suppression', 'get', 'complained@example.com', '--account', ACCOUNT);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `relaygate: suppressed address complained@example.com in account ${ACCOUNT} does not exist\n`);
    assert.equal((await cli(dataDir, 'suppression', 'delete', 'bounced@example.com', '--account', ACCOUNT)).code, 0);
  });

  test('operator mistakes are one line each', async () => {
    const cases: Array<[string[], string]> = [
      [['suppression', 'put', 'not-an-address', '--account', ACCOUNT, '--reason', 'BOUNCE'], '"not-an-address" is not an email address'],
      [['suppression', 'put', 'a@example.com', '--account', ACCOUNT, '--reason', 'SPAM'], 'reason must be BOUNCE or COMPLAINT, got "SPAM"'],
      [['suppression', 'list', '--account', '999999999999'], 'account 999999999999 does not exist'],
      [['suppression', 'list', '--account', ACCOUNT, '--next-token', 'garbage'], 'invalid next token "garbage"'],
      [['suppression', 'list', '--account', ACCOUNT, '--start-date', 'yesterday'], '--start-date takes an ISO 8601 date or Unix seconds, got "yesterday"'],
      [['suppression', 'attributes', '--account', ACCOUNT, '--suppressed-reasons', 'BOUNCE,SPAM'], '--suppressed-reasons takes BOUNCE, COMPLAINT, both (comma-separated), none; got "BOUNCE,SPAM"'],
    ];
    for (const [args, message] of cases) {
      const result = await cli(dataDir, ...args);
      assert.equal(result.code, 1, args.join(' '));
      assert.equal(result.stderr, `relaygate: ${message}\n`, args.join(' '));
    }
  });

  test('100,000 addresses import from the guide\'s CSV, page out again, export in the import format, and delete by import; bad lines are reported', async () => {
    const dir = tempDir();
    const csv = join(dir, 'list.csv');
    const lines = Array.from({ length: 100_000 }, (_, n) => `user${n}@example.org, ${n % 2 ? 'COMPLAINT' : 'BOUNCE'}`);
    writeFileSync(csv, [...lines, 'not an address, BOUNCE', 'x@example.org, SPAM', ''].join('\n'));
    const started = Date.now();
    const job = await cliJson<Record<string, unknown>>(dataDir, 'suppression', 'import', csv, '--account', ACCOUNT);
    const seconds = (Date.now() - started) / 1000;
    assert.deepEqual(job, {
      JobStatus: 'COMPLETED',
      ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'PUT' } },
      ImportDataSource: { File: csv, DataFormat: 'CSV' },
      ProcessedRecordsCount: 100_000,
      FailedRecordsCount: 2,
      FailureInfo: { FailedRecordsFile: `${csv}.failed` },
    });
    assert.equal(readFileSync(`${csv}.failed`, 'utf8'), '100001: invalid email address: not an address, BOUNCE\n100002: reason must be BOUNCE or COMPLAINT: x@example.org, SPAM\n');
    process.stdout.write(`# imported 100,000 suppressed addresses in ${seconds.toFixed(1)} s (whole CLI run)\n`);

    const exported = await cli(dataDir, 'suppression', 'export', '--account', ACCOUNT, '--format', 'json', '--reason', 'BOUNCE');
    assert.equal(exported.code, 0, exported.stderr);
    const records = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as { emailAddress: string; reason: string });
    assert.equal(records.length, 50_000);
    assert.deepEqual(Object.keys(records[0]!), ['emailAddress', 'reason']);
    assert.ok(records.every((record) => record.reason === 'BOUNCE'));

    const jsonl = join(dir, 'remove.jsonl');
    writeFileSync(jsonl, records.map((record) => JSON.stringify({ emailAddress: record.emailAddress })).join('\n'));
    const removal = await cliJson<{ ProcessedRecordsCount: number; FailedRecordsCount: number }>(dataDir, 'suppression', 'import', jsonl, '--account', ACCOUNT, '--action', 'delete');
    assert.equal(removal.ProcessedRecordsCount, 50_000);
    assert.equal(removal.FailedRecordsCount, 0);
    const left = await cliJson<{ SuppressedDestinationSummaries: Array<{ Reason: string }> }>(dataDir, 'suppression', 'list', '--account', ACCOUNT, '--page-size', '10000', '--reason', 'BOUNCE');
    assert.deepEqual(left.SuppressedDestinationSummaries, []);
  });

  test('attributes: both reasons by default, as SES for new accounts; none turns automatic additions off', async () => {
    assert.deepEqual(await cliJson(dataDir, 'suppression', 'attributes', '--account', ACCOUNT), { SuppressionAttributes: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] } });
    assert.deepEqual(await cliJson(dataDir, 'suppression', 'attributes', '--account', ACCOUNT, '--suppressed-reasons', 'none'), { SuppressionAttributes: { SuppressedReasons: [] } });
    assert.deepEqual(await cliJson(dataDir, 'suppression', 'attributes', '--account', ACCOUNT, '--suppressed-reasons', 'complaint'), { SuppressionAttributes: { SuppressedReasons: ['COMPLAINT'] } });
  });
});
