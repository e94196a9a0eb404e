/** Feedback messages as MTAs and ISPs send them (CRLF line endings), for intake tests. */

export interface DsnRecipient {
  final: string;
  original?: string;
  action: string;
  status: string;
  /** Written as given, e.g. `smtp; 550 5.1.1 ...`; a value with "\r\n    " is folded. */
  diagnostic?: string;
  remoteMta?: string;
}

export interface DsnOptions {
  returnPath: string;
  recipients: DsnRecipient[];
  reportingMta?: string;
  messageId?: string;
  date?: string;
  originalMessageId?: string;
}

const crlf = (lines: string[]) => lines.join('\r\n');

/** An RFC 3464 DSN in Postfix's layout: text part, message/delivery-status, text/rfc822-headers. */
export function dsnText(options: DsnOptions): string {
  const recipientBlocks = options.recipients.map((recipient) =>
    crlf([
      `Final-Recipient: rfc822; ${recipient.final}`,
      ...(recipient.original ? [`Original-Recipient: rfc822;${recipient.original}`] : []),
      `Action: ${recipient.action}`,
      `Status: ${recipient.status}`,
      ...(recipient.remoteMta ? [`Remote-MTA: ${recipient.remoteMta}`] : []),
      ...(recipient.diagnostic ? [`Diagnostic-Code: ${recipient.diagnostic}`] : []),
    ]),
  );
  return crlf([
    'From: MAILER-DAEMON@mx.alpha.test (Mail Delivery System)',
    `To: ${options.returnPath}`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${options.date ?? 'Tue, 02 Dec 2025 10:00:00 +0000'}`,
    ...(options.messageId ? [`Message-ID: ${options.messageId}`] : []),
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status;',
    '\tboundary="ABC123/mx.alpha.test"',
    '',
    'This is a MIME-encapsulated message.',
    '',
    '--ABC123/mx.alpha.test',
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'I\'m sorry to have to inform you that your message could not be delivered.',
    '',
    '--ABC123/mx.alpha.test',
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: ${options.reportingMta ?? 'dns; mx.alpha.test'}`,
    'X-Postfix-Queue-ID: 4ABCDEF',
    'Arrival-Date: Tue,  2 Dec 2025 09:59:58 +0000 (UTC)',
    '',
    recipientBlocks.join('\r\n\r\n'),
    '',
    '--ABC123/mx.alpha.test',
    'Content-Description: Undelivered Message Headers',
    'Content-Type: text/rfc822-headers',
    '',
    `Message-ID: ${options.originalMessageId ?? '<original@relaygate.test>'}`,
    'Subject: relaygate test',
    '',
    '--ABC123/mx.alpha.test--',
    '',
  ]);
}

export interface ArfOptions {
  returnPath: string;
  feedbackType?: string;
  userAgent?: string;
  arrivalDate?: string;
  originalRcptTo?: string[];
  /** Header lines of the returned message. */
  originalHeaders: string[];
  messageId?: string;
  date?: string;
}

/** An RFC 5965 abuse report with the returned message. */
export function arfText(options: ArfOptions): string {
  return crlf([
    'From: Feedback Loop <fbl@isp.test>',
    `To: ${options.returnPath}`,
    'Subject: FW: relaygate test',
    `Date: ${options.date ?? 'Wed, 03 Dec 2025 08:00:00 +0000'}`,
    ...(options.messageId ? [`Message-ID: ${options.messageId}`] : []),
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="part1_13d.2e68ed54_boundary"',
    '',
    '--part1_13d.2e68ed54_boundary',
    'Content-Type: text/plain; charset="US-ASCII"',
    'Content-Transfer-Encoding: 7bit',
    '',
    'This is an email abuse report for an email message received from IP 127.0.0.1.',
    '',
    '--part1_13d.2e68ed54_boundary',
    'Content-Type: message/feedback-report',
    '',
    `Feedback-Type: ${options.feedbackType ?? 'abuse'}`,
    `User-Agent: ${options.userAgent ?? 'ExampleCorp Feedback Loop (V0.01)'}`,
    'Version: 1',
    ...(options.arrivalDate ? [`Arrival-Date: ${options.arrivalDate}`] : []),
    'Source-IP: 127.0.0.1',
    ...(options.originalRcptTo ?? []).map((address) => `Original-Rcpt-To: ${address}`),
    'Reported-Domain: example.com',
    '',
    '--part1_13d.2e68ed54_boundary',
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
    ...options.originalHeaders,
    '',
    'Hello from the test suite.',
    '',
    '--part1_13d.2e68ed54_boundary--',
    '',
  ]);
}

/** An out-of-office reply as RFC 3834 describes it. */
export function autoReplyText(returnPath: string, headers: string[] = ['Auto-Submitted: auto-replied']): string {
  return crlf([
    'From: Jane <jane@alpha.test>',
    `To: ${returnPath}`,
    'Subject: Out of Office: relaygate test',
    'Date: Wed, 03 Dec 2025 09:00:00 +0000',
    ...headers,
    '',
    'I am out of the office until Monday.',
    '',
  ]);
}
