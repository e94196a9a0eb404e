import test from 'node:test';
import assert from 'node:assert/strict';
import { parseAbuseReport } from '../../../src/feedback/intake/abuse-report.js';
import { parseDeliveryStatus } from '../../../src/feedback/intake/delivery-status.js';
import { readFeedback } from '../../../src/feedback/intake/read-feedback.js';
import { readFieldBlocks } from '../../../src/feedback/intake/report-fields.js';

test('delivery status: per-message and per-recipient blocks, folded values, typed addresses, Remote-MTA addresses only', () => {
  const text = [
    'Reporting-MTA: dns;\tmx.example.net',
    'Arrival-Date: Tue, 2 Dec 2025 09:59:58 +0000',
    '',
    'Final-Recipient: RFC822; <Jane@Example.NET>',
    'Action: FAILED',
    'Status: 5.7.1 (delivery not authorized)',
    'Remote-MTA: dns; [IPv6:2001:db8::7]',
    'Diagnostic-Code: smtp; 550-5.7.1 first line',
    '\t550 5.7.1 second line',
    '',
    'Original-Recipient: rfc822;bob@example.net',
    'Action: delayed',
    'Status: 4.4.1',
    'Remote-MTA: dns; mx.example.net',
    '',
    'X-Vendor-Field: a block without a recipient is not one',
    '',
  ].join('\r\n');
  assert.deepEqual(parseDeliveryStatus(text), {
    reportingMta: 'dns; mx.example.net',
    recipients: [
      { finalRecipient: 'Jane@Example.NET', originalRecipient: undefined, action: 'failed', status: '5.7.1', diagnosticCode: 'smtp; 550-5.7.1 first line 550 5.7.1 second line', remoteMtaIp: '2001:db8::7' },
      { finalRecipient: undefined, originalRecipient: 'bob@example.net', action: 'delayed', status: '4.4.1', diagnosticCode: undefined, remoteMtaIp: undefined },
    ],
  });
  assert.equal(parseDeliveryStatus('Reporting-MTA: dns; mx.example.net\r\n'), null, 'no recipient block');
});

test('feedback report: fields, Received-Date when Arrival-Date is absent, several Original-Rcpt-To', () => {
  assert.deepEqual(
    parseAbuseReport('Feedback-Type: not-spam\nUser-Agent: Mail/1.0\nVersion: 1\nReceived-Date: Wed, 27 Jan 2016 14:59:38 +0100\nOriginal-Rcpt-To: <a@example.net>\nOriginal-Rcpt-To: b@example.net\n'),
    { feedbackType: 'not-spam', userAgent: 'Mail/1.0', arrivalDate: '2016-01-27T13:59:38.000Z', originalRecipients: ['a@example.net', 'b@example.net'] },
  );
  assert.deepEqual(parseAbuseReport('Feedback-Type: abuse\nArrival-Date: yesterday\n'), { feedbackType: 'abuse', userAgent: undefined, arrivalDate: undefined, originalRecipients: [] });
});

const report = (reportType: string, part: string) =>
  Buffer.from(
    [
      'From: a@example.net',
      'Subject: report',
      'MIME-Version: 1.0',
      `Content-Type: multipart/report; report-type=${reportType}; boundary=b`,
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'human text',
      '--b',
      part,
      '--b--',
      '',
    ].join('\r\n'),
  );

test('reports: base64 delivery status, global delivery status, and reports missing their machine-readable part', async () => {
  const status = Buffer.from('Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; x@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n').toString('base64');
  const encoded = await readFeedback(report('delivery-status', `Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n${status}\r\n`));
  assert.equal(encoded.kind, 'delivery-status');
  assert.deepEqual(encoded.kind === 'delivery-status' && encoded.report.recipients.map((recipient) => recipient.finalRecipient), ['x@example.net']);
  const global = await readFeedback(report('global-delivery-status', 'Content-Type: message/global-delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: utf-8; x@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n'));
  assert.equal(global.kind, 'delivery-status');
  assert.deepEqual(await readFeedback(report('delivery-status', 'Content-Type: text/plain\r\n\r\nno status here\r\n')), { kind: 'unreadable', reason: 'delivery status notification without a message/delivery-status part' });
  assert.deepEqual(await readFeedback(report('feedback-report', 'Content-Type: text/plain\r\n\r\nno report here\r\n')), { kind: 'unreadable', reason: 'feedback report without a message/feedback-report part' });
  assert.deepEqual(await readFeedback(report('delivery-status', 'Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n')), { kind: 'unreadable', reason: 'delivery status notification without a recipient' });
});

test('automatic replies: RFC 3834 and older markers and subjects; Auto-Submitted: no and ordinary mail are not', async () => {
  const kind = async (headers: string[]) => (await readFeedback(Buffer.from([...headers, '', 'text', ''].join('\r\n')))).kind;
  assert.equal(await kind(['Subject: Re: your offer', 'Auto-Submitted: auto-replied']), 'automatic-reply');
  assert.equal(await kind(['Subject: Automatic reply: your offer']), 'automatic-reply');
  assert.equal(await kind(['Subject: Out of office until Monday']), 'automatic-reply');
  assert.equal(await kind(['Subject: Re: your offer', 'Precedence: auto_reply']), 'automatic-reply');
  assert.equal(await kind(['Subject: Re: your offer', 'Auto-Submitted: no']), 'unreadable');
  assert.equal(await kind(['Subject: Re: your offer']), 'unreadable');
  assert.equal(await kind(['Subject: about being out of office']), 'unreadable', 'only a subject that starts so');
});

test('a field repeated throughout a report keeps every value, in order, read in one pass', () => {
  // 60,000 repeats fill a report part at its 256 KB cap; copying the list for each repeat held a parser thread for minutes.
  const repeats = 60_000;
  const text = Array.from({ length: repeats }, (_, index) => `X-R: ${index}`).join('\r\n');
  const [block] = readFieldBlocks(text);
  const values = block!.get('x-r')!;
  assert.equal(values.length, repeats);
  assert.equal(values[0], '0');
  assert.equal(values.at(-1), String(repeats - 1));
});

test('free-text fields are kept to 2,048 characters, saying how long they were', () => {
  const long = `smtp; 550 5.1.1 ${'x'.repeat(200_000)}`;
  const text = ['Reporting-MTA: dns; mx.example.net', '', 'Final-Recipient: rfc822; jane@example.net', 'Action: failed', 'Status: 5.1.1', `Diagnostic-Code: ${long}`].join('\r\n');
  const [recipient] = parseDeliveryStatus(text)!.recipients;
  assert.equal(recipient!.diagnosticCode, `${long.slice(0, 2048)}... (${long.length} characters in all)`);
  const agent = 'A'.repeat(100_000);
  assert.equal(parseAbuseReport(`Feedback-Type: abuse\r\nUser-Agent: ${agent}\r\nVersion: 1\r\n`).userAgent, `${agent.slice(0, 2048)}... (100000 characters in all)`);
});
