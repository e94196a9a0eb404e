/**
 * The IAM condition operators relaygate understands, parsed from names such as
 * `ForAllValues:StringLikeIfExists` into a comparison plus its set qualifier and IfExists flag.
 */
import { BlockList } from 'node:net';
import {
  contextBool,
  contextMillis,
  contextNumber,
  contextText,
  parseBool,
  parseDateMillis,
  parseIpBlock,
  parseNumber,
  type ContextScalar,
} from './condition-values.js';
import { wildcardMatch } from './wildcard.js';

export type SetQualifier = 'ForAllValues' | 'ForAnyValue';

export interface Comparison {
  /** Negated operators hold when no policy value matches (AWS evaluates their values as NOR). */
  readonly negated: boolean;
  /** Why a policy value cannot be used with this operator, or undefined when it can. */
  invalidValue(value: string): string | undefined;
  /** Whether one request value matches at least one of the policy values, before negation. */
  matchesAny(requestValue: ContextScalar, policyValues: readonly string[]): boolean;
}

export type ConditionOperator =
  | { readonly kind: 'null'; invalidValue(value: string): string | undefined }
  | { readonly kind: 'compare'; readonly comparison: Comparison; readonly set?: SetQualifier; readonly ifExists: boolean };

const acceptAnyText = (): undefined => undefined;

function stringComparison(negated: boolean, same: (request: string, policy: string) => boolean): Comparison {
  return {
    negated,
    invalidValue: acceptAnyText,
    matchesAny: (requestValue, policyValues) => {
      const text = contextText(requestValue);
      return policyValues.some((policyValue) => same(text, policyValue));
    },
  };
}

function numericComparison(negated: boolean, holds: (request: number, policy: number) => boolean): Comparison {
  return {
    negated,
    invalidValue: (value) => (parseNumber(value) === undefined ? 'is not a number' : undefined),
    matchesAny: (requestValue, policyValues) => {
      const number = contextNumber(requestValue);
      return number !== undefined && policyValues.some((policyValue) => holds(number, Number(policyValue)));
    },
  };
}

function dateComparison(negated: boolean, holds: (request: number, policy: number) => boolean): Comparison {
  return {
    negated,
    invalidValue: (value) =>
      parseDateMillis(value) === undefined ? 'is not an ISO 8601 date-time or epoch seconds' : undefined,
    matchesAny: (requestValue, policyValues) => {
      const millis = contextMillis(requestValue);
      return millis !== undefined && policyValues.some((policyValue) => holds(millis, parseDateMillis(policyValue)!));
    },
  };
}

const booleanComparison: Comparison = {
  negated: false,
  invalidValue: (value) => (parseBool(value) === undefined ? 'is not "true" or "false"' : undefined),
  matchesAny: (requestValue, policyValues) => {
    const bool = contextBool(requestValue);
    return bool !== undefined && policyValues.some((policyValue) => parseBool(policyValue) === bool);
  },
};

// Parsed documents keep their arrays, so each key's CIDR list is turned into a BlockList only once.
const blockLists = new WeakMap<readonly string[], BlockList>();

function blockListFor(policyValues: readonly string[]): BlockList {
  let blockList = blockLists.get(policyValues);
  if (!blockList) {
    blockList = new BlockList();
    for (const value of policyValues) {
      const block = parseIpBlock(value)!;
      blockList.addSubnet(block.address, block.prefix, block.family);
    }
    blockLists.set(policyValues, blockList);
  }
  return blockList;
}

function ipComparison(negated: boolean): Comparison {
  return {
    negated,
    invalidValue: (value) => (parseIpBlock(value) === undefined ? 'is not an IP address or CIDR block' : undefined),
    matchesAny: (requestValue, policyValues) => {
      // An IPv4 block also matches the IPv4-mapped IPv6 form (::ffff:192.0.2.1) that dual-stack sockets report.
      const address = parseIpBlock(contextText(requestValue));
      return address !== undefined && blockListFor(policyValues).check(address.address, address.family);
    },
  };
}

const equals = (a: string, b: string): boolean => a === b;
const equalsIgnoringCase = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const isLike = (text: string, pattern: string): boolean => wildcardMatch(pattern, text);

const COMPARISONS: ReadonlyMap<string, Comparison> = new Map([
  ['StringEquals', stringComparison(false, equals)],
  ['StringNotEquals', stringComparison(true, equals)],
  ['StringEqualsIgnoreCase', stringComparison(false, equalsIgnoringCase)],
  ['StringNotEqualsIgnoreCase', stringComparison(true, equalsIgnoringCase)],
  ['StringLike', stringComparison(false, isLike)],
  ['StringNotLike', stringComparison(true, isLike)],
  ['NumericEquals', numericComparison(false, (a, b) => a === b)],
  ['NumericNotEquals', numericComparison(true, (a, b) => a === b)],
  ['NumericLessThan', numericComparison(false, (a, b) => a < b)],
  ['NumericLessThanEquals', numericComparison(false, (a, b) => a <= b)],
  ['NumericGreaterThan', numericComparison(false, (a, b) => a > b)],
  ['NumericGreaterThanEquals', numericComparison(false, (a, b) => a >= b)],
  ['DateEquals', dateComparison(false, (a, b) => a === b)],
  ['DateNotEquals', dateComparison(true, (a, b) => a === b)],
  ['DateLessThan', dateComparison(false, (a, b) => a < b)],
  ['DateLessThanEquals', dateComparison(false, (a, b) => a <= b)],
  ['DateGreaterThan', dateComparison(false, (a, b) => a > b)],
  ['DateGreaterThanEquals', dateComparison(false, (a, b) => a >= b)],
  ['Bool', booleanComparison],
  ['IpAddress', ipComparison(false)],
  ['NotIpAddress', ipComparison(true)],
]);

const NULL_CHECK: ConditionOperator = {
  kind: 'null',
  invalidValue: (value) => (parseBool(value) === undefined ? 'is not "true" or "false"' : undefined),
};

const OPERATOR_NAME = /^(?:(ForAllValues|ForAnyValue):)?(.+?)(IfExists)?$/;

/** Undefined for unknown names; names match exactly, so a miscased operator is reported, not guessed at. */
export function parseConditionOperator(name: string): ConditionOperator | undefined {
  // Null is a presence test by itself, so it takes neither a set qualifier nor IfExists.
  if (name === 'Null') return NULL_CHECK;
  const parts = OPERATOR_NAME.exec(name);
  const comparison = parts && COMPARISONS.get(parts[2]!);
  if (!parts || !comparison) return undefined;
  return { kind: 'compare', comparison, set: parts[1] as SetQualifier | undefined, ifExists: parts[3] !== undefined };
}
