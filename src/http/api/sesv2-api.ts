import { queueVerificationEmail } from '../../identity/send-verification-email.js';
import { createIdentity, checkMailFromDomain } from '../../identity/identity-service.js';
import { IdentityNameError, normalizeIdentityName } from '../../identity/identity-name.js';
import { sendLimitsInForce } from '../../policy/steps/send-limits.js';
import { AlreadyExistsError, NotFoundError } from '../../store/control-store.js';
import type { ConfigurationSet, SuppressionReason, TlsPolicy } from '../../store/configuration-sets.js';
import type { Identity, MailFromBehavior, VerificationStatus } from '../../store/identities.js';
import { DEFAULT_SUPPRESSED_REASONS } from '../../store/suppression.js';
import { InvalidNextTokenError } from '../../store/sqlite/sqlite-suppression-store.js';
import { alreadyExists, ApiError, badRequest, notFound } from './api-error.js';
import { Params, type ApiRequest } from './api-context.js';
import { apiSend } from './api-send.js';
import { composeSimpleMessage } from './simple-message.js';

/** One SES v2 operation: its method and path (labels captured in order) and what it answers (a JSON object). */
interface Route {
  method: string;
  path: RegExp;
  operation: string;
  handle(request: ApiRequest, labels: string[], body: Params, query: URLSearchParams): Promise<object>;
}

const LABEL = '([^/]+)';
const path = (pattern: string) => new RegExp(`^${pattern.replace(/\{\w+\}/g, LABEL)}$`);
const seconds = (date: Date | null) => (date ? date.getTime() / 1000 : undefined);
const REASONS: readonly SuppressionReason[] = ['BOUNCE', 'COMPLAINT'];

const V2_STATUS: Record<VerificationStatus, string> = { Pending: 'PENDING', Success: 'SUCCESS', Failed: 'FAILED', TemporaryFailure: 'TEMPORARY_FAILURE' };
const canSend = (status: VerificationStatus) => status === 'Success' || status === 'TemporaryFailure';

function reasons(list: string[] | undefined): SuppressionReason[] {
  const values = list ?? [];
  for (const reason of values) if (!REASONS.includes(reason as SuppressionReason)) throw badRequest(`Invalid suppression reason: ${reason}`);
  return values as SuppressionReason[];
}

function dkimAttributes(identity: Identity) {
  if (identity.type !== 'Domain' || !identity.dkim) return { SigningEnabled: false, Status: 'NOT_STARTED', Tokens: [] };
  return {
    SigningEnabled: identity.dkim.enabled,
    Status: V2_STATUS[identity.status],
    Tokens: identity.dkim.keys.map((key) => key.selector),
    SigningAttributesOrigin: identity.dkim.origin === 'EXTERNAL' ? 'EXTERNAL' : 'AWS_SES',
  };
}

async function identityOf(request: ApiRequest, name: string): Promise<Identity> {
  const identity = await request.services.store.identities.get(request.account.id, normalizedName(name));
  if (!identity) throw notFound(`Email identity ${name} does not exist.`);
  return identity;
}

function normalizedName(name: string): string {
  try {
    return normalizeIdentityName(name).name;
  } catch (error) {
    if (error instanceof IdentityNameError) throw badRequest(error.message);
    throw error;
  }
}

async function configurationSetOf(request: ApiRequest, name: string): Promise<ConfigurationSet> {
  const set = await request.services.store.configurationSets.get(request.account.id, name);
  if (!set) throw notFound(`Configuration set <${name}> does not exist.`);
  return set;
}

function configurationSetJson(set: ConfigurationSet) {
  return {
    ConfigurationSetName: set.name,
    DeliveryOptions: { TlsPolicy: set.tlsPolicy.toUpperCase(), ...(set.sendingPoolName ? { SendingPoolName: set.sendingPoolName } : {}) },
    SendingOptions: { SendingEnabled: set.sendingEnabled },
    ...(set.suppressedReasons ? { SuppressionOptions: { SuppressedReasons: set.suppressedReasons } } : {}),
    Tags: [],
  };
}

