import { Command } from 'commander';
import { judgeReputation, reputationWindowStart } from '../../feedback/reputation/reputation.js';
import { NotFoundError } from '../../store/control-store.js';
import { output, table, withControlStore } from '../cli-context.js';
import { withSendStatistics } from '../cluster-context.js';

/** GetSendStatistics covers the last two weeks. */
const STATISTICS_DAYS = 14;

export function statsCommand(): Command {
  return new Command('stats')
    .description("an account's sending statistics for the last two weeks in 15-minute points, like SES's GetSendStatistics (counted in recipients; the fleet's in cluster mode)")
    .argument('<accountId>')
    .option('--json', 'print JSON')
    .action(async (accountId: string, options: { json?: boolean }, self: Command) => {
      await withControlStore(self, async (store) => {
        if (!(await store.accounts.get(accountId))) throw new NotFoundError(`account ${accountId}`);
      });
      const points = await withSendStatistics(self, (statistics) => statistics.dataPoints(accountId, Date.now() - STATISTICS_DAYS * 86_400_000));
      const json = {
        SendDataPoints: points.map((point) => ({
          Timestamp: new Date(point.bucket).toISOString(),
          DeliveryAttempts: point.deliveryAttempts,
          Bounces: point.bounces,
          Complaints: point.complaints,
          Rejects: point.rejects,
        })),
      };
      output(options.json, json, () =>
        table(
          ['TIMESTAMP', 'DELIVERY ATTEMPTS', 'BOUNCES', 'COMPLAINTS', 'REJECTS'],
          json.SendDataPoints.map((point) => [point.Timestamp, String(point.DeliveryAttempts), String(point.Bounces), String(point.Complaints), String(point.Rejects)]),
        ),
      );
    });
}

const percent = (rate: number | null) => (rate === null ? 'not enough volume' : `${(rate * 100).toFixed(2)}%`);

export function reputationCommand(): Command {
  return new Command('reputation')
    .description("an account's (or configuration set's) bounce and complaint rates and status: Healthy, Under review or Sending paused")
    .argument('<accountId>')
    .option('--configuration-set <name>', 'the rates of mail sent with this configuration set')
    .option('--json', 'print JSON')
    .action(async (accountId: string, options: { configurationSet?: string; json?: boolean }, self: Command) => {
      const { account, config, sendingEnabled } = await withControlStore(self, async (store, config) => {
        const account = await store.accounts.get(accountId);
        if (!account) throw new NotFoundError(`account ${accountId}`);
        if (options.configurationSet === undefined) return { account, config, sendingEnabled: account.sendingEnabled };
        const set = await store.configurationSets.get(accountId, options.configurationSet);
        if (!set) throw new NotFoundError(`configuration set ${options.configurationSet}`);
        return { account, config, sendingEnabled: set.sendingEnabled };
      });
      const counts = await withSendStatistics(self, (statistics) => statistics.totals(account.id, reputationWindowStart(Date.now(), config.reputation), options.configurationSet));
      const reputation = judgeReputation(counts, config.reputation);
      const json = {
        AccountId: account.id,
        ...(options.configurationSet ? { ConfigurationSetName: options.configurationSet } : {}),
        Status: reputation.status,
        SendingEnabled: sendingEnabled,
        BounceRate: reputation.bounceRate,
        BounceStatus: reputation.bounceStatus,
        ComplaintRate: reputation.complaintRate,
        ComplaintStatus: reputation.complaintStatus,
        Recipients: reputation.volume,
        HardBounces: counts.reputationBounces,
        Complaints: counts.reputationComplaints,
        WindowDays: config.reputation.windowDays,
      };
      output(options.json, json, () =>
        table(
          ['FIELD', 'VALUE'],
          Object.entries({ ...json, BounceRate: percent(reputation.bounceRate), ComplaintRate: percent(reputation.complaintRate) }).map(([key, value]) => [key, String(value)]),
        ),
      );
    });
}
