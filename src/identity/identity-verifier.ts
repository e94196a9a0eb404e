import type { promises as dns } from 'node:dns';
import type { Logger } from 'pino';
import type { VerificationConfig } from '../config/verification-options.js';
import type { ControlStore } from '../store/control-store.js';
import type { Identity } from '../store/identities.js';
import { verifyIdentityDns } from './identity-service.js';

const waiting = (status: Identity['status']) => status === 'Pending' || status === 'TemporaryFailure';

/** Whether an identity's DNS is due for a check: often while waiting for records, daily once verified. */
export function checkDue(identity: Identity, config: VerificationConfig, now: Date): boolean {
  const checkedAgo = identity.lastCheckedAt ? now.getTime() - identity.lastCheckedAt.getTime() : Infinity;
  const waitingForDns = (identity.type === 'Domain' && identity.verifiedBy !== 'operator' && waiting(identity.status)) || (identity.mailFrom !== null && waiting(identity.mailFrom.status));
  if (waitingForDns) return checkedAgo >= config.pendingCheckSeconds * 1000;
  const watched = (identity.type === 'Domain' && identity.verifiedBy === 'dns') || identity.mailFrom?.status === 'Success';
  return watched && checkedAgo >= config.verifiedCheckHours * 3600_000;
}

/** Re-checks identities' DNS in the background (SES's "periodic re-checks" and its 72-hour windows). */
export class IdentityVerifier {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: ControlStore,
    private readonly resolver: dns.Resolver,
    private readonly feedbackHost: string,
    private readonly config: VerificationConfig,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.config.pendingCheckSeconds * 1000);
    this.timer.unref();
    void this.runOnce();
  }

  /** One round of checks; never rejects (the timer calls it with nobody to handle a rejection). */
  async runOnce(now = new Date()): Promise<void> {
    if (this.running) return this.running;
    this.running = this.checkDueIdentities(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async checkDueIdentities(now: Date): Promise<void> {
    let identities: Identity[];
    try {
      identities = await this.store.identities.list();
    } catch (error) {
      this.log.error({ err: error }, 'identity DNS checks skipped: cannot read the identities; trying again at the next check');
      return;
    }
    for (const identity of identities) {
      try {
        if (!checkDue(identity, this.config, now)) continue;
        const checked = await verifyIdentityDns(this.store, identity, this.resolver, this.feedbackHost, now);
        if (checked.status !== identity.status || checked.mailFrom?.status !== identity.mailFrom?.status) {
          this.log.info({ account: checked.accountId, identity: checked.name, status: checked.status, mailFromStatus: checked.mailFrom?.status }, 'identity verification status changed');
        }
      } catch (error) {
        this.log.warn({ err: error, identity: identity.name }, 'identity DNS check failed');
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