/** SES v2's paging: NextToken is the index of the next entry. */
function page<T>(items: T[], query: URLSearchParams, body?: Params): { items: T[]; nextToken?: string } {
  const size = Number(query.get('PageSize') ?? body?.optionalNumber('PageSize') ?? 1000) || 1000;
  const token = query.get('NextToken') ?? body?.optionalString('NextToken');
  const start = token ? Number(token) : 0;
  if (!Number.isInteger(start) || start < 0) throw badRequest('Invalid NextToken');
  const slice = items.slice(start, start + size);
  return start + size < items.length ? { items: slice, nextToken: String(start + size) } : { items: slice };
}

async function sendEmail(request: ApiRequest, _labels: string[], body: Params): Promise<object> {
  const content = body.optionalObject('Content');
  if (!content) throw badRequest('Content is required');
  const destination = body.optionalObject('Destination');
  const destinations = destination ? [...(destination.stringList('ToAddresses') ?? []), ...(destination.stringList('CcAddresses') ?? []), ...(destination.stringList('BccAddresses') ?? [])] : undefined;
  const from = body.optionalString('FromEmailAddress');
  let message: Buffer;
  const raw = content.optionalObject('Raw');
  const simple = content.optionalObject('Simple');
  if (content.optionalObject('Template')) throw notFound('Template does not exist: templates are not supported by this gateway yet.');
  if (raw) {
    message = Buffer.from(raw.string('Data'), 'base64');
  } else if (simple) {
    if (!from) throw badRequest('FromEmailAddress is required for Simple content');
    const bodyParts = simple.optionalObject('Body');
    const text = bodyParts?.optionalObject('Text')?.optionalString('Data');
    const html = bodyParts?.optionalObject('Html')?.optionalString('Data');
    message = await composeSimpleMessage({
      from,
      to: destination?.stringList('ToAddresses') ?? [],
      cc: destination?.stringList('CcAddresses') ?? [],
      replyTo: body.stringList('ReplyToAddresses') ?? [],
      subject: simple.optionalObject('Subject')?.optionalString('Data') ?? '',
      ...(text !== undefined ? { text } : {}),
      ...(html !== undefined ? { html } : {}),
      headers: simple.objectList('Headers').map((header) => ({ name: header.string('Name'), value: header.string('Value') })),
    });
  } else {
    throw badRequest('Content must contain Simple, Raw or Template');
  }
  const tags = body.objectList('EmailTags').map((tag) => `${tag.string('Name')}=${tag.optionalString('Value') ?? ''}`);
  const configurationSet = body.optionalString('ConfigurationSetName');
  const fromArn = body.optionalString('FromEmailAddressIdentityArn');
  const messageId = await apiSend(
    request.services.submission,
    request.caller,
    {
      message,
      ...(from !== undefined ? { source: from } : {}),
      ...(destinations ? { destinations } : {}),
      control: {
        ...(configurationSet ? { configurationSet } : {}),
        ...(tags.length > 0 ? { messageTags: tags.join(', ') } : {}),
        ...(fromArn ? { fromArn, sourceArn: fromArn } : {}),
        ...(body.optionalString('FeedbackForwardingEmailAddressIdentityArn') ? { returnPathArn: body.optionalString('FeedbackForwardingEmailAddressIdentityArn') as string } : {}),
      },
    },
    'v2',
  );
  return { MessageId: messageId };
}

async function getAccount(request: ApiRequest): Promise<object> {
  const { account, services } = request;
  const limits = sendLimitsInForce(account);
  return {
    DedicatedIpAutoWarmupEnabled: false,
    EnforcementStatus: account.sendingEnabled ? 'HEALTHY' : 'SHUTDOWN',
    ProductionAccessEnabled: !account.sandbox,
    SendingEnabled: account.sendingEnabled,
    SendQuota: { Max24HourSend: limits.max24HourSend, MaxSendRate: limits.maxSendRate, SentLast24Hours: await services.limiter.sentLast24Hours(account.id) },
    SuppressionAttributes: { SuppressedReasons: await services.store.suppression.reasons(account.id) },
  };
}

