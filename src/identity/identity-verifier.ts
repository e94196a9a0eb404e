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

  async runOnce(now = new Date()): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      for (const identity of await this.store.identities.list()) {
        if (!checkDue(identity, this.config, now)) continue;
        try {
          const checked = await verifyIdentityDns(this.store, identity, this.resolver, this.feedbackHost, now);
          if (checked.status !== identity.status || checked.mailFrom?.status !== identity.mailFrom?.status) {
            this.log.info({ account: checked.accountId, identity: checked.name, status: checked.status, mailFromStatus: checked.mailFrom?.status }, 'identity verification status changed');
          }
        } catch (error) {
          this.log.warn({ err: error, identity: identity.name }, 'identity DNS check failed');
        }
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
