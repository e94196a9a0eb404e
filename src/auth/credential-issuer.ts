import { DEFAULT_USER_POLICY, formatPolicyDocument, SES_FULL_ACCESS_POLICY, type PolicyDocument } from '../policy/iam/index.js';
import { NotFoundError, type ControlStore, type Credential } from '../store/control-store.js';
import { hashPassword } from './credential-hash.js';
import type { SecretBox } from './secret-box.js';

/** The policy SES's console attaches to the IAM users it creates for SMTP: allow ses:SendRawEmail on *. */
export const DEFAULT_USER_POLICY_NAME = 'AmazonSesSendingAccess';

/** The policies a new credential's user can be given: sending only (SES's default for SMTP users), or sending and management. */
export const USER_POLICY_CHOICES = {
  sending: { name: DEFAULT_USER_POLICY_NAME, document: DEFAULT_USER_POLICY },
  'full-access': { name: 'AmazonSESFullAccess', document: SES_FULL_ACCESS_POLICY },
} as const satisfies Record<string, { name: string; document: PolicyDocument }>;

export type UserPolicyChoice = keyof typeof USER_POLICY_CHOICES;

export interface CredentialRequest {
  accountId: string;
  accessKeyId: string;
  userName: string;
  region: string;
  smtpPassword: string;
  /** The secret access key, sealed for the HTTP API (SigV4); absent when only the SMTP password is known. */
  secret?: { secretAccessKey: string; box: SecretBox };
  /** A policy to attach to the user; without it, a user that has no policy yet gets the sending policy. */
  policy?: UserPolicyChoice;
}

/** Stores a credential (its password hash, and its secret sealed when known) and attaches the chosen policy, or the default sending policy to a user without policies. */
export async function issueCredential(store: ControlStore, request: CredentialRequest): Promise<Credential> {
  if (!(await store.accounts.get(request.accountId))) throw new NotFoundError(`account ${request.accountId}`);
  const credential = await store.credentials.create({
    accessKeyId: request.accessKeyId,
    accountId: request.accountId,
    userName: request.userName,
    region: request.region,
    password: hashPassword(request.smtpPassword),
    sealedSecret: request.secret ? request.secret.box.seal(request.secret.secretAccessKey, request.accessKeyId) : null,
  });
  const user = { kind: 'user' as const, accountId: request.accountId, userName: request.userName };
  if (request.policy === undefined && (await store.policies.list(user)).length > 0) return credential;
  const { name, document } = USER_POLICY_CHOICES[request.policy ?? 'sending'];
  await store.policies.put(user, name, formatPolicyDocument(document));
  return credential;
}
