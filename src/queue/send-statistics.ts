/** Counts of one 15-minute bucket. */
export interface SendCounts {
  /** Recipients sent (SES's DeliveryAttempts). */
  deliveryAttempts: number;
  /** Hard-bounced recipients. */
  bounces: number;
  complaints: number;
  rejects: number;
  /** What reputation rates are computed from: recipients and their hard bounces and complaints, less mailbox-simulator
   * recipients and bounces caused by the account's suppression list. */
  reputationSent: number;
  reputationBounces: number;
  reputationComplaints: number;
}

export interface CountsUpdate {
  accountId: string;
  /** '' for messages sent without one. */
  configurationSet: string;
  /** Start of the 15-minute bucket, ms. */
  bucket: number;
  counts: Partial<SendCounts>;
}

export const BUCKET_MS = 15 * 60_000;
export const bucketOf = (at: number): number => at - (at % BUCKET_MS);

/**
 * Sending statistics per account and configuration set in 15-minute buckets: the queue database's (one node), or Redis
 * (cluster mode: the fleet's sums).
 */
export interface SendStatisticsStore {
  /**
   * Adds the counts and records that `consumer` has counted the event log up to `seq`, atomically, so that each event
   * counts once (see countedThrough).
   */
  apply(updates: readonly CountsUpdate[], consumer: string, seq: number): Promise<void>;
  /** The event-log seq up to which `consumer`'s events are counted: events up to it must not be counted again. */
  countedThrough(consumer: string): Promise<number>;
  /** Buckets with any activity since `since`, oldest first, summed over configuration sets. */
  dataPoints(accountId: string, since: number): Promise<Array<SendCounts & { bucket: number }>>;
  /** Totals since `since` for the account (configurationSet undefined) or one of its configuration sets. */
  totals(accountId: string, since: number, configurationSet?: string): Promise<SendCounts>;
}

/** The queue database's statistics, which the log maintenance prunes (Redis's expire by themselves). */
export interface LocalSendStatistics extends SendStatisticsStore {
  /** Drops buckets before `before`. */
  prune(before: number): number;
}

/** Counts with every field, zero where `counts` has none. */
export const fullCounts = (counts: Partial<SendCounts> = {}): SendCounts => ({
  deliveryAttempts: 0,
  bounces: 0,
  complaints: 0,
  rejects: 0,
  reputationSent: 0,
  reputationBounces: 0,
  reputationComplaints: 0,
  ...counts,
});
