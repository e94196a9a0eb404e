/**
 * IAM-style authorization: an explicit Deny in any applicable statement wins, otherwise any
 * applicable Allow allows, otherwise the request is implicitly denied.
 */
import { indexContext, type ConditionContext, type IndexedContext } from './condition-context.js';
import { conditionHolds } from './evaluate-condition.js';
import type { PolicyDocument, PolicyStatement } from './policy-document.js';
import { principalMatches, type RequestPrincipal } from './principal.js';
import { wildcardMatch } from './wildcard.js';

export type AuthorizationDecision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export interface AuthorizationRequest {
  /** e.g. `ses:SendRawEmail`. */
  readonly action: string;
  /** e.g. the identity ARN `arn:aws:ses:us-east-1:123456789012:identity/example.com`. */
  readonly resource: string;
  /** The sender; only identity (sending authorization) policies look at it. */
  readonly principal?: RequestPrincipal;
  readonly context: ConditionContext;
}

/** Expects documents from parsePolicyDocument, whose condition values have already been checked. */
export function evaluatePolicies(policies: readonly PolicyDocument[], request: AuthorizationRequest): AuthorizationDecision {
  const context = indexContext(request.context);
  let allowed = false;
  for (const policy of policies) {
    for (const statement of policy.Statement) {
      if (!statementApplies(statement, request, context)) continue;
      if (statement.Effect === 'Deny') return 'ExplicitDeny';
      allowed = true;
    }
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}

function statementApplies(statement: PolicyStatement, request: AuthorizationRequest, context: IndexedContext): boolean {
  const action = request.action.toLowerCase();
  return (
    principalApplies(statement, request.principal) &&
    // Action names are case-insensitive (the guide's own examples write "SES:SendEmail").
    elementMatches(statement.Action, statement.NotAction, (pattern) => wildcardMatch(pattern.toLowerCase(), action)) &&
    elementMatches(statement.Resource, statement.NotResource, (pattern) => wildcardMatch(pattern, request.resource)) &&
    (statement.Condition === undefined || conditionHolds(statement.Condition, context))
  );
}

function principalApplies(statement: PolicyStatement, principal: RequestPrincipal | undefined): boolean {
  if (statement.Principal) return principalMatches(statement.Principal, principal);
  if (statement.NotPrincipal) return !principalMatches(statement.NotPrincipal, principal);
  return true;
}

/** `Action`/`Resource` list what a statement covers; `NotAction`/`NotResource` list what it does not. */
function elementMatches(
  covered: readonly string[] | undefined,
  excluded: readonly string[] | undefined,
  matches: (pattern: string) => boolean,
): boolean {
  if (covered) return covered.some(matches);
  if (excluded) return !excluded.some(matches);
  return false;
}
