/** ARNs for SES identities and IAM-style users, as they appear in policies and X-SES-*-ARN headers. */

export interface IdentityArnParts {
  readonly region: string;
  readonly accountId: string;
  /** The domain or email address. */
  readonly identity: string;
}

/** A header or argument that should hold an SES identity ARN but does not. */
export class InvalidArnError extends Error {
  constructor(arn: string, problem: string) {
    super(`"${arn}" is not an SES identity ARN: ${problem} (expected arn:aws:ses:<region>:<account-id>:identity/<identity>)`);
    this.name = 'InvalidArnError';
  }
}

export function identityArn(region: string, accountId: string, identity: string): string {
  return `arn:aws:ses:${region}:${accountId}:identity/${identity}`;
}

export function userArn(accountId: string, userName: string): string {
  return `arn:aws:iam::${accountId}:user/${userName}`;
}

const REGION = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const ACCOUNT_ID = /^\d{12}$/;
const IDENTITY_PREFIX = 'identity/';

/** Parses `arn:aws:ses:<region>:<account-id>:identity/<identity>`; surrounding whitespace is ignored. */
export function parseIdentityArn(arn: string): IdentityArnParts {
  const text = arn.trim();
  // The identity itself is the rest after the fifth colon, so a colon inside it cannot shift fields.
  const fields = text.split(':');
  const [scheme, partition, service, region = '', accountId = ''] = fields;
  const resource = fields.slice(5).join(':');
  if (fields.length < 6 || scheme !== 'arn') throw new InvalidArnError(text, 'it does not have the six ARN fields');
  if (partition !== 'aws') throw new InvalidArnError(text, `partition "${partition}" is not "aws"`);
  if (service !== 'ses') throw new InvalidArnError(text, `service "${service}" is not "ses"`);
  if (!REGION.test(region)) throw new InvalidArnError(text, `region "${region}" is not a region name`);
  if (!ACCOUNT_ID.test(accountId)) throw new InvalidArnError(text, `account ID "${accountId}" is not 12 digits`);
  if (!resource.startsWith(IDENTITY_PREFIX)) throw new InvalidArnError(text, 'the resource does not start with "identity/"');
  const identity = resource.slice(IDENTITY_PREFIX.length);
  if (identity === '' || /\s/.test(identity)) throw new InvalidArnError(text, 'the identity is empty or contains spaces');
  return { region, accountId, identity };
}
