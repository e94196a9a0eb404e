/**
 * Decides a statement's Condition block against a request, following the IAM evaluation rules:
 * operators AND together, keys within an operator AND together, a key's policy values OR together
 * (NOR for negated operators).
 */
import type { IndexedContext } from './condition-context.js';
import { parseConditionOperator, type Comparison, type SetQualifier } from './condition-operators.js';
import { parseBool, type ContextScalar } from './condition-values.js';
import type { ConditionBlock } from './policy-document.js';
import { PolicyValidationError } from './policy-validation-error.js';

export function conditionHolds(condition: ConditionBlock, context: IndexedContext): boolean {
  return Object.entries(condition).every(([operatorName, keys]) => {
    const operator = parseConditionOperator(operatorName);
    // Documents from parsePolicyDocument never get here; a hand-built one must not pass silently.
    if (!operator) throw new PolicyValidationError(`Condition: unknown operator "${operatorName}"`);
    return Object.entries(keys).every(([key, policyValues]) => {
      const requestValues = context.get(key.toLowerCase()) ?? [];
      if (operator.kind === 'null') {
        const absent = requestValues.length === 0;
        return policyValues.some((value) => parseBool(value) === absent);
      }
      return keyHolds(operator.comparison, operator.set, operator.ifExists, policyValues, requestValues);
    });
  });
}

function keyHolds(
  comparison: Comparison,
  set: SetQualifier | undefined,
  ifExists: boolean,
  policyValues: readonly string[],
  requestValues: readonly ContextScalar[],
): boolean {
  if (requestValues.length === 0) {
    // AWS: IfExists holds for a missing key; ForAllValues holds for an empty set and ForAnyValue
    // does not; otherwise a missing key matches nothing, which makes negated operators hold.
    if (ifExists || set === 'ForAllValues') return true;
    if (set === 'ForAnyValue') return false;
    return comparison.negated;
  }
  const valueHolds = (value: ContextScalar): boolean =>
    comparison.matchesAny(value, policyValues) !== comparison.negated;
  if (set === 'ForAllValues') return requestValues.every(valueHolds);
  if (set === 'ForAnyValue') return requestValues.some(valueHolds);
  // AWS says multi-valued keys need a set qualifier but not what happens without one. Here a
  // positive operator holds when any request value matches, and its negation is the exact opposite
  // (no request value matches), so `StringNotLike` is always the complement of `StringLike`.
  const anyMatches = requestValues.some((value) => comparison.matchesAny(value, policyValues));
  return anyMatches !== comparison.negated;
}
