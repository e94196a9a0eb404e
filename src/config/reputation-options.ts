import { ConfigError } from './config-error.js';
import type { OptionReader } from './option-reader.js';

export type AutoPause = 'off' | 'account' | 'configuration-set';

/**
 * When an account's (or a configuration set's) bounce and complaint rates put it under review or pause it. Rates are
 * fractions; the defaults are the guide's thresholds (review at 5 % hard bounces or 0.1 % complaints, pause at 10 % or
 * 0.5 %), over the recipients sent in the last `windowDays` (relaygate's stand-in for SES's "representative volume").
 */
export interface ReputationConfig {
  bounceReviewRate: number;
  bouncePauseRate: number;
  complaintReviewRate: number;
  complaintPauseRate: number;
  windowDays: number;
  /** Below this many recipients in the window the rates are not judged (status Healthy). */
  minimumVolume: number;
  /** What a pause-level rate pauses: nothing (report only), the account's sending, or the configuration set's. */
  autoPause: AutoPause;
}

export function readReputationConfig(reader: OptionReader): ReputationConfig {
  const config: ReputationConfig = {
    bounceReviewRate: reader.number('bounceReviewRate', 0.05, 0, 1),
    bouncePauseRate: reader.number('bouncePauseRate', 0.1, 0, 1),
    complaintReviewRate: reader.number('complaintReviewRate', 0.001, 0, 1),
    complaintPauseRate: reader.number('complaintPauseRate', 0.005, 0, 1),
    windowDays: reader.integer('windowDays', 14, 1, 14),
    minimumVolume: reader.integer('minimumVolume', 200, 1, 100_000_000),
    autoPause: reader.oneOf('autoPause', 'off', ['off', 'account', 'configuration-set'] as const),
  };
  if (config.bouncePauseRate < config.bounceReviewRate) throw new ConfigError(reader.name('bouncePauseRate'), 'must not be below bounceReviewRate');
  if (config.complaintPauseRate < config.complaintReviewRate) throw new ConfigError(reader.name('complaintPauseRate'), 'must not be below complaintReviewRate');
  reader.rejectUnknown();
  return config;
}
