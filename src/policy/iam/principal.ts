/** Who a sending-authorization statement applies to. */
import type { PrincipalSpec } from './policy-document.js';

/** The authenticated sender: its account and its IAM-style user ARN. */
export interface RequestPrincipal {
  readonly accountId: string;
  readonly arn: string;
}

const ACCOUNT_ID = /^\d{12}$/;
const ACCOUNT_ROOT_ARN = /^arn:aws:iam::(\d{12}):root$/;
// IAM names may carry a path (user/division/alice); AWS allows no wildcards in principals.
const USER_OR_ROLE_ARN = /^arn:aws:iam::\d{12}:(?:user|role)\/[^\s*?]+$/;

/** Whether an `AWS` principal entry has one of the forms AWS accepts. */
export function isValidAwsPrincipal(entry: string): boolean {
  return entry === '*' || ACCOUNT_ID.test(entry) || ACCOUNT_ROOT_ARN.test(entry) || USER_OR_ROLE_ARN.test(entry);
}

/**
 * `*` matches everyone, even an unauthenticated request; an account ID or its root ARN matches every
 * user of that account; a user or role ARN matches only itself.
 */
export function principalMatches(spec: PrincipalSpec, principal: RequestPrincipal | undefined): boolean {
  if (spec === '*') return true;
  return (spec.AWS ?? []).some((entry) => {
    if (entry === '*') return true;
    if (!principal) return false;
    const account = ACCOUNT_ID.test(entry) ? entry : ACCOUNT_ROOT_ARN.exec(entry)?.[1];
    return account !== undefined ? principal.accountId === account : principal.arn === entry;
  });
}
