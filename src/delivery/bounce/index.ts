export { classifySmtpReply, formatClassification } from './classify.js';
export type { ReplyContext } from './classify.js';
export { BOUNCE_SUBTYPES, REPLY_STAGES } from './classification.js';
export type { BounceSubType, BounceType, Classification, DeliveryAction, ReplyStage } from './classification.js';
export { BounceRulesError, DEFAULT_BOUNCE_RULES_URL, defaultBounceRules, loadBounceRules } from './rules.js';
export type { BounceRule } from './rules.js';
