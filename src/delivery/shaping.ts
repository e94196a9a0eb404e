import type { ShapingLimits, ShapingRuleConfig } from '../config/schema.js';

/** The limits that apply to a destination and the key of the group that shares them (per source address). */
export interface Shaping {
  key: string;
  limits: ShapingLimits;
}

/**
 * The first rule matching the recipient domain and its MX hosts, or the defaults for the MX site alone. A rule's key
 * is its position, so every domain it matches (all domains hosted at one provider) shares one set of limits.
 */
export function shapingFor(domain: string, mxHosts: readonly string[], site: string, rules: readonly ShapingRuleConfig[], defaults: ShapingLimits): Shaping {
  const index = rules.findIndex((rule) => ruleMatches(rule, domain, mxHosts));
  const rule = rules[index];
  return rule ? { key: `rule ${index}`, limits: rule } : { key: `site ${site}`, limits: defaults };
}

function ruleMatches(rule: ShapingRuleConfig, domain: string, mxHosts: readonly string[]): boolean {
  const { domain: pattern, mxSuffix } = rule.match;
  if (pattern !== null && !(pattern.startsWith('*.') ? domain.endsWith(pattern.slice(1)) : domain === pattern)) return false;
  if (mxSuffix !== null && !mxHosts.some((host) => host.endsWith(mxSuffix) || host === mxSuffix.replace(/^\./, ''))) return false;
  return true;
}
