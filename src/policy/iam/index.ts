export { identityArn, InvalidArnError, parseIdentityArn, userArn, type IdentityArnParts } from './arn.js';
export type { ConditionContext, ConditionValue } from './condition-context.js';
export { SES_CONDITION_KEYS, type ConditionKeyInfo, type SesConditionKey } from './condition-keys.js';
export { DEFAULT_USER_POLICY, SES_FULL_ACCESS_POLICY } from './default-user-policy.js';
export {
  evaluatePolicies,
  type AuthorizationDecision,
  type AuthorizationRequest,
} from './evaluate-policies.js';
export { formatPolicyDocument, parsePolicyDocument, type ParsePolicyOptions } from './parse-policy.js';
export type {
  ConditionBlock,
  PolicyDocument,
  PolicyEffect,
  PolicyKind,
  PolicyStatement,
  PolicyVersion,
  PrincipalSpec,
} from './policy-document.js';
export { PolicyValidationError } from './policy-validation-error.js';
export type { RequestPrincipal } from './principal.js';
