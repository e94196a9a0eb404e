import test from 'node:test';
import assert from 'node:assert/strict';
import { parseSmtpReply } from '../../../src/delivery/bounce/smtp-reply.js';

test('a single-line reply splits into code, enhanced code and text', () => {
  assert.deepEqual(parseSmtpReply('550 5.1.1 <jane@example.com>: User unknown'), { code: 550, enhancedCode: '5.1.1', text: '<jane@example.com>: User unknown' });
});

test('multi-line replies join their text without the repeated codes', () => {
  const reply = '550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the address.\r\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser - gsmtp';
  assert.deepEqual(parseSmtpReply(reply), {
    code: 550,
    enhancedCode: '5.1.1',
    text: 'The email account that you tried to reach does not exist. Please try double-checking the address. https://support.google.com/mail/?p=NoSuchUser - gsmtp',
  });
});

test('bare LF line ends and lines without an enhanced code are handled', () => {
  assert.deepEqual(parseSmtpReply('550-Verification failed for <a@b.example>\n550 Sender verify failed'), { code: 550, enhancedCode: null, text: 'Verification failed for <a@b.example> Sender verify failed' });
});

test('a DSN Diagnostic-Code type prefix is dropped', () => {
  assert.deepEqual(parseSmtpReply('smtp; 550 5.1.1 user unknown'), { code: 550, enhancedCode: '5.1.1', text: 'user unknown' });
  assert.deepEqual(parseSmtpReply('X-Postfix; unknown user'), { code: null, enhancedCode: null, text: 'unknown user' });
});

test('text without any SMTP code is kept whole', () => {
  assert.deepEqual(parseSmtpReply('connect ETIMEDOUT 192.0.2.1:25'), { code: null, enhancedCode: null, text: 'connect ETIMEDOUT 192.0.2.1:25' });
  assert.deepEqual(parseSmtpReply('5.2.2 mailbox full'), { code: null, enhancedCode: '5.2.2', text: 'mailbox full' });
});