async function createEmailIdentity(request: ApiRequest, _labels: string[], body: Params): Promise<object> {
  const name = body.string('EmailIdentity');
  const signing = body.optionalObject('DkimSigningAttributes');
  const privateKey = signing?.optionalString('DomainSigningPrivateKey');
  const configurationSet = body.optionalString('ConfigurationSetName');
  let identity: Identity;
  try {
    identity = await createIdentity(request.services.store, {
      accountId: request.account.id,
      name,
      dkim: privateKey
        ? { privateKeyPem: Buffer.from(privateKey, 'base64').toString('utf8'), selector: signing?.string('DomainSigningSelector') ?? '' }
        : { generate: signing?.optionalString('NextSigningKeyLength') === 'RSA_1024_BIT' ? 'rsa-1024' : 'rsa-2048', ed25519: false },
      verified: false,
      ...(configurationSet ? { defaultConfigurationSet: configurationSet } : {}),
    });
  } catch (error) {
    if (error instanceof AlreadyExistsError) throw alreadyExists(`Email identity ${name} already exist.`);
    if (error instanceof NotFoundError) throw notFound(error.message);
    if (error instanceof IdentityNameError) throw badRequest(error.message);
    throw error;
  }
  if (identity.type === 'EmailAddress') await queueVerificationEmail(request.services.config, identity, request.services.log);
  return { IdentityType: identity.type === 'Domain' ? 'DOMAIN' : 'EMAIL_ADDRESS', VerifiedForSendingStatus: canSend(identity.status), DkimAttributes: dkimAttributes(identity) };
}

