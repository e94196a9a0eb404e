import { queueVerificationEmail } from '../../identity/send-verification-email.js';
import { createIdentity } from '../../identity/identity-service.js';
import { IdentityNameError, normalizeIdentityName } from '../../identity/identity-name.js';
import { sendLimitsInForce } from '../../policy/steps/send-limits.js';
import type { Identity } from '../../store/identities.js';
import { ApiError, badRequest } from './api-error.js';
import { accountOf, type ApiRequest } from './api-context.js';
import { ANY_RESOURCE, authorize } from './api-authorization.js';
import { apiSend } from './api-send.js';
import { composeSimpleMessage } from './simple-message.js';

export const SES_XMLNS = 'http://ses.amazonaws.com/doc/2010-12-01/';

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An XML element tree as plain data: a string leaf, a list of `member`s, or named children. */
type Xml = string | number | Xml[] | { [name: string]: Xml };

function toXml(value: Xml): string {
  if (typeof value === 'string') return escapeXml(value);
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  return Object.entries(value)
    .map(([name, child]) => `<${name}>${toXml(child)}</${name}>`)
    .join('');
}

/** SES v1's response document for an action. */
export function queryResponse(action: string, result: Record<string, Xml>, requestId: string): string {
  return `<${action}Response xmlns="${SES_XMLNS}">\n  <${action}Result>${toXml(result)}</${action}Result>\n  <ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>\n</${action}Response>\n`;
}

export function queryError(error: ApiError, requestId: string): string {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="${SES_XMLNS}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${escapeXml(error.code)}</Code>\n    <Message>${escapeXml(error.message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`;
}

const parameterMaps = new WeakMap<URLSearchParams, Map<string, string>>();

/**
 * The form's parameters by name, the first of a repeated one (as URLSearchParams.get gives it). URLSearchParams
 * looks a name up by scanning every parameter, so walking `.member.N` lists with it was quadratic in the request:
 * 30,000 Destinations (a 1 MB body) took 21 s before the recipient limit could refuse them.
 */
function parameters(form: URLSearchParams): Map<string, string> {
  let map = parameterMaps.get(form);
  if (!map) {
    map = new Map();
    for (const [name, value] of form) if (!map.has(name)) map.set(name, value);
    parameterMaps.set(form, map);
  }
  return map;
}

/** `Name.member.1`, `Name.member.2`, … in order. */
function members(form: URLSearchParams, name: string): string[] {
  const params = parameters(form);
  const values: string[] = [];
  for (let index = 1, value = params.get(`${name}.member.1`); value !== undefined; value = params.get(`${name}.member.${++index}`)) values.push(value);
  return values;
}

function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (!value) throw new ApiError('MissingParameter', 400, `The request must contain the parameter ${name}.`);
  return value;
}

function sendControl(form: URLSearchParams) {
  const params = parameters(form);
  const tags: string[] = [];
  for (let index = 1, name = params.get('Tags.member.1.Name'); name !== undefined; name = params.get(`Tags.member.${++index}.Name`)) tags.push(`${name}=${params.get(`Tags.member.${index}.Value`) ?? ''}`);
  const optional = (key: 'configurationSet' | 'sourceArn' | 'fromArn' | 'returnPathArn', name: string) => (form.get(name) ? { [key]: form.get(name) as string } : {});
  return {
    ...optional('configurationSet', 'ConfigurationSetName'),
    ...optional('sourceArn', 'SourceArn'),
    ...optional('fromArn', 'FromArn'),
    ...optional('returnPathArn', 'ReturnPathArn'),
    ...(tags.length > 0 ? { messageTags: tags.join(', ') } : {}),
  };
}

async function sendRawEmail(request: ApiRequest, form: URLSearchParams) {
  const destinations = members(form, 'Destinations');
  const source = form.get('Source');
  const messageId = await apiSend(
    request.services.submission,
    request.caller,
    {
      message: Buffer.from(required(form, 'RawMessage.Data'), 'base64'),
      ...(source ? { source } : {}),
      ...(destinations.length > 0 ? { destinations } : {}),
      control: sendControl(form),
    },
    'v1',
  );
  return { MessageId: messageId };
}

async function sendEmail(request: ApiRequest, form: URLSearchParams) {
  const source = required(form, 'Source');
  const to = members(form, 'Destination.ToAddresses');
  const cc = members(form, 'Destination.CcAddresses');
  const bcc = members(form, 'Destination.BccAddresses');
  const text = form.get('Message.Body.Text.Data');
  const html = form.get('Message.Body.Html.Data');
  const message = await composeSimpleMessage({
    from: source,
    to,
    cc,
    replyTo: members(form, 'ReplyToAddresses'),
    subject: required(form, 'Message.Subject.Data'),
    ...(text !== null ? { text } : {}),
    ...(html !== null ? { html } : {}),
    headers: [],
  });
  const messageId = await apiSend(
    request.services.submission,
    request.caller,
    { message, source: form.get('ReturnPath') ?? source, destinations: [...to, ...cc, ...bcc], control: sendControl(form) },
    'v1',
  );
  return { MessageId: messageId };
}

