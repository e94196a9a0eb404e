export {
  createMtaStsChecker,
  type MtaStsChecker,
  type MtaStsCheckerOptions,
  type MtaStsMode,
  type MtaStsPolicy,
  type MxVerdict,
  type PolicyFetcher,
} from './mta-sts-checker.js';
