import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { issueCredential } from '../../../src/auth/credential-issuer.js';
import { HeaderFields, parseHeaderSection } from '../../../src/message/header-section.js';
import { readSesControlHeaders } from '../../../src/message/ses-headers.js';
import { buildSendPolicy } from '../../../src/policy/build-send-policy.js';
import type { PolicyDecision } from '../../../src/policy/send-policy.js';
import { MemorySendLimiter } from '../../../src/ratelimit/index.js';
import type { Account } from '../../../src/store/control-store.js';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { chunked } from '../../support/chunked.js';
import { verifiedIdentity } from '../../support/provision.js';

export const REGION = 'us-east-1';
export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
export const USER = 'app-user';

export interface Submission {
  mailFrom?: string;
  recipients?: string[];
  /** Header lines without line endings. */
  headers?: string[];
  body?: string;
  secure?: boolean;
  sourceIp?: string;
  now?: Date;
}

/** A control store in a temporary directory with one account, its identities and a credential, and the real policy. */
export class PolicyFixture {
  readonly store: SqliteControlStore;
  readonly limiter = new MemorySendLimiter();
  readonly policy;
  /** The time of the submission being evaluated: its request time and the moment its limits are charged. */
  private nowMs = Date.now();
  /** The message streams the policy opened, latest last. */
  readonly opened: Readable[] = [];

  private constructor(store: SqliteControlStore) {
    this.store = store;
    this.policy = buildSendPolicy(store, this.limiter, REGION, () => this.nowMs);
  }

  static async create(account: Partial<Omit<Account, 'id' | 'createdAt'>> = {}, identities = ['example.com']): Promise<PolicyFixture> {
    const store = SqliteControlStore.open(mkdtempSync(join(tmpdir(), 'relaygate-policy-')));
    await store.accounts.create({ id: ACCOUNT, sandbox: false, sendingEnabled: true, maxSendRate: 1000, max24HourSend: -1, ...account });
    for (const name of identities) await store.identities.create(verifiedIdentity(ACCOUNT, name));
    await issueCredential(store, { accountId: ACCOUNT, accessKeyId: 'AKIATESTTESTTEST0001', userName: USER, region: REGION, smtpPassword: 'x' });
    return new PolicyFixture(store);
  }

  evaluate(submission: Submission = {}): Promise<PolicyDecision> {
    const headerLines = submission.headers ?? ['From: Sender <sender@example.com>', 'To: recipient@example.org', 'Subject: test'];
    const headerText = headerLines.map((line) => `${line}\r\n`).join('');
    const headers = new HeaderFields(parseHeaderSection(headerText));
    const body = submission.body ?? 'body\r\n';
    const now = submission.now ?? new Date();
    this.nowMs = now.getTime();
    return this.policy.evaluate({
      user: { accessKeyId: 'AKIATESTTESTTEST0001', accountId: ACCOUNT, userName: USER },
      mailFrom: submission.mailFrom ?? 'sender@example.com',
      recipients: submission.recipients ?? ['recipient@example.org'],
      headers,
      ses: readSesControlHeaders(headers),
      sourceIp: submission.sourceIp ?? '192.0.2.10',
      secure: submission.secure ?? true,
      size: headerText.length + 2 + body.length,
      now,
      openMessage: () => {
        // In 4 KB chunks, read as they are asked for, as a body is read from its spool file.
        const stream = Readable.from(chunked(Buffer.from(`${headerText}\r\n${body}`, 'latin1'), 4096));
        this.opened.push(stream);
        return stream;
      },
    });
  }

  /** The reply line of a refused submission, or "accepted". */
  async reply(submission: Submission = {}): Promise<string> {
    const decision = await this.evaluate(submission);
    return decision.accepted ? 'accepted' : decision.reply.toString();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
