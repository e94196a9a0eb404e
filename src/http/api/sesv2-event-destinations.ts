import { checkTarget, describeTarget, TargetError } from '../../events/destinations/create-transport.js';
import { CONFIGURATION_SET_NAME, EVENT_DESTINATION_TYPES, MAX_EVENT_DESTINATIONS, type EventDestination } from '../../store/configuration-sets.js';
import { alreadyExists, ApiError, badRequest, notFound } from './api-error.js';
import type { ApiRequest, Params } from './api-context.js';
import { configurationSetInPath, configurationSetOf } from './sesv2-lookups.js';
import { route, type Route } from './sesv2-route.js';

/** The kinds of SES destination the gateway has no counterpart for. */
const UNSUPPORTED_KINDS = ['KinesisFirehoseDestination', 'CloudWatchDestination', 'EventBridgeDestination', 'PinpointDestination'];

const TARGET_HELP = 'give SnsDestination.TopicArn as an https:// webhook URL, or as a topic ARN the operator listed in http.snsTopics';

/**
 * SnsDestination.TopicArn → the event target: a topic ARN the operator mapped in http.snsTopics, or an https:// URL
 * given as is. Other targets (file:, amqp://, redis://, plain http://) only through http.snsTopics, so an API caller
 * cannot make the gateway write files or reach internal services.
 */
function targetOf(request: ApiRequest, definition: Params): string | undefined {
  const unsupported = UNSUPPORTED_KINDS.find((kind) => definition.optionalObject(kind) !== undefined);
  if (unsupported) throw badRequest(`${unsupported} is not supported by this gateway, which publishes events to webhooks, files, AMQP and Redis streams: ${TARGET_HELP}.`);
  const topicArn = definition.optionalObject('SnsDestination')?.string('TopicArn');
  if (topicArn === undefined) return undefined;
  const registered = request.services.config.http.snsTopics[topicArn];
  if (registered === undefined && topicArn.startsWith('arn:')) throw badRequest(`SNS topic ${topicArn} is not known to this gateway: ${TARGET_HELP}.`);
  const target = registered ?? topicArn;
  if (registered === undefined && !target.startsWith('https://')) throw badRequest(`TopicArn ${describeTarget(target)} is not accepted: ${TARGET_HELP}.`);
  try {
    checkTarget(target);
  } catch (error) {
    if (error instanceof TargetError) throw badRequest(error.message);
    throw error;
  }
  return target;
}

/** What the caller sees as the TopicArn: the operator's topic ARN for the target, else the target (its password hidden). */
function topicArnOf(request: ApiRequest, target: string): string {
  const registered = Object.entries(request.services.config.http.snsTopics).find(([, registeredTarget]) => registeredTarget === target);
  return registered ? registered[0] : describeTarget(target);
}

function eventTypes(definition: Params): string[] | undefined {
  const types = definition.stringList('MatchingEventTypes');
  const unknown = types?.filter((type) => !EVENT_DESTINATION_TYPES.includes(type)) ?? [];
  if (unknown.length > 0) throw badRequest(`Invalid MatchingEventTypes: ${unknown.join(', ')}; use ${EVENT_DESTINATION_TYPES.join(', ')}`);
  if (types?.length === 0) throw badRequest('MatchingEventTypes must name at least one event type');
  return types;
}

function destinationJson(request: ApiRequest, destination: EventDestination) {
  return {
    Name: destination.name,
    Enabled: destination.enabled,
    MatchingEventTypes: destination.eventTypes,
    SnsDestination: { TopicArn: topicArnOf(request, destination.target) },
  };
}

async function createEventDestination(request: ApiRequest, [setName = '']: string[], body: Params): Promise<object> {
  const set = await configurationSetOf(request, setName);
  const name = body.string('EventDestinationName');
  if (!CONFIGURATION_SET_NAME.test(name)) throw badRequest('Event destination name must be 1-64 letters, digits, underscores or hyphens.');
  const definition = body.optionalObject('EventDestination');
  if (!definition) throw badRequest('EventDestination is required');
  const types = eventTypes(definition);
  if (!types) throw badRequest('MatchingEventTypes is required');
  const target = targetOf(request, definition);
  if (!target) throw badRequest(`An event destination needs a target: ${TARGET_HELP}.`);
  if (set.eventDestinations.some((destination) => destination.name === name)) throw alreadyExists(`Event destination ${name} already exists in configuration set <${set.name}>.`);
  if (set.eventDestinations.length >= MAX_EVENT_DESTINATIONS) throw new ApiError('LimitExceededException', 400, `A configuration set can have at most ${MAX_EVENT_DESTINATIONS} event destinations.`);
  // SES leaves a destination disabled unless Enabled is true; the records include the original headers, as SES's do.
  const destination: EventDestination = { name, enabled: definition.optionalBoolean('Enabled') ?? false, eventTypes: types, target, includeOriginalHeaders: true, createdAt: Date.now() };
  await request.services.store.configurationSets.update(request.accountId, set.name, { eventDestinations: [...set.eventDestinations, destination] });
  return {};
}

async function getEventDestinations(request: ApiRequest, [setName = '']: string[]): Promise<object> {
  const set = await configurationSetOf(request, setName);
  return { EventDestinations: set.eventDestinations.map((destination) => destinationJson(request, destination)) };
}

/** Changes what the definition gives; the destination keeps its start time (and so its place in the event log). */
async function updateEventDestination(request: ApiRequest, [setName = '', name = '']: string[], body: Params): Promise<object> {
  const set = await configurationSetOf(request, setName);
  const current = set.eventDestinations.find((destination) => destination.name === name);
  if (!current) throw notFound(`Event destination ${name} does not exist in configuration set <${set.name}>.`);
  const definition = body.optionalObject('EventDestination');
  if (!definition) throw badRequest('EventDestination is required');
  const updated: EventDestination = {
    ...current,
    enabled: definition.optionalBoolean('Enabled') ?? current.enabled,
    eventTypes: eventTypes(definition) ?? current.eventTypes,
    target: targetOf(request, definition) ?? current.target,
  };
  await request.services.store.configurationSets.update(request.accountId, set.name, {
    eventDestinations: set.eventDestinations.map((destination) => (destination.name === name ? updated : destination)),
  });
  return {};
}

async function deleteEventDestination(request: ApiRequest, [setName = '', name = '']: string[]): Promise<object> {
  const set = await configurationSetOf(request, setName);
  if (!set.eventDestinations.some((destination) => destination.name === name)) throw notFound(`Event destination ${name} does not exist in configuration set <${set.name}>.`);
  await request.services.store.configurationSets.update(request.accountId, set.name, { eventDestinations: set.eventDestinations.filter((destination) => destination.name !== name) });
  return {};
}

const DESTINATIONS = '/v2/email/configuration-sets/{ConfigurationSetName}/event-destinations';

export const EVENT_DESTINATION_ROUTES: readonly Route[] = [
  route('POST', DESTINATIONS, 'CreateConfigurationSetEventDestination', createEventDestination, configurationSetInPath),
  route('GET', DESTINATIONS, 'GetConfigurationSetEventDestinations', getEventDestinations, configurationSetInPath),
  route('PUT', `${DESTINATIONS}/{EventDestinationName}`, 'UpdateConfigurationSetEventDestination', updateEventDestination, configurationSetInPath),
  route('DELETE', `${DESTINATIONS}/{EventDestinationName}`, 'DeleteConfigurationSetEventDestination', deleteEventDestination, configurationSetInPath),
];
