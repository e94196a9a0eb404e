/**
 * Validates an IAM-style policy (JSON text or an already parsed value) and normalises it: single
 * values become lists and a lone statement becomes a list of one. Anything AWS would refuse, and any
 * element relaygate does not know, is rejected with a message naming the element.
 */
import { parseConditionOperator } from './condition-operators.js';
import { isValidAwsPrincipal } from './principal.js';
import type {
  ConditionBlock,
  PolicyDocument,
  PolicyKind,
  PolicyStatement,
  PolicyVersion,
  PrincipalSpec,
} from './policy-document.js';
import { PolicyValidationError } from './policy-validation-error.js';

export interface ParsePolicyOptions {
  readonly kind: PolicyKind;
  /**
   * The ARN of the identity an identity policy is attached to. SES requires every statement's
   * Resource to be exactly that ARN, so with this set anything else is rejected.
   */
  readonly attachedTo?: string;
}

type JsonObject = Record<string, unknown>;

const VERSIONS: readonly PolicyVersion[] = ['2012-10-17', '2008-10-17'];
const DOCUMENT_KEYS = ['Version', 'Id', 'Statement'];
const STATEMENT_KEYS = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'];
const PRINCIPAL_TYPES = ['AWS', 'Service'];
const ACTION = /^(?:\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+)$/;

export function parsePolicyDocument(json: unknown, options: ParsePolicyOptions): PolicyDocument {
  const document = typeof json === 'string' ? parseJson(json) : json;
  if (!isObject(document)) fail('Policy must be a JSON object');
  rejectUnknownKeys(document, DOCUMENT_KEYS, 'Policy');
  const { Version: version, Id: id, Statement: statement } = document;
  if (version !== undefined && !VERSIONS.includes(version as PolicyVersion)) {
    fail(`Version must be ${VERSIONS.map((known) => `"${known}"`).join(' or ')}`);
  }
  if (id !== undefined && typeof id !== 'string') fail('Id must be a string');
  const rawStatements = Array.isArray(statement) ? statement : isObject(statement) ? [statement] : [];
  if (rawStatements.length === 0) fail('Statement must be an object or a non-empty array of objects');
  const statements = rawStatements.map((raw, index) => parseStatement(raw, `Statement[${index}]`, options));
  rejectDuplicateSids(statements);
  return withoutUndefined({ Version: version as PolicyVersion | undefined, Id: id, Statement: statements });
}

/** Pretty JSON, as the CLI prints a policy back. */
export function formatPolicyDocument(document: PolicyDocument): string {
  return JSON.stringify(document, null, 2);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    fail(`Policy is not valid JSON: ${(error as Error).message}`);
  }
}

function parseStatement(raw: unknown, path: string, options: ParsePolicyOptions): PolicyStatement {
  if (!isObject(raw)) fail(`${path} must be an object`);
  rejectUnknownKeys(raw, STATEMENT_KEYS, path);
  const sid = raw.Sid;
  if (sid !== undefined && typeof sid !== 'string') fail(`${path}.Sid must be a string`);
  const effect = raw.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') fail(`${path}.Effect must be "Allow" or "Deny"`);

  const principalKey = oneOf(raw, 'Principal', 'NotPrincipal', path);
  if (principalKey && options.kind === 'user') fail(`${path}: user policies cannot have a ${principalKey}`);
  if (!principalKey && options.kind === 'identity') fail(`${path}: identity policies need a Principal`);
  const principal = principalKey && parsePrincipal(raw[principalKey], `${path}.${principalKey}`);

  const actionKey = oneOf(raw, 'Action', 'NotAction', path) ?? fail(`${path}: Action or NotAction is required`);
  const actions = stringList(raw[actionKey], `${path}.${actionKey}`);
  for (const action of actions) {
    if (!ACTION.test(action)) fail(`${path}.${actionKey} "${action}" is not "*" or a "service:action" name`);
  }

  const resourceKey = oneOf(raw, 'Resource', 'NotResource', path) ?? fail(`${path}: Resource or NotResource is required`);
  const resources = stringList(raw[resourceKey], `${path}.${resourceKey}`);
  for (const resource of resources) {
    if (resource !== '*' && !resource.startsWith('arn:')) fail(`${path}.${resourceKey} "${resource}" is not "*" or an ARN`);
  }
  const { attachedTo } = options;
  if (attachedTo !== undefined && (resourceKey !== 'Resource' || resources.some((resource) => resource !== attachedTo))) {
    fail(`${path}.Resource must be the ARN of the identity the policy is attached to (${attachedTo})`);
  }

  return withoutUndefined<PolicyStatement>({
    Sid: sid,
    Effect: effect,
    Principal: principalKey === 'Principal' ? principal : undefined,
    NotPrincipal: principalKey === 'NotPrincipal' ? principal : undefined,
    Action: actionKey === 'Action' ? actions : undefined,
    NotAction: actionKey === 'NotAction' ? actions : undefined,
    Resource: resourceKey === 'Resource' ? resources : undefined,
    NotResource: resourceKey === 'NotResource' ? resources : undefined,
    Condition: raw.Condition === undefined ? undefined : parseCondition(raw.Condition, `${path}.Condition`),
  });
}

