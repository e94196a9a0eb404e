import { IdentityNameError, normalizeIdentityName } from '../../identity/identity-name.js';
import type { ConfigurationSet } from '../../store/configuration-sets.js';
import type { Identity } from '../../store/identities.js';
import { configurationSetResource, identityResource } from './api-authorization.js';
import { badRequest, notFound } from './api-error.js';
import type { ApiRequest, Params } from './api-context.js';
import type { ResourceOf } from './sesv2-route.js';

export function normalizedName(name: string): string {
  try {
    return normalizeIdentityName(name).name;
  } catch (error) {
    if (error instanceof IdentityNameError) throw badRequest(error.message);
    throw error;
  }
}

export async function identityOf(request: ApiRequest, name: string): Promise<Identity> {
  const identity = await request.services.store.identities.get(request.accountId, normalizedName(name));
  if (!identity) throw notFound(`Email identity ${name} does not exist.`);
  return identity;
}

export async function configurationSetOf(request: ApiRequest, name: string): Promise<ConfigurationSet> {
  const set = await request.services.store.configurationSets.get(request.accountId, name);
  if (!set) throw notFound(`Configuration set <${name}> does not exist.`);
  return set;
}

/** The identity the path names ({EmailIdentity}, the first label). */
export const identityInPath: ResourceOf = (request, [name = '']) => identityResource(request, normalizedName(name));
/** The configuration set the path names ({ConfigurationSetName}, the first label). */
export const configurationSetInPath: ResourceOf = (request, [name = '']) => configurationSetResource(request, name);

/** SES v2's paging: NextToken is the index of the next entry. */
export function page<T>(items: T[], query: URLSearchParams, body?: Params): { items: T[]; nextToken?: string } {
  const size = Number(query.get('PageSize') ?? body?.optionalNumber('PageSize') ?? 1000) || 1000;
  const token = query.get('NextToken') ?? body?.optionalString('NextToken');
  const start = token ? Number(token) : 0;
  if (!Number.isInteger(start) || start < 0) throw badRequest('Invalid NextToken');
  const slice = items.slice(start, start + size);
  return start + size < items.length ? { items: slice, nextToken: String(start + size) } : { items: slice };
}
