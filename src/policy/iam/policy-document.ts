/**
 * The normalised form of an IAM-style policy: the JSON element names are kept (so a document prints
 * back as a policy AWS would accept), but every list-or-scalar element is a list.
 */

export type PolicyVersion = '2012-10-17' | '2008-10-17';

export type PolicyEffect = 'Allow' | 'Deny';

/**
 * `user` policies are attached to an IAM-style user and name no principal; `identity` policies
 * (sending authorization) are attached to an SES identity and must say whom they apply to.
 */
export type PolicyKind = 'user' | 'identity';

/** `"*"` is everyone; `AWS` lists account IDs, account root ARNs and IAM user/role ARNs. */
export type PrincipalSpec =
  | '*'
  | {
      readonly AWS?: readonly string[];
      /** Service principals (e.g. cognito-idp.amazonaws.com) are kept but never match an SMTP user. */
      readonly Service?: readonly string[];
    };

/** Operator (e.g. `ForAllValues:StringLike`) → condition key → policy values (OR-ed). */
export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: PolicyEffect;
  readonly Principal?: PrincipalSpec;
  readonly NotPrincipal?: PrincipalSpec;
  readonly Action?: readonly string[];
  readonly NotAction?: readonly string[];
  readonly Resource?: readonly string[];
  readonly NotResource?: readonly string[];
  readonly Condition?: ConditionBlock;
}

export interface PolicyDocument {
  readonly Version?: PolicyVersion;
  readonly Id?: string;
  readonly Statement: readonly PolicyStatement[];
}