async function getSendQuota(request: ApiRequest) {
  const limits = sendLimitsInForce(await accountOf(request));
  const sent = await request.services.limiter.sentLast24Hours(request.accountId);
  return { Max24HourSend: limits.max24HourSend.toFixed(1), MaxSendRate: limits.maxSendRate.toFixed(1), SentLast24Hours: sent.toFixed(1) };
}

async function getSendStatistics(request: ApiRequest) {
  // SES keeps the last two weeks of 15-minute data points.
  const points = await request.services.statistics.dataPoints(request.accountId, Date.now() - 14 * 86_400_000);
  return {
    SendDataPoints: points.map((point) => ({
      Timestamp: new Date(point.bucket).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      DeliveryAttempts: point.deliveryAttempts,
      Bounces: point.bounces,
      Complaints: point.complaints,
      Rejects: point.rejects,
    })),
  };
}

/** Creates the identity unless the account has it already (SES's Verify* calls may be repeated). */
async function verifyIdentity(request: ApiRequest, name: string, expected: Identity['type']): Promise<{ identity: Identity; created: boolean }> {
  let normalized: ReturnType<typeof normalizeIdentityName>;
  try {
    normalized = normalizeIdentityName(name);
  } catch (error) {
    if (error instanceof IdentityNameError) throw badRequest(error.message, 'v1');
    throw error;
  }
  if (normalized.type !== expected) throw badRequest(`Invalid ${expected === 'Domain' ? 'domain' : 'email address'}: ${name}`, 'v1');
  const existing = await request.services.store.identities.get(request.accountId, normalized.name);
  if (existing) return { identity: existing, created: false };
  return { identity: await createIdentity(request.services.store, { accountId: request.accountId, name, dkim: false, verified: false }), created: true };
}

async function verifyEmailIdentity(request: ApiRequest, form: URLSearchParams) {
  const { identity } = await verifyIdentity(request, required(form, 'EmailAddress'), 'EmailAddress');
  if (identity.status !== 'Success') await queueVerificationEmail(request.services.config, identity, request.services.log);
  return {};
}

async function verifyDomainIdentity(request: ApiRequest, form: URLSearchParams) {
  const { identity } = await verifyIdentity(request, required(form, 'Domain'), 'Domain');
  return { VerificationToken: identity.verificationToken };
}

async function listIdentities(request: ApiRequest, form: URLSearchParams) {
  const type = form.get('IdentityType');
  if (type && type !== 'EmailAddress' && type !== 'Domain') throw badRequest(`Invalid IdentityType: ${type}`, 'v1');
  const identities = (await request.services.store.identities.list(request.accountId)).filter((identity) => !type || identity.type === type);
  const start = Number(form.get('NextToken') ?? 0);
  if (!Number.isInteger(start) || start < 0) throw new ApiError('InvalidNextToken', 400, 'Invalid NextToken');
  const max = Math.min(Number(form.get('MaxItems') ?? 1000) || 1000, 1000);
  const slice = identities.slice(start, start + max);
  return { Identities: slice.map((identity) => identity.name), ...(start + max < identities.length ? { NextToken: String(start + max) } : {}) };
}

type Action = (request: ApiRequest, form: URLSearchParams) => Promise<Record<string, Xml>>;

/** The sends, which the send policy checks (ses:SendRawEmail per sending identity) rather than the IAM check of the other actions. */
const SENDS: ReadonlySet<Action> = new Set([sendRawEmail, sendEmail]);

const ACTIONS: Record<string, Action> = {
  SendRawEmail: sendRawEmail,
  SendEmail: sendEmail,
  GetSendQuota: getSendQuota,
  GetSendStatistics: getSendStatistics,
  VerifyEmailIdentity: verifyEmailIdentity,
  VerifyEmailAddress: verifyEmailIdentity,
  VerifyDomainIdentity: verifyDomainIdentity,
  ListIdentities: listIdentities,
};

/** Runs one SES v1 Query action; returns the XML response document. */
export async function runQueryAction(request: ApiRequest, form: URLSearchParams): Promise<{ action: string; xml: string }> {
  const action = form.get('Action') ?? '';
  const handler = ACTIONS[action];
  if (!handler) throw new ApiError('InvalidAction', 400, `The action ${action || '(none)'} is not valid for this web service.`);
  // None of SES v1's other actions names a resource IAM could check.
  if (!SENDS.has(handler)) await authorize(request, `ses:${action}`, ANY_RESOURCE, 'v1');
  return { action, xml: queryResponse(action, await handler(request, form), request.caller.requestId) };
}
