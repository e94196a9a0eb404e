export {
  createMtaStsChecker,
  type MtaStsChecker,
  type MtaStsCheckerOptions,
  type MtaStsMode,
  type MtaStsPolicy,
  type MxVerdict,
} from './mta-sts-checker.js';
export { createPolicyFetcher, type PolicyFetcher, type PolicyFetcherOptions } from './policy-fetcher.js';
export { parsePolicyText, type PublishedPolicy } from './policy-text.js';
