import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { BOUNCE_SUBTYPES, REPLY_STAGES, SUPPRESSION_SUBTYPES } from './classification.js';
import type { BounceSubType, BounceType, ReplyStage } from './classification.js';

/** One entry of the rules file, validated. Conditions left null match anything; all given ones must hold. */
export interface BounceRule {
  id: string;
  /** Basic reply codes: '550', '55x', '5xx', or 'none' for a reply without one (a network or TLS error). */
  codes: readonly string[] | null;
  /** RFC 3463 codes, each part a number or '*': '5.1.1', '5.1.*', '*.2.2'. */
  enhanced: readonly string[] | null;
  stages: readonly ReplyStage[] | null;
  pattern: RegExp | null;
  /** Overrides the action implied by the reply class. */
  action: 'retry' | 'bounce' | null;
  bounceType: BounceType;
  bounceSubType: BounceSubType;
  category: string;
}

export class BounceRulesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BounceRulesError';
  }
}

export const DEFAULT_BOUNCE_RULES_URL = new URL('../../../../assets/bounce-rules.yaml', import.meta.url);

const FIELDS = ['id', 'code', 'enhanced', 'stage', 'pattern', 'action', 'bounceType', 'bounceSubType', 'category'];
const CODE = /^(?:[245][\dx][\dx]|none)$/;
const ENHANCED = /^(?:[245]|\*)\.(?:\d{1,3}|\*)\.(?:\d{1,3}|\*)$/;
const SLUG = /^[a-z0-9]+(?:[-.][a-z0-9]+)*$/;

export function loadBounceRules(path: string | URL = DEFAULT_BOUNCE_RULES_URL): BounceRule[] {
  const source = path instanceof URL ? fileURLToPath(path) : path;
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (err) {
    throw new BounceRulesError(`bounce rules ${source}: cannot read the file: ${(err as Error).message}`);
  }
  return parseBounceRules(text, source);
}

let defaultRules: BounceRule[] | undefined;

/** The shipped rules file, read once. */
export function defaultBounceRules(): BounceRule[] {
  defaultRules ??= loadBounceRules();
  return defaultRules;
}

export function parseBounceRules(text: string, source: string): BounceRule[] {
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw new BounceRulesError(`bounce rules ${source}: not valid YAML: ${(err as Error).message}`);
  }
  if (!Array.isArray(document)) throw new BounceRulesError(`bounce rules ${source}: the file must be a YAML list of rules`);

  const seenIds = new Set<string>();
  return document.map((entry: unknown, index) => {
    const rule = readRule(entry, (field, problem) => {
      const id = isRecord(entry) && typeof entry.id === 'string' ? ` (id "${entry.id}")` : '';
      return new BounceRulesError(`bounce rules ${source}: rule ${index + 1}${id}, field "${field}": ${problem}`);
    });
    if (seenIds.has(rule.id)) throw new BounceRulesError(`bounce rules ${source}: rule ${index + 1}, field "id": "${rule.id}" is used by an earlier rule`);
    seenIds.add(rule.id);
    return rule;
  });
}

type Problem = (field: string, problem: string) => BounceRulesError;

function readRule(entry: unknown, problem: Problem): BounceRule {
  if (!isRecord(entry)) throw problem('(rule)', 'each rule must be a mapping');
  const unknownField = Object.keys(entry).find((key) => !FIELDS.includes(key));
  if (unknownField) throw problem(unknownField, `unknown field; allowed fields are ${FIELDS.join(', ')}`);

  const id = entry.id;
  if (typeof id !== 'string' || !SLUG.test(id)) throw problem('id', 'must be a lowercase slug such as "gmail-over-quota"');

  const codes = stringList(entry, 'code', problem, (code): code is string => CODE.test(code), "a reply code such as '550', '55x', '5xx' or 'none'");
  const enhanced = stringList(entry, 'enhanced', problem, (code): code is string => ENHANCED.test(code), "an enhanced code such as '5.1.1', '5.1.*' or '*.2.2'");
  const stages = stringList(entry, 'stage', problem, isReplyStage, `one of ${REPLY_STAGES.join(', ')}`);
  const pattern = readPattern(entry.pattern, problem);
  if (!codes && !enhanced && !stages && !pattern) throw problem('(rule)', 'needs at least one of code, enhanced, stage or pattern');

  const action = entry.action ?? null;
  if (action !== null && action !== 'retry' && action !== 'bounce') throw problem('action', `must be retry or bounce, got ${JSON.stringify(action)}`);

  const bounceType = entry.bounceType;
  if (typeof bounceType !== 'string' || !Object.hasOwn(BOUNCE_SUBTYPES, bounceType)) {
    throw problem('bounceType', `must be one of ${Object.keys(BOUNCE_SUBTYPES).join(', ')}, got ${JSON.stringify(bounceType)}`);
  }
  const allowedSubTypes: readonly string[] = BOUNCE_SUBTYPES[bounceType as BounceType];
  const bounceSubType = entry.bounceSubType;
  if (typeof bounceSubType !== 'string' || !allowedSubTypes.includes(bounceSubType)) {
    throw problem('bounceSubType', `must be one of ${allowedSubTypes.join(', ')} for ${bounceType}, got ${JSON.stringify(bounceSubType)}`);
  }
  if ((SUPPRESSION_SUBTYPES as readonly string[]).includes(bounceSubType)) {
    throw problem('bounceSubType', `${bounceSubType} is set by the suppression list, never by a reply`);
  }
  // A retried reply that runs out of retries is reported as Transient, so Permanent needs a certain bounce.
  const alwaysBounces = action === 'bounce' || (action === null && codes !== null && codes.every((code) => code.startsWith('5')));
  if (bounceType === 'Permanent' && !alwaysBounces) {
    throw problem('bounceType', "Permanent needs action: bounce or a code limited to 5xx, because a retried reply can only end as a Transient bounce");
  }

  const category = entry.category;
  if (typeof category !== 'string' || !SLUG.test(category)) throw problem('category', 'must be a lowercase slug such as "mailbox-full"');

  return { id, codes, enhanced, stages, pattern, action, bounceType: bounceType as BounceType, bounceSubType: bounceSubType as BounceSubType, category };
}

function stringList<T extends string>(entry: Record<string, unknown>, field: string, problem: Problem, valid: (item: string) => item is T, expected: string): T[] | null {
  const value = entry[field];
  if (value === undefined || value === null) return null;
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) throw problem(field, 'must not be an empty list');
  return items.map((item: unknown) => {
    // YAML reads an unquoted 550 as a number; accept it as the code it plainly means.
    const text = typeof item === 'number' ? String(item) : item;
    if (typeof text !== 'string' || !valid(text)) throw problem(field, `expected ${expected}, got ${JSON.stringify(item)}`);
    return text;
  });
}

function isReplyStage(value: string): value is ReplyStage {
  return (REPLY_STAGES as readonly string[]).includes(value);
}

function readPattern(value: unknown, problem: Problem): RegExp | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value === '') throw problem('pattern', 'must be a non-empty string (a regular expression)');
  try {
    return new RegExp(value, 'i');
  } catch (err) {
    throw problem('pattern', `invalid regular expression: ${(err as Error).message}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
