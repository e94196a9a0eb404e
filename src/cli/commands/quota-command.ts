import { Command } from 'commander';
import { createLogger } from '../../log/logger.js';
import { sendLimitsInForce } from '../../policy/steps/send-limits.js';
import { openSendLimiter } from '../../ratelimit/open-send-limiter.js';
import { NotFoundError } from '../../store/control-store.js';
import { output, table, withControlStore } from '../cli-context.js';

export function quotaCommand(): Command {
  return new Command('quota')
    .description("an account's sending quota, like SES's GetSendQuota (counted in recipients)")
    .argument('<accountId>')
    .option('--json', 'print JSON')
    .action(async (accountId: string, options: { json?: boolean }, self: Command) => {
      const quota = await withControlStore(self, async (store, config) => {
        const account = await store.accounts.get(accountId);
        if (!account) throw new NotFoundError(`account ${accountId}`);
        const limiter = openSendLimiter(config, createLogger(config.log, process.stderr));
        try {
          const limits = sendLimitsInForce(account);
          return {
            Max24HourSend: limits.max24HourSend,
            MaxSendRate: limits.maxSendRate,
            SentLast24Hours: await limiter.sentLast24Hours(account.id),
          };
        } finally {
          await limiter.close();
        }
      });
      output(options.json, quota, () => table(['FIELD', 'VALUE'], Object.entries(quota).map(([key, value]) => [key, String(value)])));
    });
}