/** Which of two mutually exclusive elements is set, if either. */
function oneOf<A extends string, B extends string>(raw: JsonObject, a: A, b: B, path: string): A | B | undefined {
  const hasA = raw[a] !== undefined;
  const hasB = raw[b] !== undefined;
  if (hasA && hasB) fail(`${path}: ${a} and ${b} cannot both be set`);
  return hasA ? a : hasB ? b : undefined;
}

function parsePrincipal(raw: unknown, path: string): PrincipalSpec {
  if (raw === '*') return '*';
  if (!isObject(raw) || Object.keys(raw).length === 0) fail(`${path} must be "*" or an object such as {"AWS": "123456789012"}`);
  for (const type of Object.keys(raw)) {
    if (!PRINCIPAL_TYPES.includes(type)) fail(`${path}: unknown principal type "${type}" (expected "AWS" or "Service")`);
  }
  const aws = raw.AWS === undefined ? undefined : stringList(raw.AWS, `${path}.AWS`);
  for (const entry of aws ?? []) {
    if (!isValidAwsPrincipal(entry)) fail(`${path}.AWS "${entry}" is not "*", a 12-digit account ID, or an IAM root, user or role ARN`);
  }
  const service = raw.Service === undefined ? undefined : stringList(raw.Service, `${path}.Service`);
  return withoutUndefined({ AWS: aws, Service: service });
}

function parseCondition(raw: unknown, path: string): ConditionBlock {
  if (!isObject(raw)) fail(`${path} must be an object of operators`);
  const block: Record<string, Record<string, string[]>> = {};
  for (const [operatorName, keys] of Object.entries(raw)) {
    const operator = parseConditionOperator(operatorName);
    if (!operator) fail(`${path}: unknown operator "${operatorName}"`);
    const operatorPath = `${path}.${operatorName}`;
    if (!isObject(keys) || Object.keys(keys).length === 0) fail(`${operatorPath} must map condition keys to values`);
    const parsedKeys: Record<string, string[]> = {};
    for (const [key, values] of Object.entries(keys)) {
      const keyPath = `${operatorPath}[${JSON.stringify(key)}]`;
      if (key.trim() === '') fail(`${operatorPath}: condition keys cannot be empty`);
      const texts = conditionValues(values, keyPath);
      const invalidValue = operator.kind === 'null' ? operator.invalidValue : operator.comparison.invalidValue;
      for (const text of texts) {
        const problem = invalidValue(text);
        if (problem) fail(`${keyPath}: "${text}" ${problem}`);
      }
      parsedKeys[key] = texts;
    }
    block[operatorName] = parsedKeys;
  }
  return block;
}

/** Condition values may be JSON strings, numbers or booleans; they are kept as text, as IAM does. */
function conditionValues(raw: unknown, path: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  const scalar = (value: unknown): value is string | number | boolean =>
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
  if (list.length === 0 || !list.every(scalar)) fail(`${path} must be a string, number or boolean, or a non-empty array of them`);
  return list.map(String);
}

function stringList(raw: unknown, path: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0 || !list.every((value) => typeof value === 'string' && value !== '')) {
    fail(`${path} must be a non-empty string or a non-empty array of them`);
  }
  return list as string[];
}

function rejectUnknownKeys(raw: JsonObject, known: readonly string[], path: string): void {
  const unknown = Object.keys(raw).find((key) => !known.includes(key));
  if (unknown !== undefined) fail(`${path}: unknown key "${unknown}"`);
}

function rejectDuplicateSids(statements: readonly PolicyStatement[]): void {
  const firstUse = new Map<string, number>();
  statements.forEach((statement, index) => {
    if (statement.Sid === undefined) return;
    const earlier = firstUse.get(statement.Sid);
    if (earlier !== undefined) fail(`Statement[${index}].Sid "${statement.Sid}" is already used by Statement[${earlier}]`);
    firstUse.set(statement.Sid, index);
  });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Drops unset elements so a normalised document compares and prints without `undefined` holes. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, element]) => element !== undefined)) as T;
}

function fail(message: string): never {
  throw new PolicyValidationError(message);
}
