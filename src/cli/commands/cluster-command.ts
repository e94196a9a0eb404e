import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { urlWithoutPassword } from '../../common/url-without-password.js';
import { openRedisControlStore } from '../../store/open-control-store.js';
import { copyControlStore, type CopiedCounts } from '../../store/redis/copy-control-store.js';
import { SqliteControlStore } from '../../store/sqlite/sqlite-control-store.js';
import { commandConfig, output, SILENT_LOG, table, UsageError } from '../cli-context.js';

const COUNT_LABELS: Record<keyof CopiedCounts, string> = {
  accounts: 'accounts',
  credentials: 'credentials',
  identities: 'identities',
  configurationSets: 'configuration sets',
  policies: 'policies',
  suppressedDestinations: 'suppressed addresses',
  suppressionAttributes: 'suppression attributes',
};

export function clusterCommand(): Command {
  const command = new Command('cluster').description('cluster mode: several nodes sharing one Redis (cluster.redisUrl or --redis)');

  command
    .command('import')
    .description("copy this node's embedded control store (control.db in --data-dir) into the cluster's Redis")
    .option('--force', 'replace a control plane Redis already holds under cluster.keyPrefix (its control-plane keys are deleted first)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Copies accounts, credentials, identities (DKIM keys, MAIL FROM, notifications, verification state),
configuration sets, policies and the suppression list, keeping their times. Run it once, before the
nodes switch to the Redis; it refuses a Redis that already holds a control plane under the prefix
unless --force is given. Limits, shaping and queues are not copied: each node keeps its own queue.

Example:
  relaygate --data-dir /var/lib/relaygate --redis redis://10.0.0.5:6379/0 cluster import`,
    )
    .action(async (options: { force?: boolean; json?: boolean }, self: Command) => {
      const config = commandConfig(self);
      const { redisUrl, keyPrefix } = config.cluster;
      if (redisUrl === null) throw new UsageError('cluster import needs the Redis to copy into: --redis redis://HOST:6379/0 or cluster.redisUrl');
      if (!existsSync(join(config.dataDir, 'control.db'))) throw new UsageError(`there is no control store to import in ${config.dataDir} (no control.db)`);
      const source = SqliteControlStore.open(config.dataDir);
      try {
        const target = await openRedisControlStore(redisUrl, keyPrefix, SILENT_LOG);
        try {
          const replaced = await target.holdsData();
          if (replaced && !options.force) {
            throw new UsageError(`${urlWithoutPassword(redisUrl)} already holds a control plane under "${keyPrefix}"; nothing was imported (--force replaces it, or choose another cluster.keyPrefix)`);
          }
          if (replaced) await target.clear();
          const counts = await copyControlStore(source, target);
          output(options.json, { Redis: urlWithoutPassword(redisUrl), KeyPrefix: keyPrefix, Replaced: replaced, Imported: counts }, () =>
            [
              `imported ${join(config.dataDir, 'control.db')} into ${urlWithoutPassword(redisUrl)} under "${keyPrefix}"${replaced ? ' (the control plane it held was replaced)' : ''}:`,
              table(['KIND', 'COUNT'], Object.entries(counts).map(([kind, count]) => [COUNT_LABELS[kind as keyof CopiedCounts], String(count)])),
            ].join('\n'),
          );
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
    });

  return command;
}
