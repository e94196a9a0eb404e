/** Named IAM-style policies attached to a user (IAM policies) or to an identity (sending authorization). */

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
}
