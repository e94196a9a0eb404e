import type { OptionReader } from './option-reader.js';

export interface VerificationConfig {
  /** How often identities waiting for their DNS records (Pending, TemporaryFailure) are checked. */
  pendingCheckSeconds: number;
  /** How often verified identities are checked again (a missing record starts SES's 72-hour grace period). */
  verifiedCheckHours: number;
}

export function readVerificationConfig(reader: OptionReader): VerificationConfig {
  const config = {
    pendingCheckSeconds: reader.integer('pendingCheckSeconds', 300, 1, 86_400),
    verifiedCheckHours: reader.integer('verifiedCheckHours', 24, 1, 24 * 30),
  };
  reader.rejectUnknown();
  return config;
}
