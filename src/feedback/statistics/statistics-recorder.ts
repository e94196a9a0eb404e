import type { Logger } from 'pino';
import type { ReputationConfig } from '../../config/reputation-options.js';
import type { EventHandler } from '../../events/event-consumer.js';
import type { StoredMailEvent } from '../../events/mail-event.js';
import { isSimulatorAddress } from '../../message/addresses.js';
import { bucketOf, type CountsUpdate, type SendCounts, type SendStatisticsStore } from '../../queue/send-statistics.js';
import type { ControlStore } from '../../store/control-store.js';
import { judgeReputation, reputationWindowStart } from '../reputation/reputation.js';

const CONSUMER = 'send-statistics';

/** What one event adds to its bucket. */
function countsOf(event: StoredMailEvent): Partial<SendCounts> | null {
  const real = (addresses: readonly string[]) => addresses.filter((address) => !isSimulatorAddress(address)).length;
  switch (event.type) {
    case 'Send':
      return { deliveryAttempts: event.mail.destination.length, reputationSent: real(event.mail.destination) };
    case 'Reject':
      return { rejects: 1 };
    case 'Bounce': {
      if (event.detail.bounceType !== 'Permanent') return null;
      const recipients = event.detail.bouncedRecipients.map((recipient) => recipient.emailAddress);
      const counted = event.detail.bounceSubType === 'OnAccountSuppressionList' ? 0 : real(recipients);
      return { bounces: recipients.length, reputationBounces: counted };
    }
    case 'Complaint': {
      const recipients = event.detail.complainedRecipients.map((recipient) => recipient.emailAddress);
      const counted = event.detail.complaintSubType === 'OnAccountSuppressionList' ? 0 : real(recipients);
      return { complaints: recipients.length, reputationComplaints: counted };
    }
    default:
      return null;
  }
}

function addCounts(into: Partial<SendCounts>, counts: Partial<SendCounts>): void {
  for (const [key, value] of Object.entries(counts) as Array<[keyof SendCounts, number]>) into[key] = (into[key] ?? 0) + value;
}

export interface StatisticsRecorderDependencies {
  statistics: SendStatisticsStore;
  store: ControlStore;
  config: ReputationConfig;
  log: Logger;
  now?: () => number;
}

/**
 * Counts events into 15-minute buckets (GetSendStatistics) together with the seq they are counted up to, so each event
 * counts once: events of a batch that comes again (the log's cursor is moved after the counts, in another database in
 * cluster mode) up to that seq are left out. Then judges the reputation of each account and configuration set the
 * batch touched and, when `reputation.autoPause` says so, pauses the account's or the set's sending at a pause-level
 * rate (through the control store, so in cluster mode every node stops).
 */
export function statisticsRecorder(deps: StatisticsRecorderDependencies): EventHandler {
  const now = deps.now ?? Date.now;
  // What the store says is counted, read once and then known from each apply; forgotten when an apply fails, since
  // it may have taken effect all the same (its answer lost).
  let counted: number | null = null;
  return {
    name: CONSUMER,
    async handle(events: readonly StoredMailEvent[]) {
      counted ??= await deps.statistics.countedThrough(CONSUMER);
      const updates = new Map<string, CountsUpdate>();
      for (const event of events) {
        if (event.seq <= counted) continue;
        const counts = countsOf(event);
        if (!counts) continue;
        const configurationSet = event.configurationSet ?? '';
        const bucket = bucketOf(event.at);
        const key = `${event.accountId}\0${configurationSet}\0${bucket}`;
        let update = updates.get(key);
        if (!update) updates.set(key, (update = { accountId: event.accountId, configurationSet, bucket, counts: {} }));
        addCounts(update.counts, counts);
      }
      const last = events[events.length - 1]!.seq;
      try {
        await deps.statistics.apply([...updates.values()], CONSUMER, last);
      } catch (error) {
        counted = null;
        throw error;
      }
      counted = last;
      if (deps.config.autoPause === 'off') return;
      const touched = new Map([...updates.values()].map((update) => [`${update.accountId}\0${update.configurationSet}`, update]));
      for (const { accountId, configurationSet } of touched.values()) await pauseIfNeeded(deps, accountId, configurationSet, now());
    },
  };
}

async function pauseIfNeeded(deps: StatisticsRecorderDependencies, accountId: string, configurationSet: string, now: number): Promise<void> {
  const since = reputationWindowStart(now, deps.config);
  if (deps.config.autoPause === 'account') {
    const reputation = judgeReputation(await deps.statistics.totals(accountId, since), deps.config);
    const account = await deps.store.accounts.get(accountId);
    if (reputation.status !== 'Sending paused' || !account?.sendingEnabled) return;
    await deps.store.accounts.update(accountId, { sendingEnabled: false });
    deps.log.warn({ account: accountId, bounceRate: reputation.bounceRate, complaintRate: reputation.complaintRate }, 'account sending paused: reputation at the pause threshold');
    return;
  }
  if (configurationSet === '') return;
  const reputation = judgeReputation(await deps.statistics.totals(accountId, since, configurationSet), deps.config);
  const set = await deps.store.configurationSets.get(accountId, configurationSet);
  if (reputation.status !== 'Sending paused' || !set?.sendingEnabled) return;
  await deps.store.configurationSets.update(accountId, configurationSet, { sendingEnabled: false });
  deps.log.warn({ account: accountId, configurationSet, bounceRate: reputation.bounceRate, complaintRate: reputation.complaintRate }, 'configuration set sending paused: reputation at the pause threshold');
}
