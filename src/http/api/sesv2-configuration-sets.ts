import { AlreadyExistsError } from '../../store/control-store.js';
import { CONFIGURATION_SET_NAME, type ConfigurationSet, type SuppressionReason, type TlsPolicy } from '../../store/configuration-sets.js';
import { configurationSetResource } from './api-authorization.js';
import { alreadyExists, badRequest, notFound } from './api-error.js';
import type { ApiRequest, Params } from './api-context.js';
import { EVENT_DESTINATION_ROUTES } from './sesv2-event-destinations.js';
import { configurationSetInPath, configurationSetOf, page } from './sesv2-lookups.js';
import { route, type Route } from './sesv2-route.js';

const REASONS: readonly SuppressionReason[] = ['BOUNCE', 'COMPLAINT'];

export function suppressionReasons(list: string[] | undefined): SuppressionReason[] {
  const values = list ?? [];
  for (const reason of values) if (!REASONS.includes(reason as SuppressionReason)) throw badRequest(`Invalid suppression reason: ${reason}`);
  return values as SuppressionReason[];
}

/** DeliveryOptions: the TLS policy and a sending pool of delivery.pools. MaxDeliverySeconds has no per-set counterpart. */
function deliveryOptions(request: ApiRequest, delivery: Params): Pick<ConfigurationSet, 'tlsPolicy' | 'sendingPoolName'> {
  if (delivery.optionalNumber('MaxDeliverySeconds') !== undefined) throw badRequest('MaxDeliverySeconds is not supported by this gateway: delivery.queueLifetimeHours applies to every message.');
  const policy = delivery.optionalString('TlsPolicy') ?? 'OPTIONAL';
  if (policy !== 'REQUIRE' && policy !== 'OPTIONAL') throw badRequest(`Invalid TlsPolicy: ${policy}; use REQUIRE or OPTIONAL`);
  const pool = delivery.optionalString('SendingPoolName') ?? null;
  if (pool !== null && !(pool in request.services.config.delivery.pools)) throw notFound(`Dedicated IP pool ${pool} does not exist.`);
  return { tlsPolicy: (policy === 'REQUIRE' ? 'Require' : 'Optional') as TlsPolicy, sendingPoolName: pool };
}

/** SuppressionOptions: its reasons (an empty list: none); without the list, the account's setting applies. */
function suppressionOptions(options: Params | undefined): SuppressionReason[] | null {
  const reasons = options?.stringList('SuppressedReasons');
  return reasons === undefined ? null : suppressionReasons(reasons);
}

function configurationSetJson(set: ConfigurationSet) {
  return {
    ConfigurationSetName: set.name,
    DeliveryOptions: { TlsPolicy: set.tlsPolicy.toUpperCase(), ...(set.sendingPoolName ? { SendingPoolName: set.sendingPoolName } : {}) },
    ReputationOptions: { ReputationMetricsEnabled: false },
    SendingOptions: { SendingEnabled: set.sendingEnabled },
    ...(set.suppressedReasons ? { SuppressionOptions: { SuppressedReasons: set.suppressedReasons } } : {}),
    Tags: [],
  };
}

function checkReputationOptions(options: Params | undefined): void {
  if (options?.optionalBoolean('ReputationMetricsEnabled')) throw badRequest('Reputation metrics are not collected by this gateway: ReputationMetricsEnabled must be false.');
}

async function createConfigurationSet(request: ApiRequest, _labels: string[], body: Params): Promise<object> {
  const name = body.string('ConfigurationSetName');
  if (!CONFIGURATION_SET_NAME.test(name)) throw badRequest('Configuration set name must be 1-64 letters, digits, underscores or hyphens.');
  checkReputationOptions(body.optionalObject('ReputationOptions'));
  const delivery = body.optionalObject('DeliveryOptions');
  try {
    await request.services.store.configurationSets.create({
      accountId: request.accountId,
      name,
      sendingEnabled: body.optionalObject('SendingOptions')?.optionalBoolean('SendingEnabled') ?? true,
      ...(delivery ? deliveryOptions(request, delivery) : { tlsPolicy: 'Optional', sendingPoolName: null }),
      suppressedReasons: suppressionOptions(body.optionalObject('SuppressionOptions')),
      eventDestinations: [],
    });
  } catch (error) {
    if (error instanceof AlreadyExistsError) throw alreadyExists(`Configuration set <${name}> already exists.`);
    throw error;
  }
  return {};
}

async function listConfigurationSets(request: ApiRequest, _labels: string[], body: Params, query: URLSearchParams): Promise<object> {
  const sets = await request.services.store.configurationSets.list(request.accountId);
  const { items, nextToken } = page(sets, query, body);
  return { ConfigurationSets: items.map((set) => set.name), ...(nextToken ? { NextToken: nextToken } : {}) };
}

async function deleteConfigurationSet(request: ApiRequest, [name = '']: string[]): Promise<object> {
  await configurationSetOf(request, name);
  await request.services.store.configurationSets.delete(request.accountId, name);
  return {};
}

/** A Put…Options call: the changes it makes to the named set. */
const putOptions = (changes: (request: ApiRequest, body: Params) => Partial<ConfigurationSet>): Route['handle'] =>
  async (request, [name = ''], body) => {
    const set = await configurationSetOf(request, name);
    await request.services.store.configurationSets.update(request.accountId, set.name, changes(request, body));
    return {};
  };

const SET = '/v2/email/configuration-sets/{ConfigurationSetName}';

export const CONFIGURATION_SET_ROUTES: readonly Route[] = [
  route('POST', '/v2/email/configuration-sets', 'CreateConfigurationSet', createConfigurationSet, (request, _labels, body) => configurationSetResource(request, body.string('ConfigurationSetName'))),
  route('GET', '/v2/email/configuration-sets', 'ListConfigurationSets', listConfigurationSets),
  route('POST', '/v2/email/list-configuration-sets', 'ListConfigurationSets', listConfigurationSets),
  route('GET', SET, 'GetConfigurationSet', async (request, [name = '']) => configurationSetJson(await configurationSetOf(request, name)), configurationSetInPath),
  route('DELETE', SET, 'DeleteConfigurationSet', deleteConfigurationSet, configurationSetInPath),
  route('PUT', `${SET}/sending`, 'PutConfigurationSetSendingOptions', putOptions((_request, body) => ({ sendingEnabled: body.optionalBoolean('SendingEnabled') ?? false })), configurationSetInPath),
  route('PUT', `${SET}/suppression-options`, 'PutConfigurationSetSuppressionOptions', putOptions((_request, body) => ({ suppressedReasons: suppressionOptions(body) })), configurationSetInPath),
  route('PUT', `${SET}/delivery-options`, 'PutConfigurationSetDeliveryOptions', putOptions(deliveryOptions), configurationSetInPath),
  route(
    'PUT',
    `${SET}/reputation-options`,
    'PutConfigurationSetReputationOptions',
    putOptions((_request, body) => {
      checkReputationOptions(body);
      return {};
    }),
    configurationSetInPath,
  ),
  ...EVENT_DESTINATION_ROUTES,
];
