import type { Classification, ReplyStage } from './classification.js';
import { defaultBounceRules } from './rules.js';
import type { BounceRule } from './rules.js';
import { parseSmtpReply } from './smtp-reply.js';
import type { ParsedReply } from './smtp-reply.js';

export interface ReplyContext {
  stage?: ReplyStage;
}

type Defaults = Pick<Classification, 'action' | 'bounceType' | 'bounceSubType' | 'category' | 'rule'>;

const DEFAULT_BY_CLASS: Record<string, Defaults> = {
  '2': { action: 'deliver', bounceType: null, bounceSubType: null, category: 'delivered', rule: 'default-2xx' },
  '4': { action: 'retry', bounceType: 'Transient', bounceSubType: 'General', category: 'transient', rule: 'default-4xx' },
  '5': { action: 'bounce', bounceType: 'Permanent', bounceSubType: 'General', category: 'permanent', rule: 'default-5xx' },
};

// Without a reply code (a dropped connection, an odd 3xx) nothing says the failure is final.
const DEFAULT_UNKNOWN: Defaults = { action: 'retry', bounceType: 'Undetermined', bounceSubType: 'Undetermined', category: 'unknown', rule: 'default-unknown' };

/**
 * Decides what a remote reply means: deliver, retry or bounce, and the SES bounce type to report.
 * 2xx replies are always delivered; other replies go through the rules, first match wins, then the class default.
 */
export function classifySmtpReply(reply: string, context: ReplyContext = {}, rules: readonly BounceRule[] = defaultBounceRules()): Classification {
  const parsed = parseSmtpReply(reply);
  const replyClass = replyClassOf(parsed);
  const fallback = (replyClass && DEFAULT_BY_CLASS[replyClass]) || DEFAULT_UNKNOWN;
  const identity = { code: parsed.code, enhancedCode: parsed.enhancedCode };
  if (replyClass === '2') return { ...fallback, ...identity };

  const rule = rules.find((candidate) => ruleMatches(candidate, parsed, context.stage));
  if (!rule) return { ...fallback, ...identity };
  return {
    action: rule.action ?? fallback.action,
    bounceType: rule.bounceType,
    bounceSubType: rule.bounceSubType,
    category: rule.category,
    rule: rule.id,
    ...identity,
  };
}

/** The reply class digit; a bare enhanced code (a DSN Status) stands in when there is no basic code. */
function replyClassOf({ code, enhancedCode }: ParsedReply): string | null {
  if (code !== null) return String(code)[0];
  return enhancedCode?.[0] ?? null;
}

function ruleMatches(rule: BounceRule, reply: ParsedReply, stage: ReplyStage | undefined): boolean {
  if (rule.codes && !rule.codes.some((code) => codeMatches(code, reply))) return false;
  if (rule.enhanced && !rule.enhanced.some((code) => enhancedMatches(code, reply.enhancedCode))) return false;
  if (rule.stages && !(stage && rule.stages.includes(stage))) return false;
  return !rule.pattern || rule.pattern.test(reply.text);
}

function codeMatches(wanted: string, reply: ParsedReply): boolean {
  const replyClass = replyClassOf(reply);
  if (wanted === 'none') return replyClass === null;
  if (replyClass === null) return false;
  // A bare enhanced code (a DSN status) can only satisfy class-wide conditions such as 5xx.
  const digits = reply.code === null ? `${replyClass}xx` : String(reply.code);
  return [...wanted].every((digit, index) => digit === 'x' || digit === digits[index]);
}

function enhancedMatches(wanted: string, code: string | null): boolean {
  if (code === null) return false;
  const parts = code.split('.');
  return wanted.split('.').every((part, index) => part === '*' || part === parts[index]);
}

/** Human-readable verdict, one field a line, for `relaygate bounce-rule test`. */
export function formatClassification(classification: Classification): string {
  const { action, bounceType, bounceSubType, category, rule, code, enhancedCode } = classification;
  const rows: Array<[string, string]> = [
    ['action', action],
    ['bounce type', bounceType ? `${bounceType}/${bounceSubType}` : '(none: delivered)'],
    ['category', category],
    ['rule', rule],
    ['reply code', code === null ? '(none)' : String(code)],
    ['enhanced code', enhancedCode ?? '(none)'],
  ];
  return rows.map(([label, value]) => `${`${label}:`.padEnd(15)}${value}`).join('\n');
}
