import { queueVerificationEmail } from '../../identity/send-verification-email.js';
import { createIdentity, checkMailFromDomain } from '../../identity/identity-service.js';
import { IdentityNameError } from '../../identity/identity-name.js';
import { sendLimitsInForce } from '../../policy/steps/send-limits.js';
import { AlreadyExistsError, NotFoundError } from '../../store/control-store.js';
import type { SuppressionReason } from '../../store/configuration-sets.js';
import type { Identity, MailFromBehavior, VerificationStatus } from '../../store/identities.js';
import { DEFAULT_SUPPRESSED_REASONS } from '../../store/suppression.js';
import { InvalidNextTokenError } from '../../store/sqlite/sqlite-suppression-store.js';
import { identityResource } from './api-authorization.js';
import { alreadyExists, ApiError, badRequest, notFound } from './api-error.js';
import { accountOf, type ApiRequest, type Params } from './api-context.js';
import { apiSend } from './api-send.js';
import { composeSimpleMessage } from './simple-message.js';
import { CONFIGURATION_SET_ROUTES, suppressionReasons } from './sesv2-configuration-sets.js';
import { identityPolicies, IDENTITY_POLICY_ROUTES } from './sesv2-identity-policies.js';
import { identityInPath, identityOf, normalizedName, page } from './sesv2-lookups.js';
import { route, type Route } from './sesv2-route.js';

const seconds = (date: Date | null) => (date ? date.getTime() / 1000 : undefined);

const V2_STATUS: Record<VerificationStatus, string> = { Pending: 'PENDING', Success: 'SUCCESS', Failed: 'FAILED', TemporaryFailure: 'TEMPORARY_FAILURE' };
const canSend = (status: VerificationStatus) => status === 'Success' || status === 'TemporaryFailure';

function dkimAttributes(identity: Identity) {
  if (identity.type !== 'Domain' || !identity.dkim) return { SigningEnabled: false, Status: 'NOT_STARTED', Tokens: [] };
  return {
    SigningEnabled: identity.dkim.enabled,
    Status: V2_STATUS[identity.status],
    Tokens: identity.dkim.keys.map((key) => key.selector),
    SigningAttributesOrigin: identity.dkim.origin === 'EXTERNAL' ? 'EXTERNAL' : 'AWS_SES',
  };
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
  const { services } = request;
  const account = await accountOf(request);
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
      accountId: request.accountId,
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
    Policies: await identityPolicies(request, identity),
    Tags: [],
    ...(identity.defaultConfigurationSet ? { ConfigurationSetName: identity.defaultConfigurationSet } : {}),
  };
}

async function listEmailIdentities(request: ApiRequest, _labels: string[], body: Params, query: URLSearchParams): Promise<object> {
  const identities = await request.services.store.identities.list(request.accountId);
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
  await request.services.store.identities.delete(request.accountId, identity.name);
  return {};
}

async function putDkimAttributes(request: ApiRequest, [name = '']: string[], body: Params): Promise<object> {
  const identity = await identityOf(request, name);
  const enabled = body.optionalBoolean('SigningEnabled') ?? false;
  if (!identity.dkim) throw badRequest(`Domain ${identity.name} has no DKIM keys.`);
  await request.services.store.identities.update(request.accountId, identity.name, { dkim: { ...identity.dkim, enabled } });
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
  await request.services.store.identities.update(request.accountId, identity.name, { mailFrom });
  return {};
}

async function putSuppressedDestination(request: ApiRequest, _labels: string[], body: Params): Promise<object> {
  const [reason] = suppressionReasons([body.string('Reason')]);
  await request.services.store.suppression.put([{ accountId: request.accountId, emailAddress: body.string('EmailAddress'), reason: reason as SuppressionReason, messageId: null, feedbackId: null }]);
  return {};
}

async function getSuppressedDestination(request: ApiRequest, [address = '']: string[]): Promise<object> {
  const entry = await request.services.store.suppression.get(request.accountId, address);
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
  const removed = await request.services.store.suppression.delete(request.accountId, [address]);
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
    const result = await request.services.store.suppression.list(request.accountId, {
      ...(filterReasons.length > 0 ? { reasons: suppressionReasons(filterReasons) } : {}),
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
  await request.services.store.suppression.setReasons(request.accountId, suppressionReasons(body.stringList('SuppressedReasons') ?? [...DEFAULT_SUPPRESSED_REASONS]));
  return {};
}

async function putAccountSendingAttributes(request: ApiRequest, _labels: string[], body: Params): Promise<object> {
  await request.services.store.accounts.update(request.accountId, { sendingEnabled: body.optionalBoolean('SendingEnabled') ?? false });
  return {};
}

async function listTagsForResource(_request: ApiRequest, _labels: string[], _body: Params, query: URLSearchParams): Promise<object> {
  if (!query.get('ResourceArn')) throw badRequest('ResourceArn is required');
  return { Tags: [] };
}

async function tagsNotKept(): Promise<object> {
  throw badRequest('Tags are not kept by this gateway: identities and configuration sets have no tags.');
}


/** The SES v2 operations the gateway answers, by method and path as botocore's and the JS SDK's models give them. */
export const SESV2_ROUTES: readonly Route[] = [
  route('POST', '/v2/email/outbound-emails', 'SendEmail', sendEmail, null),
  route('GET', '/v2/email/account', 'GetAccount', getAccount),
  route('PUT', '/v2/email/account/sending', 'PutAccountSendingAttributes', putAccountSendingAttributes),
  route('PUT', '/v2/email/account/suppression', 'PutAccountSuppressionAttributes', putAccountSuppressionAttributes),
  route('POST', '/v2/email/identities', 'CreateEmailIdentity', createEmailIdentity, (request, _labels, body) => identityResource(request, normalizedName(body.string('EmailIdentity')))),
  // The JS SDK's newer model lists with POST /v2/email/list-identities; botocore uses GET /v2/email/identities.
  route('GET', '/v2/email/identities', 'ListEmailIdentities', listEmailIdentities),
  route('POST', '/v2/email/list-identities', 'ListEmailIdentities', listEmailIdentities),
  route('GET', '/v2/email/identities/{EmailIdentity}', 'GetEmailIdentity', getEmailIdentity, identityInPath),
  route('DELETE', '/v2/email/identities/{EmailIdentity}', 'DeleteEmailIdentity', deleteEmailIdentity, identityInPath),
  route('PUT', '/v2/email/identities/{EmailIdentity}/dkim', 'PutEmailIdentityDkimAttributes', putDkimAttributes, identityInPath),
  route('PUT', '/v2/email/identities/{EmailIdentity}/mail-from', 'PutEmailIdentityMailFromAttributes', putMailFromAttributes, identityInPath),
  ...IDENTITY_POLICY_ROUTES,
  ...CONFIGURATION_SET_ROUTES,
  route('PUT', '/v2/email/suppression/addresses', 'PutSuppressedDestination', putSuppressedDestination),
  route('GET', '/v2/email/suppression/addresses', 'ListSuppressedDestinations', listSuppressedDestinations),
  route('GET', '/v2/email/suppression/addresses/{EmailAddress}', 'GetSuppressedDestination', getSuppressedDestination),
  route('DELETE', '/v2/email/suppression/addresses/{EmailAddress}', 'DeleteSuppressedDestination', deleteSuppressedDestination),
  route('GET', '/v2/email/tags', 'ListTagsForResource', listTagsForResource),
  route('POST', '/v2/email/tags', 'TagResource', tagsNotKept),
  route('DELETE', '/v2/email/tags', 'UntagResource', tagsNotKept),
];