async function getEmailIdentity(request: ApiRequest, [name = '']: string[]): Promise<object> {
  const identity = await identityOf(request, name);
  return {
    IdentityType: identity.type === 'Domain' ? 'DOMAIN' : 'EMAIL_ADDRESS',
    FeedbackForwardingStatus: identity.feedbackForwarding,
    VerifiedForSendingStatus: canSend(identity.status),
    VerificationStatus: V2_STATUS[identity.status],
    DkimAttributes: dkimAttributes(identity),
    MailFromAttributes: identity.mailFrom
      ? { MailFromDomain: identity.mailFrom.domain, MailFromDomainStatus: V2_STATUS[identity.mailFrom.status], BehaviorOnMxFailure: identity.mailFrom.behaviorOnMxFailure === 'RejectMessage' ? 'REJECT_MESSAGE' : 'USE_DEFAULT_VALUE' }
      : { MailFromDomainStatus: 'FAILED', BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' },
    Policies: {},
    Tags: [],
    ...(identity.defaultConfigurationSet ? { ConfigurationSetName: identity.defaultConfigurationSet } : {}),
  };
}

async function listEmailIdentities(request: ApiRequest, _labels: string[], body: Params, query: URLSearchParams): Promise<object> {
  const identities = await request.services.store.identities.list(request.account.id);
  const { items, nextToken } = page(identities, query, body);
  return {
    EmailIdentities: items.map((identity) => ({
      IdentityType: identity.type === 'Domain' ? 'DOMAIN' : 'EMAIL_ADDRESS',
      IdentityName: identity.name,
      SendingEnabled: canSend(identity.status),
      VerificationStatus: V2_STATUS[identity.status],
    })),
    ...(nextToken ? { NextToken: nextToken } : {}),
  };
}

async function deleteEmailIdentity(request: ApiRequest, [name = '']: string[]): Promise<object> {
  const identity = await identityOf(request, name);
  await request.services.store.identities.delete(request.account.id, identity.name);
  return {};
}

async function putDkimAttributes(request: ApiRequest, [name = '']: string[], body: Params): Promise<object> {
  const identity = await identityOf(request, name);
  const enabled = body.optionalBoolean('SigningEnabled') ?? false;
  if (!identity.dkim) throw badRequest(`Domain ${identity.name} has no DKIM keys.`);
  await request.services.store.identities.update(request.account.id, identity.name, { dkim: { ...identity.dkim, enabled } });
  return {};
}

async function putMailFromAttributes(request: ApiRequest, [name = '']: string[], body: Params): Promise<object> {
  const identity = await identityOf(request, name);
  const domain = body.optionalString('MailFromDomain');
  const behavior: MailFromBehavior = body.optionalString('BehaviorOnMxFailure') === 'REJECT_MESSAGE' ? 'RejectMessage' : 'UseDefaultValue';
  let mailFrom: Identity['mailFrom'] = null;
  if (domain) {
    try {
      mailFrom = { domain: checkMailFromDomain(identity.name, domain), behaviorOnMxFailure: behavior, status: 'Pending', pendingSince: Date.now() };
    } catch (error) {
      if (error instanceof IdentityNameError) throw badRequest(error.message);
      throw error;
    }
  }
  await request.services.store.identities.update(request.account.id, identity.name, { mailFrom });
  return {};
}

async function createConfigurationSet(request: ApiRequest, _labels: string[], body: Params): Promise<object> {
  const name = body.string('ConfigurationSetName');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw badRequest('Configuration set name must be 1-64 letters, digits, underscores or hyphens.');
  const delivery = body.optionalObject('DeliveryOptions');
  const tlsPolicy = delivery?.optionalString('TlsPolicy') === 'REQUIRE' ? 'Require' : 'Optional';
  const suppressed = body.optionalObject('SuppressionOptions')?.stringList('SuppressedReasons');
  try {
    await request.services.store.configurationSets.create({
      accountId: request.account.id,
      name,
      sendingEnabled: body.optionalObject('SendingOptions')?.optionalBoolean('SendingEnabled') ?? true,
      tlsPolicy: tlsPolicy as TlsPolicy,
      sendingPoolName: delivery?.optionalString('SendingPoolName') ?? null,
      suppressedReasons: suppressed ? reasons(suppressed) : null,
      eventDestinations: [],
    });
  } catch (error) {
    if (error instanceof AlreadyExistsError) throw alreadyExists(`Configuration set <${name}> already exists.`);
    throw error;
  }
  return {};
}

async function listConfigurationSets(request: ApiRequest, _labels: string[], body: Params, query: URLSearchParams): Promise<object> {
  const sets = await request.services.store.configurationSets.list(request.account.id);
  const { items, nextToken } = page(sets, query, body);
  return { ConfigurationSets: items.map((set) => set.name), ...(nextToken ? { NextToken: nextToken } : {}) };
}

async function deleteConfigurationSet(request: ApiRequest, [name = '']: string[]): Promise<object> {
  await configurationSetOf(request, name);
  await request.services.store.configurationSets.delete(request.account.id, name);
  return {};
}

async function putSuppressedDestination(request: ApiRequest, _labels: string[], body: Params): Promise<object> {
  const [reason] = reasons([body.string('Reason')]);
  await request.services.store.suppression.put([{ accountId: request.account.id, emailAddress: body.string('EmailAddress'), reason: reason as SuppressionReason, messageId: null, feedbackId: null }]);
  return {};
}

async function getSuppressedDestination(request: ApiRequest, [address = '']: string[]): Promise<object> {
  const entry = await request.services.store.suppression.get(request.account.id, address);
  if (!entry) throw notFound(`Email address ${address} does not exist on your suppression list.`);
  return {
    SuppressedDestination: {
      EmailAddress: entry.emailAddress,
      Reason: entry.reason,
      LastUpdateTime: seconds(entry.lastUpdateTime),
      ...(entry.messageId || entry.feedbackId ? { Attributes: { ...(entry.messageId ? { MessageId: entry.messageId } : {}), ...(entry.feedbackId ? { FeedbackId: entry.feedbackId } : {}) } } : {}),
    },
  };
}

async function deleteSuppressedDestination(request: ApiRequest, [address = '']: string[]): Promise<object> {
  const removed = await request.services.store.suppression.delete(request.account.id, [address]);
  if (removed === 0) throw notFound(`Email address ${address} does not exist on your suppression list.`);
  return {};
}

async function listSuppressedDestinations(request: ApiRequest, _labels: string[], _body: Params, query: URLSearchParams): Promise<object> {
  const date = (name: string) => {
    const value = query.get(name);
    if (value === null) return undefined;
    const parsed = /^\d+(\.\d+)?$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
    if (Number.isNaN(parsed.getTime())) throw badRequest(`Invalid ${name}`);
    return parsed;
  };
  const startDate = date('StartDate');
  const endDate = date('EndDate');
  const pageSize = query.get('PageSize');
  const nextToken = query.get('NextToken');
  const filterReasons = query.getAll('Reason');
  try {
    const result = await request.services.store.suppression.list(request.account.id, {
      ...(filterReasons.length > 0 ? { reasons: reasons(filterReasons) } : {}),
      ...(startDate ? { startDate } : {}),
      ...(endDate ? { endDate } : {}),
      ...(pageSize ? { pageSize: Number(pageSize) } : {}),
      ...(nextToken ? { nextToken } : {}),
    });
    return {
      SuppressedDestinationSummaries: result.entries.map((entry) => ({ EmailAddress: entry.emailAddress, Reason: entry.reason, LastUpdateTime: seconds(entry.lastUpdateTime) })),
      ...(result.nextToken ? { NextToken: result.nextToken } : {}),
    };
  } catch (error) {
    if (error instanceof InvalidNextTokenError) throw new ApiError('InvalidNextTokenException', 400, error.message);
    throw error;
  }
}

async function putAccountSuppressionAttributes(request: ApiRequest, _labels: string[], body: Params): Promise<object> {
  await request.services.store.suppression.setReasons(request.account.id, reasons(body.stringList('SuppressedReasons') ?? [...DEFAULT_SUPPRESSED_REASONS]));
  return {};
}

async function putAccountSendingAttributes(request: ApiRequest, _labels: string[], body: Params): Promise<object> {
  await request.services.store.accounts.update(request.account.id, { sendingEnabled: body.optionalBoolean('SendingEnabled') ?? false });
  return {};
}

const route = (method: string, pattern: string, operation: string, handle: Route['handle']): Route => ({ method, path: path(pattern), operation, handle });

/** The SES v2 operations the gateway answers, by method and path as botocore's and the JS SDK's models give them. */
export const SESV2_ROUTES: readonly Route[] = [
  route('POST', '/v2/email/outbound-emails', 'SendEmail', sendEmail),
  route('GET', '/v2/email/account', 'GetAccount', getAccount),
  route('PUT', '/v2/email/account/sending', 'PutAccountSendingAttributes', putAccountSendingAttributes),
  route('PUT', '/v2/email/account/suppression', 'PutAccountSuppressionAttributes', putAccountSuppressionAttributes),
  route('POST', '/v2/email/identities', 'CreateEmailIdentity', createEmailIdentity),
  // The JS SDK's newer model lists with POST /v2/email/list-identities; botocore uses GET /v2/email/identities.
  route('GET', '/v2/email/identities', 'ListEmailIdentities', listEmailIdentities),
  route('POST', '/v2/email/list-identities', 'ListEmailIdentities', listEmailIdentities),
  route('GET', '/v2/email/identities/{EmailIdentity}', 'GetEmailIdentity', getEmailIdentity),
  route('DELETE', '/v2/email/identities/{EmailIdentity}', 'DeleteEmailIdentity', deleteEmailIdentity),
  route('PUT', '/v2/email/identities/{EmailIdentity}/dkim', 'PutEmailIdentityDkimAttributes', putDkimAttributes),
  route('PUT', '/v2/email/identities/{EmailIdentity}/mail-from', 'PutEmailIdentityMailFromAttributes', putMailFromAttributes),
  route('POST', '/v2/email/configuration-sets', 'CreateConfigurationSet', createConfigurationSet),
  route('GET', '/v2/email/configuration-sets', 'ListConfigurationSets', listConfigurationSets),
  route('POST', '/v2/email/list-configuration-sets', 'ListConfigurationSets', listConfigurationSets),
  route('GET', '/v2/email/configuration-sets/{ConfigurationSetName}', 'GetConfigurationSet', async (request, [name = '']) => configurationSetJson(await configurationSetOf(request, name))),
  route('DELETE', '/v2/email/configuration-sets/{ConfigurationSetName}', 'DeleteConfigurationSet', deleteConfigurationSet),
  route('PUT', '/v2/email/suppression/addresses', 'PutSuppressedDestination', putSuppressedDestination),
  route('GET', '/v2/email/suppression/addresses', 'ListSuppressedDestinations', listSuppressedDestinations),
  route('GET', '/v2/email/suppression/addresses/{EmailAddress}', 'GetSuppressedDestination', getSuppressedDestination),
  route('DELETE', '/v2/email/suppression/addresses/{EmailAddress}', 'DeleteSuppressedDestination', deleteSuppressedDestination),
];
