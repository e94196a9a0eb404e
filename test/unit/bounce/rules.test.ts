import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifySmtpReply } from '../../../src/delivery/bounce/classify.js';
import { BounceRulesError, defaultBounceRules, loadBounceRules, parseBounceRules } from '../../../src/delivery/bounce/rules.js';

const VALID_RULE = 'bounceType: Transient\n  bounceSubType: General\n  category: test';

function rejects(yaml: string, message: RegExp): void {
  assert.throws(() => parseBounceRules(yaml, 'test.yaml'), (err: unknown) => err instanceof BounceRulesError && message.test(err.message));
}

test('the shipped rules file loads, once', () => {
  const rules = defaultBounceRules();
  assert.ok(rules.length >= 30 && rules.length <= 50, `rule count ${rules.length}`);
  assert.equal(defaultBounceRules(), rules);
});

test('a rules file on disk is read and used in order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bounce-rules-'));
  try {
    const path = join(dir, 'rules.yaml');
    writeFileSync(path, `- id: first\n  code: '55x'\n  pattern: 'nope'\n  action: retry\n  ${VALID_RULE}\n- id: second\n  code: 550\n  ${VALID_RULE}\n`);
    const rules = loadBounceRules(path);
    assert.deepEqual(rules.map((rule) => rule.id), ['first', 'second']);
    assert.deepEqual(rules[1].codes, ['550']);
    assert.equal(classifySmtpReply('550 nope', {}, rules).rule, 'first');
    assert.equal(classifySmtpReply('550 other', {}, rules).rule, 'second');
    assert.equal(classifySmtpReply('551 other', {}, rules).rule, 'default-5xx');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('an invalid regular expression names the rule and field', () => {
  rejects(`- id: ok\n  pattern: 'fine'\n  ${VALID_RULE}\n- id: broken\n  pattern: 'user (unknown'\n  ${VALID_RULE}`, /^bounce rules test\.yaml: rule 2 \(id "broken"\), field "pattern": invalid regular expression/);
});

test('an unknown action is rejected', () => {
  rejects(`- id: odd\n  code: 5xx\n  action: defer\n  ${VALID_RULE}`, /rule 1 \(id "odd"\), field "action": must be retry or bounce, got "defer"/);
});

test('other mistakes are reported with the field', () => {
  rejects(`- id: typo\n  patern: 'x'\n  ${VALID_RULE}`, /field "patern": unknown field/);
  rejects(`- id: bare\n  ${VALID_RULE}`, /field "\(rule\)": needs at least one of code, enhanced, stage or pattern/);
  rejects(`- id: code\n  code: '6xx'\n  ${VALID_RULE}`, /field "code": expected a reply code/);
  rejects(`- id: enh\n  enhanced: '5.1'\n  ${VALID_RULE}`, /field "enhanced": expected an enhanced code/);
  rejects(`- id: stage\n  code: 5xx\n  stage: quit\n  ${VALID_RULE}`, /field "stage": expected one of connect/);
  rejects(`- id: sub\n  code: 5xx\n  bounceType: Transient\n  bounceSubType: NoEmail\n  category: x`, /field "bounceSubType": must be one of General, MailboxFull/);
  rejects(`- id: supp\n  code: 5xx\n  bounceType: Permanent\n  bounceSubType: Suppressed\n  category: x`, /Suppressed is set by the suppression list/);
  rejects(`- id: BadId\n  code: 5xx\n  ${VALID_RULE}`, /rule 1 \(id "BadId"\), field "id"/);
  rejects(`- id: same\n  code: 5xx\n  ${VALID_RULE}\n- id: same\n  code: 4xx\n  ${VALID_RULE}`, /rule 2, field "id": "same" is used by an earlier rule/);
  rejects('id: not-a-list', /the file must be a YAML list of rules/);
  rejects('- [unclosed', /not valid YAML/);
});

test('a Permanent rule that could be retried is rejected', () => {
  const permanent = 'bounceType: Permanent\n  bounceSubType: NoEmail\n  category: recipient';
  rejects(`- id: unknown-user\n  pattern: 'user unknown'\n  ${permanent}`, /field "bounceType": Permanent needs action: bounce or a code limited to 5xx/);
  rejects(`- id: unknown-user\n  code: [4xx, 5xx]\n  ${permanent}`, /Permanent needs action: bounce/);
  assert.equal(parseBounceRules(`- id: unknown-user\n  pattern: 'user unknown'\n  action: bounce\n  ${permanent}`, 'test.yaml').length, 1);
});

test('a missing file is reported with its path', () => {
  assert.throws(() => loadBounceRules('/nonexistent/bounce-rules.yaml'), /^BounceRulesError: bounce rules \/nonexistent\/bounce-rules\.yaml: cannot read the file/);
});
