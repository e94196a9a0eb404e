/** The request facts that policy conditions test, keyed by condition key. */
import type { ContextScalar } from './condition-values.js';

/** A list is a multi-valued key (e.g. `ses:Recipients`); `undefined` or `[]` means the key is absent. */
export type ConditionValue = ContextScalar | readonly string[] | undefined;

/** Condition key → value. Keys compare case-insensitively, as IAM condition keys do. */
export type ConditionContext = Readonly<Record<string, ConditionValue>>;

/** Lower-cased key → its values; absent keys are simply missing from the map. */
export type IndexedContext = ReadonlyMap<string, readonly ContextScalar[]>;

export function indexContext(context: ConditionContext): IndexedContext {
  const index = new Map<string, readonly ContextScalar[]>();
  for (const [key, value] of Object.entries(context)) {
    if (value === undefined) continue;
    const values: readonly ContextScalar[] = Array.isArray(value) ? value : [value as ContextScalar];
    if (values.length > 0) index.set(key.toLowerCase(), values);
  }
  return index;
}
