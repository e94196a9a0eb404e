import { formatPolicyDocument, parsePolicyDocument, PolicyValidationError } from '../../policy/iam/index.js';
import { MAX_POLICIES_PER_IDENTITY, MAX_POLICY_BYTES, POLICY_NAME, type PolicyTarget } from '../../store/policies.js';
import type { Identity } from '../../store/identities.js';
import { identityResource } from './api-authorization.js';
import { alreadyExists, ApiError, badRequest, notFound } from './api-error.js';
import type { ApiRequest, Params } from './api-context.js';
import { identityInPath, identityOf } from './sesv2-lookups.js';
import { route, type Route } from './sesv2-route.js';

const policyTarget = (identity: Identity): PolicyTarget => ({ kind: 'identity', accountId: identity.accountId, identity: identity.name });

/** The identity's sending authorization policies, name → document, as GetEmailIdentity and GetEmailIdentityPolicies answer them. */
export async function identityPolicies(request: ApiRequest, identity: Identity): Promise<Record<string, string>> {
  return Object.fromEntries((await request.services.store.policies.list(policyTarget(identity))).map((policy) => [policy.name, policy.document]));
}

/** The request's policy, checked as the CLI's `policy put --identity` checks it, in the form it is stored. */
function policyDocument(request: ApiRequest, identity: Identity, name: string, body: Params): string {
  if (!POLICY_NAME.test(name)) throw badRequest('Policy name must be 1-64 letters, digits, underscores or hyphens.');
  const text = body.string('Policy');
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw badRequest(`The policy is ${Buffer.byteLength(text)} bytes; a policy may have at most ${MAX_POLICY_BYTES}.`);
  try {
    return formatPolicyDocument(parsePolicyDocument(text, { kind: 'identity', attachedTo: identityResource(request, identity.name) }));
  } catch (error) {
    if (error instanceof PolicyValidationError) throw badRequest(`Invalid policy: ${error.message}`);
    throw error;
  }
}

async function createPolicy(request: ApiRequest, [identityName = '', name = '']: string[], body: Params): Promise<object> {
  const identity = await identityOf(request, identityName);
  const document = policyDocument(request, identity, name, body);
  const existing = await request.services.store.policies.list(policyTarget(identity));
  if (existing.some((policy) => policy.name === name)) throw alreadyExists(`Policy ${name} already exists for identity ${identity.name}.`);
  if (existing.length >= MAX_POLICIES_PER_IDENTITY) throw new ApiError('LimitExceededException', 400, `An identity can have at most ${MAX_POLICIES_PER_IDENTITY} policies.`);
  await request.services.store.policies.put(policyTarget(identity), name, document);
  return {};
}

async function updatePolicy(request: ApiRequest, [identityName = '', name = '']: string[], body: Params): Promise<object> {
  const identity = await identityOf(request, identityName);
  const document = policyDocument(request, identity, name, body);
  if (!(await request.services.store.policies.get(policyTarget(identity), name))) throw notFound(`Policy ${name} does not exist for identity ${identity.name}.`);
  await request.services.store.policies.put(policyTarget(identity), name, document);
  return {};
}

async function deletePolicy(request: ApiRequest, [identityName = '', name = '']: string[]): Promise<object> {
  const identity = await identityOf(request, identityName);
  if (!(await request.services.store.policies.delete(policyTarget(identity), name))) throw notFound(`Policy ${name} does not exist for identity ${identity.name}.`);
  return {};
}

const POLICIES = '/v2/email/identities/{EmailIdentity}/policies';

export const IDENTITY_POLICY_ROUTES: readonly Route[] = [
  route('GET', POLICIES, 'GetEmailIdentityPolicies', async (request, [name = '']) => ({ Policies: await identityPolicies(request, await identityOf(request, name)) }), identityInPath),
  route('POST', `${POLICIES}/{PolicyName}`, 'CreateEmailIdentityPolicy', createPolicy, identityInPath),
  route('PUT', `${POLICIES}/{PolicyName}`, 'UpdateEmailIdentityPolicy', updatePolicy, identityInPath),
  route('DELETE', `${POLICIES}/{PolicyName}`, 'DeleteEmailIdentityPolicy', deletePolicy, identityInPath),
];
