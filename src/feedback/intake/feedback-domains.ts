import { ExpiringMemo } from '../../delivery/expiring-memo.js';

// Identities' custom MAIL FROM domains are re-read this often: a new identity's bounces are taken within this time.
const DOMAINS_LIFETIME_MS = 10_000;
const FAILED_LOOKUP_LIFETIME_MS = 1_000;

/** The domains whose return paths come back to the gateway: the feedback domain and every identity's custom MAIL FROM domain. */
export class FeedbackDomains {
  private readonly custom = new ExpiringMemo<Set<string>>((settled) => (settled.ok ? DOMAINS_LIFETIME_MS : FAILED_LOOKUP_LIFETIME_MS));

  constructor(
    private readonly feedbackDomain: string,
    private readonly customMailFromDomains: () => Promise<string[]>,
  ) {}

  /** Whether `domain` (any case) is one of them. */
  async includes(domain: string): Promise<boolean> {
    const lower = domain.toLowerCase();
    if (lower === this.feedbackDomain.toLowerCase()) return true;
    const custom = await this.custom.get('', async () => new Set((await this.customMailFromDomains()).map((name) => name.toLowerCase())));
    return custom.has(lower);
  }
}
