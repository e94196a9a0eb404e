import { DEFAULT_USER_POLICY, formatPolicyDocument } from '../policy/iam/index.js';
import { NotFoundError, type ControlStore, type Credential } from '../store/control-store.js';
import { hashPassword } from './credential-hash.js';

/** The policy SES's console attaches to the IAM users it creates for SMTP: allow ses:SendRawEmail on *. */
export const DEFAULT_USER_POLICY_NAME = 'AmazonSesSendingAccess';

export interface CredentialRequest {
  accountId: string;
  accessKeyId: string;
  userName: string;
  region: string;
  smtpPassword: string;
}

/** Stores a credential (only its password hash) and gives a user without policies the default sending policy. */
export async function issueCredential(store: ControlStore, request: CredentialRequest): Promise<Credential> {
  if (!(await store.accounts.get(request.accountId))) throw new NotFoundError(`account ${request.accountId}`);
  const credential = await store.credentials.create({
    accessKeyId: request.accessKeyId,
    accountId: request.accountId,
    userName: request.userName,
    region: request.region,
    password: hashPassword(request.smtpPassword),
  });
  const user = { kind: 'user' as const, accountId: request.accountId, userName: request.userName };
  if ((await store.policies.list(user)).length === 0) await store.policies.put(user, DEFAULT_USER_POLICY_NAME, formatPolicyDocument(DEFAULT_USER_POLICY));
  return credential;
}
