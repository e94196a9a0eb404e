import test from 'node:test';
import assert from 'node:assert/strict';
import { mailEvent } from '../../../src/events/event-builders.js';
import { feedbackReport } from '../../../src/feedback/forwarding/feedback-report.js';

const options = { hostname: 'relaygate.test', fromDomain: 'bounces.relaygate.test', messageIdDomain: 'relaygate.test', now: new Date(1_700_000_100_000) };

function bounceWith(diagnosticCode: string) {
  const at = 1_700_000_060_000;
  const message = {
    id: '0100018bcfe56800-00000000-0000-4000-8000-000000000001',
    accountId: '123456789012',
    mailFrom: 'sender@example.com',
    receivedAt: 1_700_000_000_000,
    recipients: ['jane@example.org'],
    configurationSet: null,
    tags: {},
  };
  const detail = {
    bounceType: 'Permanent' as const,
    bounceSubType: 'General' as const,
    bouncedRecipients: [{ emailAddress: 'jane@example.org', action: 'failed', status: '5.0.0', diagnosticCode }],
    timestamp: new Date(at).toISOString(),
    feedbackId: 'feedback-1',
    reportingMTA: 'dns; relaygate.test',
  };
  return feedbackReport(mailEvent('Bounce', message, at, detail) as Parameters<typeof feedbackReport>[0], options);
}

/** The Diagnostic-Code field of the report, as its physical lines. */
function diagnosticLines(body: string): string[] {
  const field = /\r\nDiagnostic-Code: [^]*?\r\n(?! )/.exec(body)![0];
  return field.slice(2, -2).split('\r\n');
}

test('a long Diagnostic-Code is folded at its spaces into lines of at most 998 characters', () => {
  const words = Array.from({ length: 30_000 }, (_, index) => `word${index}`).join(' ');
  const physical = diagnosticLines(bounceWith(`smtp; 550 ${words}`).body);
  assert.ok(physical.length > 200);
  assert.ok(physical.every((line) => line.length <= 998));
  assert.equal(physical.join(''), `Diagnostic-Code: smtp; 550 ${words}`, 'each fold is before a space, so unfolding gives the text back');
});

test('a run without spaces is broken hard, every continuation line starting with a space', () => {
  const run = 'x'.repeat(300_000);
  const physical = diagnosticLines(bounceWith(`smtp; 550 ${run}`).body);
  assert.ok(physical.every((line) => line.length <= 998));
  assert.ok(physical.slice(1).every((line) => line.startsWith(' ')));
  assert.equal(physical[0], 'Diagnostic-Code: smtp; 550', 'the first line ends at the last space within reach');
  assert.ok(physical.slice(1).map((line) => line.slice(1)).join('') === run, 'without the leading spaces, the continuations are the run');
});
