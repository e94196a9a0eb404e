import { parsePolicyDocument, type PolicyDocument } from './iam/index.js';
import type { StoredPolicy } from '../store/policies.js';

const MAX_CACHED = 1000;
const parsed = new Map<string, PolicyDocument>();

/**
 * Stored policies as parsed documents. They were validated when stored, and the same few documents
 * apply to every message of a user, so each text is parsed once.
 */
export function policyDocuments(policies: readonly StoredPolicy[]): PolicyDocument[] {
  return policies.map(({ target, document }) => {
    const key = `${target.kind}\0${document}`;
    let result = parsed.get(key);
    if (!result) {
      result = parsePolicyDocument(document, { kind: target.kind });
      if (parsed.size >= MAX_CACHED) parsed.delete(parsed.keys().next().value as string);
      parsed.set(key, result);
    }
    return result;
  });
}
