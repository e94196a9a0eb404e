/**
 * The control plane: accounts, credentials, identities, configuration sets, policies and the suppression list. SQLite
 * implements it on one node, Redis in a cluster; nothing above it may assume SQL.
 */
import type { PasswordHash } from '../auth/credential-hash.js';
import type { ConfigurationSetStore } from './configuration-sets.js';
import type { IdentityStore } from './identities.js';
import type { PolicyStore } from './policies.js';
import type { SuppressionStore } from './suppression.js';

export interface Account {
  id: string;
  sandbox: boolean;
  sendingEnabled: boolean;
  /** Recipients per second when out of the sandbox. */
  maxSendRate: number;
  /** Recipients per rolling 24 hours when out of the sandbox. */
  max24HourSend: number;
  createdAt: Date;
}

export interface Credential {
  accessKeyId: string;
  accountId: string;
  /** The IAM-style user the credential belongs to (its ARN is arn:aws:iam::ACCOUNT:user/NAME). */
  userName: string;
  /** Region whose derived SMTP password was stored. */
  region: string;
  password: PasswordHash;
  /** The secret access key sealed with the gateway's secret key file (see auth/secret-box), for SigV4; null when only the SMTP password was imported. */
  sealedSecret: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export type NewAccount = Omit<Account, 'createdAt'>;
export type NewCredential = Omit<Credential, 'createdAt' | 'revokedAt' | 'sealedSecret'> & { sealedSecret?: string | null };

export interface AccountStore {
  create(account: NewAccount): Promise<Account>;
  get(id: string): Promise<Account | null>;
  list(): Promise<Account[]>;
  update(id: string, changes: Partial<Omit<Account, 'id' | 'createdAt'>>): Promise<Account>;
}

export interface CredentialStore {
  create(credential: NewCredential): Promise<Credential>;
  get(accessKeyId: string): Promise<Credential | null>;
  list(accountId?: string): Promise<Credential[]>;
  /** Marks the credential revoked; returns false when it does not exist or already was. */
  revoke(accessKeyId: string): Promise<boolean>;
}

export interface ControlStore {
  readonly accounts: AccountStore;
  readonly credentials: CredentialStore;
  readonly identities: IdentityStore;
  readonly configurationSets: ConfigurationSetStore;
  readonly policies: PolicyStore;
  readonly suppression: SuppressionStore;
  close(): Promise<void>;
}

/** Thrown for lookups of things that must exist (the CLI turns it into a clear error). */
export class NotFoundError extends Error {
  constructor(what: string) {
    super(`${what} does not exist`);
    this.name = 'NotFoundError';
  }
}

export class AlreadyExistsError extends Error {
  constructor(what: string) {
    super(`${what} already exists`);
    this.name = 'AlreadyExistsError';
  }
}
