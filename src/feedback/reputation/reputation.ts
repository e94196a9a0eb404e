import type { ReputationConfig } from '../../config/reputation-options.js';
import type { SendCounts } from '../../queue/send-statistics.js';

export type ReputationStatus = 'Healthy' | 'Under review' | 'Sending paused';

export interface Reputation {
  status: ReputationStatus;
  bounceStatus: ReputationStatus;
  complaintStatus: ReputationStatus;
  /** Fractions in [0, 1], null while the window holds fewer recipients than the minimum volume. */
  bounceRate: number | null;
  complaintRate: number | null;
  /** Recipients the rates are computed over (simulator recipients left out). */
  volume: number;
}

const SEVERITY: readonly ReputationStatus[] = ['Healthy', 'Under review', 'Sending paused'];

function judge(rate: number | null, review: number, pause: number): ReputationStatus {
  if (rate === null || rate < review) return 'Healthy';
  return rate < pause ? 'Under review' : 'Sending paused';
}

/** The account's (or configuration set's) standing from the counts of the reputation window, by the configured thresholds. */
export function judgeReputation(counts: SendCounts, config: ReputationConfig): Reputation {
  const volume = counts.reputationSent;
  const judged = volume >= config.minimumVolume;
  const bounceRate = judged ? counts.reputationBounces / volume : null;
  const complaintRate = judged ? counts.reputationComplaints / volume : null;
  const bounceStatus = judge(bounceRate, config.bounceReviewRate, config.bouncePauseRate);
  const complaintStatus = judge(complaintRate, config.complaintReviewRate, config.complaintPauseRate);
  const status = SEVERITY[Math.max(SEVERITY.indexOf(bounceStatus), SEVERITY.indexOf(complaintStatus))]!;
  return { status, bounceStatus, complaintStatus, bounceRate, complaintRate, volume };
}

/** Start of the reputation window at `now`. */
export const reputationWindowStart = (now: number, config: ReputationConfig): number => now - config.windowDays * 86_400_000;
