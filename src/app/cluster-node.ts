import type { Logger } from 'pino';
import { ClusterKeys } from '../cluster/cluster-keys.js';
import { FeedbackInbox } from '../cluster/feedback-inbox.js';
import { RedisFeedbackRouter } from '../cluster/feedback-stream.js';
import { NodeHeartbeatWriter, type HeartbeatSources } from '../cluster/node-heartbeat.js';
import { connectRedis } from '../cluster/redis-connection.js';
import { callRedis } from '../cluster/redis-unavailable.js';
import type { ClusterConfig } from '../config/cluster-options.js';
import type { FeedbackIntake } from '../feedback/intake/feedback-intake.js';
import type { FeedbackRouter } from '../feedback/intake/feedback-router.js';
import { RedisSendStatistics } from '../queue/redis-send-statistics.js';
import type { SendStatisticsStore } from '../queue/send-statistics.js';

/** This node's part in a cluster: one endpoint for feedback and statistics, and its heartbeat. */
export interface ClusterNode {
  router: FeedbackRouter;
  /** The fleet's sending statistics, which this node's events are counted into. */
  statistics: SendStatisticsStore;
  /** Starts the heartbeat and reading the reports other nodes take for this node's return paths. */
  start(intake: FeedbackIntake, sources: HeartbeatSources): void;
  /** Resolves when Redis answers a PING; StoreUnavailableError when it cannot (readiness). */
  reachable(): Promise<void>;
  /** Removes the heartbeat, lets a report in hand finish and closes the connections. */
  stop(): Promise<void>;
}

/** The cluster-mode services of a node, or null when cluster.redisUrl is unset (the node runs alone). */
export function openClusterNode(cluster: ClusterConfig, nodeId: string, queue: { instanceId(): string }, log: Logger): ClusterNode | null {
  if (cluster.redisUrl === null) return null;
  const keys = new ClusterKeys(cluster.keyPrefix);
  const redis = connectRedis(cluster.redisUrl, log, 'relaygate-node');
  // Reads of the feedback stream block, so they have a connection of their own.
  const inboxRedis = connectRedis(cluster.redisUrl, log, 'relaygate-feedback-inbox');
  let heartbeat: NodeHeartbeatWriter | null = null;
  let inbox: FeedbackInbox | null = null;
  return {
    router: new RedisFeedbackRouter(redis, keys),
    statistics: new RedisSendStatistics(redis, cluster.keyPrefix, { nodeId, logId: queue.instanceId() }),
    start(intake, sources) {
      heartbeat = new NodeHeartbeatWriter(redis, keys, nodeId, sources, cluster.heartbeatMs, log);
      inbox = new FeedbackInbox(inboxRedis, keys, nodeId, (report) => intake.receiveRouted(report), log);
      heartbeat.start();
      inbox.start();
      log.info({ node: nodeId, keyPrefix: cluster.keyPrefix }, 'cluster node started');
    },
    async reachable() {
      await callRedis('cluster Redis', () => redis.ping());
    },
    async stop() {
      await Promise.all([heartbeat?.stop(), inbox?.stop()]);
      inboxRedis.disconnect();
      redis.disconnect();
    },
  };
}
