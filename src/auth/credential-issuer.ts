import { DEFAULT_USER_POLICY, formatPolicyDocument } from '../policy/iam/index.js';
import { NotFoundError, type ControlStore, type Credential } from '../store/control-store.js';
import { hashPassword } from './credential-hash.js';
import type { SecretBox } from './secret-box.js';

/** The policy SES's console attaches to the IAM users it creates for SMTP: allow ses:SendRawEmail on *. */
export const DEFAULT_USER_POLICY_NAME = 'AmazonSesSendingAccess';

export interface CredentialRequest {
  accountId: string;
  accessKeyId: string;
  userName: string;
  region: string;
  smtpPassword: string;
  /** The secret access key, sealed for the HTTP API (SigV4); absent when only the SMTP password is known. */
  secret?: { secretAccessKey: string; box: SecretBox };
}

/** Stores a credential (its password hash, and its secret sealed when known) and gives a user without policies the default sending policy. */
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
  if ((await store.policies.list(user)).length === 0) await store.policies.put(user, DEFAULT_USER_POLICY_NAME, formatPolicyDocument(DEFAULT_USER_POLICY));
  return credential;
}
