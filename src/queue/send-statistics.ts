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

/** Sending statistics per account and configuration set in 15-minute buckets. */
export interface SendStatisticsStore {
  /** Adds the counts and moves `consumer`'s event-log cursor to `seq`, in one transaction: each event counts once. */
  apply(updates: readonly CountsUpdate[], consumer: string, seq: number): void;
  /** Buckets with any activity since `since`, oldest first, summed over configuration sets. */
  dataPoints(accountId: string, since: number): Array<SendCounts & { bucket: number }>;
  /** Totals since `since` for the account (configurationSet undefined) or one of its configuration sets. */
  totals(accountId: string, since: number, configurationSet?: string): SendCounts;
  /** Drops buckets before `before`. */
  prune(before: number): number;
}
