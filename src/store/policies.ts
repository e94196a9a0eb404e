/** Named IAM-style policies attached to a user (IAM policies) or to an identity (sending authorization). */

/** SES's limits on sending authorization policies: their names, their size, and how many one identity may have. */
export const POLICY_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_POLICY_BYTES = 4096;
export const MAX_POLICIES_PER_IDENTITY = 20;

export type PolicyTarget = { kind: 'user'; accountId: string; userName: string } | { kind: 'identity'; accountId: string; identity: string };

export interface StoredPolicy {
  target: PolicyTarget;
  name: string;
  /** The policy document as JSON text (validated before it is stored). */
  document: string;
  updatedAt: Date;
}

export interface PolicyStore {
  /** Creates or replaces the named policy. */
  put(target: PolicyTarget, name: string, document: string): Promise<StoredPolicy>;
  get(target: PolicyTarget, name: string): Promise<StoredPolicy | null>;
  list(target: PolicyTarget): Promise<StoredPolicy[]>;
  delete(target: PolicyTarget, name: string): Promise<boolean>;
  /** The account's users and identities that have policies: identities first, then users, each by name. */
  targets(accountId: string): Promise<PolicyTarget[]>;
}

/** The user name or identity a policy is attached to. */
export const policyTargetName = (target: PolicyTarget): string => (target.kind === 'user' ? target.userName : target.identity);

export const policyTarget = (accountId: string, kind: PolicyTarget['kind'], name: string): PolicyTarget =>
  kind === 'user' ? { kind, accountId, userName: name } : { kind, accountId, identity: name };
