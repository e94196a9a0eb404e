import { Command } from 'commander';
import { generateAccountId } from '../../auth/key-generator.js';
import type { Account } from '../../store/control-store.js';
import { sendLimitsInForce } from '../../policy/steps/send-limits.js';
import { NotFoundError } from '../../store/control-store.js';
import { output, parseBoolean, table, UsageError, withControlStore } from '../cli-context.js';

/** Out-of-sandbox defaults for a new account; the sandbox's own 1/s and 200/24h apply while sandboxed. */
const DEFAULT_MAX_SEND_RATE = 14;
const DEFAULT_MAX_24_HOUR_SEND = 50_000;

/** The limits in force (the sandbox's while sandboxed, as `quota` shows), and the account's own, which apply out of the sandbox. */
export const accountJson = (account: Account) => {
  const limits = sendLimitsInForce(account);
  return {
    AccountId: account.id,
    Sandbox: account.sandbox,
    SendingEnabled: account.sendingEnabled,
    MaxSendRate: limits.maxSendRate,
    Max24HourSend: limits.max24HourSend,
    ProductionMaxSendRate: account.maxSendRate,
    ProductionMax24HourSend: account.max24HourSend,
    CreatedAt: account.createdAt.toISOString(),
  };
};

const accountText = (account: Account) =>
  table(
    ['FIELD', 'VALUE'],
    Object.entries(accountJson(account)).map(([key, value]) => [key, String(value)]),
  );

export function accountCommand(): Command {
  const command = new Command('account').description('manage sending accounts (each has its own sandbox, quotas and credentials)');

  command
    .command('create')
    .description('create an account; new accounts start in the sandbox, like SES')
    .option('--id <accountId>', '12-digit account id (default: generated)')
    .option('--json', 'print JSON')
    .action(async (options: { id?: string; json?: boolean }, self: Command) => {
      const id = options.id ?? generateAccountId();
      if (!/^\d{12}$/.test(id)) throw new UsageError(`--id must be 12 digits, got "${id}"`);
      const account = await withControlStore(self, (store) =>
        store.accounts.create({ id, sandbox: true, sendingEnabled: true, maxSendRate: DEFAULT_MAX_SEND_RATE, max24HourSend: DEFAULT_MAX_24_HOUR_SEND }),
      );
      output(options.json, accountJson(account), () => `created account ${account.id} (in the sandbox)`);
    });

  command
    .command('list')
    .description('list accounts')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, self: Command) => {
      const accounts = await withControlStore(self, (store) => store.accounts.list());
      const listed = accounts.map(accountJson);
      output(options.json, listed, () =>
        table(
          ['ACCOUNT', 'SANDBOX', 'SENDING', 'MAX RATE', 'MAX 24H', 'CREATED'],
          listed.map((a) => [a.AccountId, String(a.Sandbox), a.SendingEnabled ? 'enabled' : 'paused', String(a.MaxSendRate), String(a.Max24HourSend), a.CreatedAt]),
        ),
      );
    });

  command
    .command('show')
    .description("show one account: the limits in force (the sandbox's 1/s and 200/24h while sandboxed) and its own")
    .argument('<accountId>')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }, self: Command) => {
      const account = await withControlStore(self, (store) => store.accounts.get(id));
      if (!account) throw new NotFoundError(`account ${id}`);
      output(options.json, accountJson(account), () => accountText(account));
    });

  command
    .command('update')
    .description("change an account's sandbox status and sending limits")
    .argument('<accountId>')
    .option('--sandbox <boolean>', 'true to keep the account in the sandbox, false to release it')
    .option('--max-send-rate <n>', 'recipients per second out of the sandbox (ProductionMaxSendRate)')
    .option('--max-24h-send <n>', 'recipients per rolling 24 hours out of the sandbox (ProductionMax24HourSend)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { sandbox?: string; maxSendRate?: string; max24hSend?: string; json?: boolean }, self: Command) => {
      const changes: Partial<Account> = {};
      if (options.sandbox !== undefined) changes.sandbox = parseBoolean(options.sandbox, '--sandbox');
      if (options.maxSendRate !== undefined) {
        const rate = Number(options.maxSendRate);
        if (!(rate > 0)) throw new UsageError('--max-send-rate must be a positive number');
        changes.maxSendRate = rate;
      }
      if (options.max24hSend !== undefined) {
        const quota = Number(options.max24hSend);
        if (!Number.isInteger(quota) || quota < 0) throw new UsageError('--max-24h-send must be a whole number of recipients');
        changes.max24HourSend = quota;
      }
      const account = await withControlStore(self, (store) => store.accounts.update(id, changes));
      output(options.json, accountJson(account), () => accountText(account));
    });

  command
    .command('sending')
    .description("pause or resume an account's sending (a paused account's messages are refused)")
    .argument('<accountId>')
    .argument('<state>', 'enable or disable')
    .option('--json', 'print JSON')
    .action(async (id: string, state: string, options: { json?: boolean }, self: Command) => {
      if (state !== 'enable' && state !== 'disable') throw new UsageError(`state must be enable or disable, got "${state}"`);
      const account = await withControlStore(self, (store) => store.accounts.update(id, { sendingEnabled: state === 'enable' }));
      output(options.json, accountJson(account), () => `sending ${state === 'enable' ? 'enabled' : 'disabled'} for account ${account.id}`);
    });

  return command;
}
