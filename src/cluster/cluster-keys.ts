/**
 * The Redis keys of the cluster's nodes (after cluster.keyPrefix): the set of every node that ever joined, each live
 * node's heartbeat, and each node's stream of feedback taken by other nodes.
 */
export class ClusterKeys {
  constructor(private readonly prefix: string) {}

  /** Set of node ids: a node joins when it first starts in cluster mode and stays (its return paths stay valid). */
  get nodes(): string {
    return `${this.prefix}nodes`;
  }

  /** A live node's heartbeat (JSON, expiring when the node stops refreshing it). */
  heartbeat(node: string): string {
    return `${this.prefix}nodes:${node}`;
  }

  /** Reports for the node's return paths that other nodes took. */
  feedback(node: string): string {
    return `${this.prefix}node:${node}:feedback`;
  }
}
