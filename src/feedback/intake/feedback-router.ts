/** A report on its way to the node whose queue holds the mail it came back for (cluster mode). */
export interface RoutedReport {
  /** The envelope sender the reporting MTA gave. */
  mailFrom: string;
  /** The return paths of that node that the report was addressed to. */
  recipients: string[];
  /** The reporting MTA's address. */
  remoteAddress: string;
  /** The node that took the report. */
  via: string;
  /** The report as received. */
  raw: Buffer;
}

/**
 * Feedback that arrives at any node finds its message: a report to another node's return paths is handed to that node,
 * which applies it as if it had received it itself.
 */
export interface FeedbackRouter {
  /** Whether `node` is a node of the cluster (one that has joined it), whose return paths this node may take. */
  isNode(node: string): Promise<boolean>;
  /** Resolves once the report is durable for `node` (so the session may answer 250); rejects when it cannot be. */
  forward(node: string, report: RoutedReport): Promise<void>;
}
