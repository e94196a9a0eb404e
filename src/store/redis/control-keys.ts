import type { PolicyTarget } from '../policies.js';
import { policyTargetName } from '../policies.js';

/** Kinds of records named within an account. */
export type NamedKind = 'identity' | 'configset';

/**
 * Where the control plane lives in Redis. Every key is under the cluster's prefix and then "cp:", so that
 * `cluster import --force` can clear the control plane without touching the limits, shaping or heartbeats kept under
 * the same prefix. Records are hashes with one JSON value per field; indexes are sorted sets, so lists never SCAN.
 *
 *   cp:account:ID                        hash    an account
 *   cp:accounts                          zset    account ids, scored by creation time
 *   cp:credential:KEY                    hash    a credential (password hash, sealed secret)
 *   cp:credentials                       zset    every access key id, by creation time
 *   cp:account:ID:credentials            zset    the account's access key ids, by creation time
 *   cp:identity:ID:NAME                  hash    an identity (DKIM keys, MAIL FROM, notifications … as JSON)
 *   cp:account:ID:identities             zset    the account's identity names (score 0: by name)
 *   cp:configset:ID:NAME                 hash    a configuration set (event destinations …)
 *   cp:account:ID:configsets             zset    the account's configuration set names
 *   cp:policies:ID:user:NAME             hash    policy name → {"document", "updatedAt"}; also :identity:NAME
 *   cp:account:ID:policy-targets         zset    "user:NAME" and "identity:NAME" of the targets with policies
 *   cp:suppression:ID                    hash    address → [updated ms, reason, messageId, feedbackId]
 *   cp:suppression:ID:by-time[:REASON]   zset    "INVERTED-TIME:address" (score 0): newest first, then by address
 *   cp:suppression:ID:reasons            string  the account's suppressed reasons as JSON (absent: SES's default)
 */
export class ControlKeys {
  /** Every control-plane key starts with this. */
  readonly root: string;
  readonly accounts: string;
  readonly credentials: string;

  constructor(keyPrefix: string) {
    this.root = `${keyPrefix}cp:`;
    this.accounts = `${this.root}accounts`;
    this.credentials = `${this.root}credentials`;
  }

  account(id: string): string {
    return `${this.root}account:${id}`;
  }

  credential(accessKeyId: string): string {
    return `${this.root}credential:${accessKeyId}`;
  }

  accountCredentials(accountId: string): string {
    return `${this.account(accountId)}:credentials`;
  }

  named(kind: NamedKind, accountId: string, name: string): string {
    return `${this.root}${kind}:${accountId}:${name}`;
  }

  names(kind: NamedKind, accountId: string): string {
    return `${this.account(accountId)}:${kind === 'identity' ? 'identities' : 'configsets'}`;
  }

  policies(target: PolicyTarget): string {
    return `${this.root}policies:${target.accountId}:${policyTargetMember(target)}`;
  }

  policyTargets(accountId: string): string {
    return `${this.account(accountId)}:policy-targets`;
  }

  suppression(accountId: string): string {
    return `${this.root}suppression:${accountId}`;
  }

  /** The by-time index of the account's whole list, or of one reason's entries. */
  suppressionByTime(accountId: string, reason?: string): string {
    return `${this.suppression(accountId)}:by-time${reason ? `:${reason}` : ''}`;
  }

  suppressionReasons(accountId: string): string {
    return `${this.suppression(accountId)}:reasons`;
  }
}

/** "user:NAME" or "identity:NAME": a policy target within its account. */
export const policyTargetMember = (target: PolicyTarget): string => `${target.kind}:${policyTargetName(target)}`;
