import { isSimulatorAddress } from '../../message/addresses.js';
import type { SendLimiter } from '../../ratelimit/index.js';
import type { Account } from '../../store/control-store.js';
import { PolicyReplies } from '../policy-replies.js';
import type { PolicyStep } from '../send-policy.js';

/** SES's sandbox limits: 1 recipient per second, 200 per rolling 24 hours. */
const SANDBOX_MAX_SEND_RATE = 1;
const SANDBOX_MAX_24_HOUR_SEND = 200;

/** The limits an account sends under: the sandbox's while it is in the sandbox, else its own. */
export function sendLimitsInForce(account: Pick<Account, 'sandbox' | 'maxSendRate' | 'max24HourSend'>): { maxSendRate: number; max24HourSend: number } {
  return account.sandbox
    ? { maxSendRate: SANDBOX_MAX_SEND_RATE, max24HourSend: SANDBOX_MAX_24_HOUR_SEND }
    : { maxSendRate: account.maxSendRate, max24HourSend: account.max24HourSend };
}

/**
 * The send rate and rolling 24-hour quota, counted in recipients and charged to the sending
 * account. Last of the steps, so a refused message is never counted; mailbox-simulator recipients
 * count toward the rate but not the quota. The charge is made at the moment of decision (`clock`),
 * not when DATA began: a slow upload charged in the past would land behind the messages the
 * account had accepted meanwhile and be refused although the rate was never exceeded.
 */
export function sendLimits(limiter: SendLimiter, clock: () => number = Date.now): PolicyStep {
  return {
    name: 'send-limits',
    async check(context) {
      const { account, request } = context;
      const recipients = request.recipients.length;
      const result = await limiter.acquire({
        key: account.id,
        rateRecipients: recipients,
        quotaRecipients: recipients - request.recipients.filter(isSimulatorAddress).length,
        ...sendLimitsInForce(account),
        now: clock(),
      });
      if (result.ok) return undefined;
      return result.reason === 'rate' ? PolicyReplies.maximumSendingRate() : PolicyReplies.dailyQuota();
    },
  };
}
