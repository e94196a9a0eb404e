import { Command } from 'commander';
import { ClusterKeys } from '../../cluster/cluster-keys.js';
import { clusterMembers } from '../../cluster/node-heartbeat.js';
import { urlWithoutPassword } from '../../common/url-without-password.js';
import { output, table } from '../cli-context.js';
import { withClusterRedis } from '../cluster-context.js';

/** `key count, …` of a queue's recipients per state. */
const queueSummary = (depth: Record<string, number>) =>
  Object.entries(depth)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([state, count]) => `${state} ${count}`)
    .join(', ') || 'empty';

/** `relaygate cluster status`: the live nodes of the cluster, from their heartbeats. */
export function clusterStatusCommand(): Command {
  return new Command('status')
    .description("the cluster's live nodes (their heartbeats): version, host, start, listeners, queue size by state, feedback waiting for them")
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, self: Command) => {
      await withClusterRedis(self, async (redis, config) => {
        const members = await clusterMembers(redis, new ClusterKeys(config.cluster.keyPrefix));
        const now = Date.now();
        const live = members.flatMap((member) => (member.heartbeat ? [{ ...member.heartbeat, pendingFeedback: member.pendingFeedback }] : []));
        const silent = members.filter((member) => !member.heartbeat).map(({ id, pendingFeedback }) => ({ id, pendingFeedback }));
        output(options.json, { nodes: live, silentNodes: silent }, () => {
          const lines = [
            live.length === 0
              ? `no live nodes: none has a heartbeat in ${urlWithoutPassword(config.cluster.redisUrl)} under the prefix "${config.cluster.keyPrefix}"`
              : table(
                  ['NODE', 'VERSION', 'HOST', 'PID', 'STARTED', 'LAST SEEN', 'LISTENERS', 'QUEUE', 'FEEDBACK WAITING'],
                  live.map((node) => [
                    node.id,
                    node.version,
                    node.hostname,
                    String(node.pid),
                    node.startedAt,
                    `${Math.max(0, Math.round((now - Date.parse(node.at)) / 1000))} s ago`,
                    node.listeners.join(' '),
                    queueSummary(node.queue),
                    String(node.pendingFeedback),
                  ]),
                ),
          ];
          // Feedback for a node that is down waits in its stream until it is back.
          if (silent.length > 0) lines.push(`not live: ${silent.map(({ id, pendingFeedback }) => `${id} (${pendingFeedback} feedback reports waiting)`).join(', ')}`);
          return lines.join('\n');
        });
      });
    });
}
