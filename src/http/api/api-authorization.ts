import { evaluatePolicies, identityArn, userArn } from '../../policy/iam/index.js';
import { policyDocuments } from '../../policy/policy-documents.js';
import { ApiError, type ApiDialect } from './api-error.js';
import type { ApiRequest } from './api-context.js';

/** The resource of an action that names no SES resource (GetAccount, the suppression list, the v1 calls), as IAM checks it. */
export const ANY_RESOURCE = '*';

export const identityResource = (request: ApiRequest, identity: string) => identityArn(request.services.config.region, request.accountId, identity);
export const configurationSetResource = (request: ApiRequest, name: string) => `arn:aws:ses:${request.services.config.region}:${request.accountId}:configuration-set/${name}`;

/**
 * A management call must be allowed by the caller's IAM policies (`policy put --user`), as in SES: `ses:<Operation>`
 * on the identity or configuration set it names, else on `*`. Sends are not checked here: the send policy checks
 * `ses:SendRawEmail` for every sending identity, as it does for SMTP.
 */
export async function authorize(request: ApiRequest, action: string, resource: string, dialect: ApiDialect): Promise<void> {
  const { user, sourceIp, secure } = request.caller;
  const principal = userArn(request.accountId, user.userName);
  const policies = policyDocuments(await request.services.store.policies.list({ kind: 'user', accountId: request.accountId, userName: user.userName }));
  const now = new Date();
  const decision = evaluatePolicies(policies, {
    action,
    resource,
    principal: { accountId: request.accountId, arn: principal },
    context: {
      'ses:ApiVersion': dialect === 'v2' ? '2' : '1',
      'aws:SourceIp': sourceIp,
      'aws:SecureTransport': secure,
      'aws:CurrentTime': now,
      'aws:EpochTime': Math.floor(now.getTime() / 1000),
    },
  });
  if (decision === 'Allow') return;
  const reason = decision === 'ExplicitDeny' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${action} action`;
  throw new ApiError(dialect === 'v2' ? 'AccessDeniedException' : 'AccessDenied', 403, `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} ${reason}`);
}
