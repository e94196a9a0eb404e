import type { PolicyDocument } from './policy-document.js';
import { parsePolicyDocument } from './parse-policy.js';

/**
 * The guide's policy for an SMTP user ("you must allow access to ses:SendRawEmail at a minimum"),
 * given to users that have no policy of their own.
 */
export const DEFAULT_USER_POLICY: PolicyDocument = parsePolicyDocument(
  { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ses:SendRawEmail', Resource: '*' }] },
  { kind: 'user' },
);

/**
 * AWS's managed policy AmazonSESFullAccess (ses:* on every resource): what a credential needs to manage identities,
 * configuration sets and the account through the HTTP API as well as send.
 */
export const SES_FULL_ACCESS_POLICY: PolicyDocument = parsePolicyDocument(
  { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ses:*', Resource: '*' }] },
  { kind: 'user' },
);
